"""API tokens, stored as SHA-256 hashes only."""

from __future__ import annotations

from typing import Any, Collection

from qorven_local.models import Page
from qorven_local.security.types import TokenInfo
from qorven_local.storage.db import Database, Row
from qorven_local.storage.paging import fetch_page

# A token works while none of these holds (``?`` is now).
DEAD = ("(revoked_at IS NOT NULL OR (revoke_after IS NOT NULL AND revoke_after <= ?) "
        "OR (expires_at IS NOT NULL AND expires_at <= ?))")


def row_to_info(row: Row) -> TokenInfo:
    return TokenInfo(id=row["id"], tenant_id=row["tenant_id"], scope=row["scope"], label=row["label"],
                     hint=row["hint"], kind=row["kind"], created_at=row["created_at"],
                     last_used_at=row["last_used_at"], revoked_at=row["revoked_at"],
                     revoke_after=row["revoke_after"], expires_at=row["expires_at"])


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, conn: Any, *, token_id: str, tenant_id: str, token_hash: str, scope: str,
               label: str | None, hint: str, now: str, kind: str = "api", expires_at: str | None = None) -> None:
        conn.execute(
            "INSERT INTO tokens (id, tenant_id, token_hash, scope, label, hint, created_at, kind, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (token_id, tenant_id, token_hash, scope, label, hint, now, kind, expires_at))

    def find_by_hash(self, token_hash: str) -> Any:
        return self.db.query_one("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))

    def get(self, token_id: str) -> Any:
        return self.db.query_one("SELECT * FROM tokens WHERE id = ?", (token_id,))

    def count(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM tokens"))

    def live_admin_tokens(self, conn: Any, tenant_id: str, now: str) -> list[Any]:
        return conn.execute(
            f"SELECT * FROM tokens WHERE tenant_id = ? AND scope = 'admin' AND NOT {DEAD}",
            (tenant_id, now, now)).fetchall()

    def dead_among(self, token_ids: Collection[str], now: str) -> set[str]:
        """Those of ``token_ids`` that no longer work (revoked, past their grace or expiry, or gone)."""
        ids = list(token_ids)
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        live = self.db.query(f"SELECT id FROM tokens WHERE id IN ({marks}) AND NOT {DEAD}", (*ids, now, now))
        return set(ids) - {r["id"] for r in live}

    def schedule_revoke(self, conn: Any, token_id: str, at: str, now: str) -> None:
        """Revoke now (at <= now) or at a later moment (a grace period for rotation).

        A revocation already scheduled is never postponed: a later rotation can only bring it closer.
        """
        if at <= now:
            conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id))
        else:
            conn.execute("UPDATE tokens SET revoke_after = ? WHERE id = ? AND (revoke_after IS NULL "
                         "OR revoke_after > ?)", (at, token_id, at))

    def revoke(self, token_id: str, now: str) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id))

    def touch(self, token_id: str, now: str) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, token_id))

    def list_for_tenant(self, tenant_id: str) -> list[TokenInfo]:
        """Every token of the tenant, newest first."""
        return [row_to_info(r) for r in self.db.query("SELECT * FROM tokens WHERE tenant_id = ? ORDER BY rowid DESC",
                                                      (tenant_id,))]

    def page(self, tenant_id: str, *, limit: int | None, cursor: str | None) -> Page:
        """The tenant's tokens, newest first."""
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM tokens", ["tenant_id = ?"], [tenant_id],
                              limit=limit, cursor=cursor, newest_first=True, build=row_to_info)

    def extend(self, token_ids: Collection[str], expires_at: str) -> None:
        """Push live tokens' expiry to ``expires_at`` (a running launch keeps its tokens alive)."""
        ids = list(token_ids)
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        with self.db.write() as conn:
            conn.execute(f"UPDATE tokens SET expires_at = ? WHERE id IN ({marks}) AND revoked_at IS NULL",
                         (expires_at, *ids))

    def revoke_kind(self, kind: str, now: str) -> int:
        """Revoke every live token of a kind; how many."""
        with self.db.write() as conn:
            cur = conn.execute("UPDATE tokens SET revoked_at = ? WHERE kind = ? AND revoked_at IS NULL", (now, kind))
            return int(cur.rowcount)
