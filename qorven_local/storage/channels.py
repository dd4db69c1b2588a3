"""Channel bindings, their secrets (ciphertext only), seen event ids and channel jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qorven_local.channels.types import Binding, ChannelJob
from qorven_local.models import Page
from qorven_local.storage.db import Database, dumps, loads
from qorven_local.storage.paging import fetch_page
from qorven_local.storage.rows import from_row, insert_row

if TYPE_CHECKING:
    import sqlean

CURRENT, PREVIOUS = 0, 1
OPEN_STATUSES = ("queued", "running", "pending", "sending")


def row_to_binding(row: sqlean.Row, secrets_set: tuple[str, ...] = ()) -> Binding:
    return from_row(Binding, row, enabled=bool(row["enabled"]), config=loads(row["config"], {}),
                    routing=loads(row["routing"], {}), secrets_set=secrets_set)


def row_to_job(row: sqlean.Row) -> ChannelJob:
    return from_row(ChannelJob, row, inbound=loads(row["inbound"], {}))


class BindingStore:
    """Channel bindings, their secrets' ciphertexts, seen event ids and per-binding counters."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # bindings ------------------------------------------------------------------------------
    def _secret_names(self, conn: sqlean.Connection, binding_id: str) -> tuple[str, ...]:
        rows = conn.execute("SELECT name FROM channel_secrets WHERE binding_id = ? AND slot = ? ORDER BY name",
                            (binding_id, CURRENT)).fetchall()
        return tuple(r["name"] for r in rows)

    def _build(self, conn: sqlean.Connection, row: sqlean.Row) -> Binding:
        return row_to_binding(row, self._secret_names(conn, row["id"]))

    def insert(self, conn: sqlean.Connection, b: Binding) -> None:
        insert_row(conn, "channel_bindings", {
            "id": b.id, "tenant_id": b.tenant_id, "kind": b.kind, "name": b.name, "agent_id": b.agent_id,
            "enabled": int(b.enabled), "config": dumps(b.config), "routing": dumps(b.routing),
            "created_at": b.created_at, "updated_at": b.updated_at})

    def update(self, conn: sqlean.Connection, b: Binding) -> None:
        conn.execute("UPDATE channel_bindings SET name = ?, agent_id = ?, enabled = ?, config = ?, routing = ?, "
                     "updated_at = ? WHERE id = ? AND tenant_id = ?",
                     (b.name, b.agent_id, int(b.enabled), dumps(b.config), dumps(b.routing), b.updated_at,
                      b.id, b.tenant_id))

    def delete(self, conn: sqlean.Connection, tenant_id: str, binding_id: str) -> None:
        conn.execute("DELETE FROM channel_events WHERE binding_id = ?", (binding_id,))
        conn.execute("DELETE FROM channel_bindings WHERE id = ? AND tenant_id = ?", (binding_id, tenant_id))

    def get(self, tenant_id: str, binding_id: str) -> Binding | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM channel_bindings WHERE tenant_id = ? AND id = ?",
                               (tenant_id, binding_id)).fetchone()
            return self._build(conn, row) if row else None

    def get_any_tenant(self, binding_id: str) -> Binding | None:
        """A binding by id alone: the public webhook route knows no tenant before it verifies."""
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM channel_bindings WHERE id = ?", (binding_id,)).fetchone()
            return self._build(conn, row) if row else None

    def by_kind_any_tenant(self, kind: str, limit: int = 2) -> list[Binding]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM channel_bindings WHERE kind = ? ORDER BY rowid LIMIT ?",
                                (kind, limit)).fetchall()
            return [self._build(conn, r) for r in rows]

    def by_kind(self, tenant_id: str, kind: str, limit: int = 2) -> list[Binding]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM channel_bindings WHERE tenant_id = ? AND kind = ? ORDER BY rowid "
                                "LIMIT ?", (tenant_id, kind, limit)).fetchall()
            return [self._build(conn, r) for r in rows]

    def list_all(self, tenant_id: str) -> list[Binding]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM channel_bindings WHERE tenant_id = ? ORDER BY rowid",
                                (tenant_id,)).fetchall()
            return [self._build(conn, r) for r in rows]

    def page(self, tenant_id: str, *, kind: str | None, limit: int | None, cursor: str | None) -> Page:
        where, args = ["tenant_id = ?"], [tenant_id]
        if kind:
            where.append("kind = ?")
            args.append(kind)
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM channel_bindings", where, args, limit=limit,
                              cursor=cursor, newest_first=True, build=lambda r: self._build(conn, r))

    # counters -------------------------------------------------------------------------------
    def count_rejected(self, binding_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE channel_bindings SET rejected_count = rejected_count + 1 WHERE id = ?",
                         (binding_id,))

    def count_inbound(self, conn: sqlean.Connection, binding_id: str, now: str) -> None:
        conn.execute("UPDATE channel_bindings SET inbound_count = inbound_count + 1, last_inbound_at = ? "
                     "WHERE id = ?", (now, binding_id))

    def set_error(self, conn: sqlean.Connection, binding_id: str, error: str | None) -> None:
        conn.execute("UPDATE channel_bindings SET last_error = ? WHERE id = ?", (error, binding_id))

    # secrets (ciphertext only) -----------------------------------------------------------------
    def put_secret(self, conn: sqlean.Connection, binding_id: str, name: str, ciphertext: str, now: str, *,
                   keep_previous: bool) -> None:
        """Store a new current value; the old current becomes the previous one, or is dropped."""
        conn.execute("DELETE FROM channel_secrets WHERE binding_id = ? AND name = ? AND slot = ?",
                     (binding_id, name, PREVIOUS))
        if keep_previous:
            conn.execute("UPDATE channel_secrets SET slot = ? WHERE binding_id = ? AND name = ? AND slot = ?",
                         (PREVIOUS, binding_id, name, CURRENT))
        else:
            conn.execute("DELETE FROM channel_secrets WHERE binding_id = ? AND name = ?", (binding_id, name))
        conn.execute("INSERT INTO channel_secrets (binding_id, name, slot, ciphertext, set_at) VALUES (?,?,?,?,?)",
                     (binding_id, name, CURRENT, ciphertext, now))

    def delete_secret(self, conn: sqlean.Connection, binding_id: str, name: str) -> None:
        conn.execute("DELETE FROM channel_secrets WHERE binding_id = ? AND name = ?", (binding_id, name))

    def secret_ciphertexts(self, binding_id: str, name: str) -> list[str]:
        """Current first, then previous."""
        rows = self.db.query("SELECT ciphertext FROM channel_secrets WHERE binding_id = ? AND name = ? "
                             "ORDER BY slot", (binding_id, name))
        return [r["ciphertext"] for r in rows]

    # replay guard ----------------------------------------------------------------------------
    def remember_event(self, conn: sqlean.Connection, binding_id: str, event_id: str, now_ts: float) -> bool:
        """Record an event id or a signed-bytes digest; False if it was already there (a replay)."""
        cur = conn.execute("INSERT OR IGNORE INTO channel_events (binding_id, event_id, received_ts) "
                           "VALUES (?,?,?)", (binding_id, event_id, now_ts))
        return cur.rowcount == 1

    def prune_events(self, before_ts: float) -> int:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM channel_events WHERE received_ts < ?", (before_ts,)).rowcount

    # status ----------------------------------------------------------------------------------
    def open_jobs_by_binding(self, tenant_id: str) -> dict[str, int]:
        marks = ",".join("?" * len(OPEN_STATUSES))
        rows = self.db.query(f"SELECT binding_id, count(*) AS n FROM channel_jobs WHERE tenant_id = ? AND status IN "
                             f"({marks}) GROUP BY binding_id", (tenant_id, *OPEN_STATUSES))
        return {r["binding_id"]: r["n"] for r in rows}

    # sessions of non-chat-family channels, found again by peer ---------------------------------
    def latest_active_session(self, conn: sqlean.Connection, tenant_id: str, agent_id: str, channel: str, peer: str) -> str | None:
        row = conn.execute("SELECT id FROM sessions WHERE tenant_id = ? AND agent_id = ? AND channel = ? AND "
                           "peer = ? AND status = 'active' ORDER BY rowid DESC LIMIT 1",
                           (tenant_id, agent_id, channel, peer)).fetchone()
        return row["id"] if row else None


