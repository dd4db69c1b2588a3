"""``qorven db backup`` under write load, and ``qorven db check``."""

from __future__ import annotations

import subprocess
import sys
import threading

import sqlean

from qorven_local.bootstrap import build_context
from qorven_local.config import load_config
from qorven_local.storage.db import connect
from tests.cli.conftest import run_qorven
from tests.support.servers import REPO
from tests.support.wait import wait_until

ROWS_BEFORE = 6000  # ~12 MB of 2 KB rows: the backup takes many 256-page steps


def make_home(tmp_path):
    config = load_config({"home": str(tmp_path / "home")}, env={})
    ctx = build_context(config)
    ctx.db.close()
    conn = connect(config.db_path)
    conn.execute("CREATE TABLE load_rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO load_rows (id, payload) VALUES (?, randomblob(2000))",
                     [(i,) for i in range(1, ROWS_BEFORE + 1)])
    conn.execute("COMMIT")
    conn.close()
    return config


class Writer(threading.Thread):
    """Commits one row at a time, as fast as it can, recording each committed id."""

    def __init__(self, path) -> None:
        super().__init__(daemon=True)
        self.conn = connect(path)
        self.next_id = ROWS_BEFORE + 1
        self.committed = ROWS_BEFORE
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("INSERT INTO load_rows (id, payload) VALUES (?, randomblob(2000))", (self.next_id,))
            self.conn.execute("COMMIT")
            self.committed = self.next_id
            self.next_id += 1
        self.conn.close()


def test_backup_under_write_load_holds_every_row_committed_before_it_began(tmp_path):
    config = make_home(tmp_path)
    writer = Writer(config.db_path)
    writer.start()
    try:
        wait_until(lambda: writer.committed >= ROWS_BEFORE + 50, timeout=60, interval=0.01,
                   message="the write load never got going")  # the load is really running
        committed_before = writer.committed
        proc = subprocess.Popen([sys.executable, "-m", "qorven_local.cli.main", "db", "backup",
                                 str(tmp_path / "copy.db"), "--home", str(config.home)],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = proc.communicate(timeout=120)
        committed_during = writer.committed - committed_before
    finally:
        writer.stop.set()
        writer.join(10)
    assert proc.returncode == 0, err
    assert "integrity ok" in out and "backup:" in err  # the progress summary (stderr is not a terminal)
    assert committed_during > 0  # writes went on while the backup ran: it did not block them
    copy = sqlean.connect(str(tmp_path / "copy.db"))
    assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    ids = {r[0] for r in copy.execute("SELECT id FROM load_rows")}
    assert set(range(1, committed_before + 1)) <= ids
    assert ids == set(range(1, max(ids) + 1))  # one consistent snapshot: no holes
    assert copy.execute("SELECT count(*) FROM _migrations").fetchone()[0] >= 1
    copy.close()
    assert not (tmp_path / "copy.db.partial").exists()


def test_backup_refuses_to_overwrite_without_force(tmp_path):
    config = make_home(tmp_path)
    target = tmp_path / "copy.db"
    target.write_text("keep me")
    out = run_qorven("db", "backup", str(target), "--home", str(config.home))
    assert out.returncode == 2 and "exists" in out.stderr and target.read_text() == "keep me"
    assert run_qorven("db", "backup", str(target), "--force", "--home", str(config.home)).returncode == 0


def test_check_passes_on_a_sound_database_and_fails_on_a_broken_index(tmp_path):
    config = make_home(tmp_path)
    conn = connect(config.db_path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id')")
    conn.execute("INSERT INTO notes (id, body) VALUES (1, 'alpha beta')")
    conn.execute("INSERT INTO notes_fts (rowid, body) VALUES (1, 'alpha beta')")
    conn.close()
    ok = run_qorven("db", "check", "--home", str(config.home))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok   integrity_check" in ok.stdout and "ok   fts5 notes_fts" in ok.stdout
    conn = connect(config.db_path)
    conn.execute("UPDATE notes SET body = 'gamma' WHERE id = 1")  # the index no longer matches its content
    conn.close()
    broken = run_qorven("db", "check", "--home", str(config.home))
    assert broken.returncode == 1 and "FAIL fts5 notes_fts" in broken.stdout


def test_check_finds_a_memory_missing_from_an_index(server):
    from qorven_local.client import Client

    with Client(server.url, server.admin_token) as api:
        for text in ("tea in the morning", "reports on Friday", "the stick is blue"):
            api.memory.save(text, scope="workspace", kind="fact")
    ok = run_qorven("db", "check", "--home", str(server.home))
    assert ok.returncode == 0, ok.stdout
    for index in ("memory_vec", "memory_vectors", "memory_fts"):
        assert f"ok   {index} ~ memories: 3 rows" in ok.stdout
    conn = connect(server.home / "qorven.db")
    conn.execute("DELETE FROM memory_vectors WHERE memory_rowid = (SELECT max(seq) FROM memories)")
    conn.close()
    broken = run_qorven("db", "check", "--home", str(server.home))
    assert broken.returncode == 1 and "FAIL memory_vectors ~ memories: 1 of 3 rows missing" in broken.stdout
