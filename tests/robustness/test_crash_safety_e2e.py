"""Kill the server with SIGKILL while a writer is busy, ≥ 20 times; nothing acknowledged is ever lost.

A writer subprocess (tests/support/crash_writer.py) creates agents, sessions, memories and chat
runs (messages, answered by the fake provider) through the API of a real ``qorven serve`` and
journals every write the server acknowledged with a 2xx. At a random moment (fixed seed) the
server gets SIGKILL; then, on the same data root: ``PRAGMA integrity_check`` is ok, every
journaled write is present, and the memory indexes (vec0, the float vectors, FTS5) hold exactly
the rows of ``memories``. The server is restarted and the cycle repeats.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qorven_local.storage.db import connect
from tests.fakes import FakeProvider
from tests.support.servers import REPO, ServeProcess
from tests.support.wait import wait_until

SEED = 4242
KILLS = 20
FAKE_KEY = "sk-crash-0123456789abcdef"


def _configure_chat(srv: ServeProcess, fake: FakeProvider) -> None:
    with srv.client() as api:
        provider = api.post("/v1/providers", json={"name": "fake", "kind": "openai_compatible",
                                                   "base_url": fake.base_url})
        assert provider.status_code == 201, provider.text
        assert api.put(f"/v1/providers/{provider.json()['id']}/keys", json={"key": FAKE_KEY}).status_code == 200
        assert api.put("/v1/models/default", json={"model": "fake/fake-model"}).status_code == 200


def _ids(conn, sql: str, params: tuple = ()) -> set:
    return {row[0] for row in conn.execute(sql, params).fetchall()}


def check_database(db_path: Path, journal: list[dict], memory: bool) -> dict[str, int]:
    """Integrity, every acknowledged write present, memory indexes in step with memories."""
    conn = connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall()[0][0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        agents = _ids(conn, "SELECT id FROM agents")
        sessions = _ids(conn, "SELECT id FROM sessions")
        messages = _ids(conn, "SELECT id FROM messages")
        missing = []
        for record in journal:
            kind = record["kind"]
            if kind == "agent" and record["id"] not in agents:
                missing.append(record)
            elif kind == "session" and record["id"] not in sessions:
                missing.append(record)
            elif kind == "chat":
                users = _ids(conn, "SELECT content FROM messages WHERE session_id = ? AND role = 'user'",
                             (record["session_id"],))
                if record["message_id"] not in messages or record["text"] not in users:
                    missing.append(record)
        counts = {"agents": len(agents), "sessions": len(sessions), "messages": len(messages)}
        if memory:
            stored = {row[0]: row[1] for row in conn.execute("SELECT id, seq FROM memories").fetchall()}
            missing += [r for r in journal if r["kind"] == "memory" and r["id"] not in stored]
            rows = set(stored.values())
            vec = _ids(conn, "SELECT memory_rowid FROM memory_vec")
            vectors = _ids(conn, "SELECT memory_rowid FROM memory_vectors")
            fts = _ids(conn, "SELECT rowid FROM memory_fts")
            assert vec == rows, f"vec0 and memories disagree: {len(vec ^ rows)} rowids"
            assert vectors == rows, f"float vectors and memories disagree: {len(vectors ^ rows)} rowids"
            assert fts == rows, f"FTS5 and memories disagree: {len(fts ^ rows)} rowids"
            conn.execute("INSERT INTO memory_fts(memory_fts) VALUES ('integrity-check')")
            for record in journal:
                if record["kind"] == "memory":   # the keyword index finds each by its unique token
                    token = record["content"].split()[0]
                    hit = conn.execute("SELECT rowid FROM memory_fts WHERE memory_fts MATCH ?", (token,)).fetchall()
                    assert [h[0] for h in hit] == [stored[record["id"]]], (token, hit)
            counts["memories"] = len(rows)
        assert not missing, f"{len(missing)} acknowledged writes were lost, e.g. {missing[:3]}"
        return counts
    finally:
        conn.close()


def _read_journal(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_never_loses_an_acknowledged_write(tmp_path):
    rng = random.Random(SEED)
    home = tmp_path / "home"
    journal_path = tmp_path / "journal.jsonl"
    kills = 0
    figures = []
    with FakeProvider(api_key=FAKE_KEY) as fake:
        srv = ServeProcess(home).start(timeout=60)
        try:
            with srv.client() as api:
                paths = api.get("/openapi.json").json()["paths"]
            memory = "/v1/memory/save" in paths
            chat = "/v1/chat/completions" in paths
            if chat:
                _configure_chat(srv, fake)
            flags = (["--memory"] if memory else []) + (["--chat"] if chat else [])
            for cycle in range(KILLS):
                writer = subprocess.Popen(
                    [sys.executable, "-m", "tests.support.crash_writer", srv.url, srv.admin_token,
                     str(journal_path), str(SEED * 100 + cycle), *flags],
                    cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                # kill at a random point: after 1-6 acknowledged writes of this cycle (the writer cycles
                # agent, session, memory, memory, chat), plus a random slice of the next write
                target = len(_read_journal(journal_path)) + rng.randint(1, 6)
                wait_until(lambda: len(_read_journal(journal_path)) >= target or writer.poll() is not None,
                           timeout=60, message="the writer acknowledged too few writes")
                time.sleep(rng.uniform(0.0, 0.4))  # a random time on purpose: where the kill lands
                srv.proc.send_signal(signal.SIGKILL)
                srv.proc.wait(30)
                kills += 1
                _, err = writer.communicate(timeout=60)
                assert writer.returncode == 0, f"writer failed: {err[-2000:]}"
                journal = _read_journal(journal_path)
                figures.append(check_database(home / "qorven.db", journal, memory))
                srv = ServeProcess(home).start(timeout=60)
            with srv.client() as api:   # alive and serving after the last restart
                assert api.get("/readyz").status_code == 200
                assert api.get("/v1/agents", params={"limit": 200}).status_code == 200
        finally:
            srv.stop(signal.SIGKILL if srv.proc and srv.proc.poll() is None else signal.SIGTERM)
    journal = _read_journal(journal_path)
    written = {kind: sum(1 for r in journal if r["kind"] == kind) for kind in ("agent", "session", "memory", "chat")}
    print(f"survived {kills} SIGKILLs; acknowledged writes {written}; final rows {figures[-1]}")
    assert kills >= 20
    assert written["agent"] >= KILLS and written["session"] >= KILLS
    if memory:
        assert written["memory"] >= KILLS // 2
    if chat:
        assert written["chat"] >= KILLS // 4