class JobStore:
    """Channel jobs: the run queue and the reply outbox in one table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, conn: sqlean.Connection, job: ChannelJob) -> None:
        insert_row(conn, "channel_jobs", {
            "id": job.id, "tenant_id": job.tenant_id, "binding_id": job.binding_id, "agent_id": job.agent_id,
            "session_id": job.session_id, "channel": job.channel, "inbound": dumps(job.inbound),
            "status": job.status, "attempts": job.attempts, "next_attempt_ts": job.next_attempt_ts,
            "created_at": job.created_at, "updated_at": job.updated_at})

    def get(self, job_id: str) -> ChannelJob | None:
        row = self.db.query_one("SELECT * FROM channel_jobs WHERE id = ?", (job_id,))
        return row_to_job(row) if row else None

    def claim_due(self, now_ts: float, now: str) -> ChannelJob | None:
        """Take the most overdue job that needs work (a run or a delivery) and mark it in progress."""
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM channel_jobs WHERE status IN ('queued', 'pending') AND "
                               "next_attempt_ts <= ? ORDER BY next_attempt_ts, rowid LIMIT 1", (now_ts,)).fetchone()
            if row is None:
                return None
            status = "running" if row["status"] == "queued" else "sending"
            conn.execute("UPDATE channel_jobs SET status = ?, updated_at = ? WHERE id = ?", (status, now, row["id"]))
        job = row_to_job(row)
        job.extra["was"] = job.status
        job.status = status
        return job

    def next_due_ts(self) -> float | None:
        row = self.db.query_one("SELECT min(next_attempt_ts) AS t FROM channel_jobs WHERE status IN "
                                "('queued', 'pending')")
        return row["t"] if row else None

    def update(self, conn: sqlean.Connection, job_id: str, now: str, **fields: object) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE channel_jobs SET {sets}, updated_at = ? WHERE id = ?", (*fields.values(), now, job_id))

    def recover_interrupted(self, now_ts: float, now: str) -> None:
        """After a restart: a run that was in progress is not repeated (its messages may be stored);
        a delivery that was in progress is retried (a duplicate reply beats a lost one)."""
        with self.db.write() as conn:
            conn.execute("UPDATE channel_jobs SET status = 'failed', last_error = ?, updated_at = ? "
                         "WHERE status = 'running'", ("the agent run was interrupted by a restart", now))
            conn.execute("UPDATE channel_jobs SET status = 'pending', next_attempt_ts = ?, updated_at = ? "
                         "WHERE status = 'sending'", (now_ts, now))

    def page(self, tenant_id: str, binding_id: str, *, limit: int | None, cursor: str | None) -> Page:
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM channel_jobs", ["tenant_id = ?", "binding_id = ?"],
                              [tenant_id, binding_id], limit=limit, cursor=cursor, newest_first=True,
                              build=row_to_job)
