"""The database is opened as promised: WAL, FULL sync, foreign keys, sqlite-vec, migrations recorded."""

from __future__ import annotations

import threading
import time

import pytest

from qorven_local.storage.db import Database, DatabaseClosed
from qorven_local.storage.migrations import applied_migrations, discover, migrate, pending_migrations


def test_pragmas_and_extensions(tmp_path):
    db = Database(tmp_path / "q.db")
    try:
        with db.read() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
            assert conn.execute("select vec_version()").fetchone()[0].startswith("v")
            assert conn.execute("select sqlite_compileoption_used('ENABLE_FTS5')").fetchone()[0] == 1
        db.quick_check()
    finally:
        db.close()


def test_migrations_run_once_in_order(tmp_path):
    db = Database(tmp_path / "q.db")
    try:
        names = [n for n, _ in discover()]
        assert names == sorted(names) and names[0] == "m001_core"
        assert migrate(db, "t0") == names
        assert migrate(db, "t1") == []
        assert applied_migrations(db) == names and pending_migrations(db) == []
    finally:
        db.close()


def test_failed_write_rolls_back_every_row(tmp_path):
    db = Database(tmp_path / "q.db")
    try:
        migrate(db, "t0")
        try:
            with db.write() as conn:
                conn.execute("INSERT INTO tenants (id, created_at) VALUES ('a', 'now')")
                conn.execute("INSERT INTO tenants (id, created_at) VALUES ('a', 'now')")  # duplicate
        except Exception:
            pass
        assert db.query_one("SELECT count(*) FROM tenants")[0] == 0
    finally:
        db.close()


def test_concurrent_writers_from_many_threads(tmp_path):
    db = Database(tmp_path / "q.db")
    migrate(db, "t0")
    errors = []

    def writer(n):
        try:
            for i in range(50):
                with db.write() as conn:
                    conn.execute("INSERT INTO tenants (id, created_at) VALUES (?, 'now')", (f"t{n}-{i}",))
                    conn.execute("INSERT INTO tenant_settings (tenant_id, key, value, updated_at) "
                                 "VALUES (?, 'k', '1', 'now')", (f"t{n}-{i}",))
                assert db.query_one("SELECT count(*) FROM tenants WHERE id = ?", (f"t{n}-{i}",))[0] == 1
        except Exception as exc:  # collected: an assertion in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert db.query_one("SELECT count(*) FROM tenants")[0] == 800
        assert db.query_one("SELECT count(*) FROM tenant_settings")[0] == 800
        assert db.integrity_check() == ["ok"]
    finally:
        db.close()


def test_closing_while_other_threads_read_and_write_waits_for_them_and_then_refuses(tmp_path):
    # Shutdown closes the database while runs may still be finishing; closing a connection under
    # a stepping statement crashed the whole process (a segfault, not an exception).
    db = Database(tmp_path / "q.db")
    with db.write() as conn:
        conn.execute("CREATE TABLE t (n INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(20_000)])
    outcomes: list[str] = []
    started = threading.Barrier(5)

    def reader() -> None:
        started.wait()
        try:
            while True:  # slow queries: a cross join keeps each statement stepping for a while
                db.query_one("SELECT count(*) FROM t a JOIN (SELECT n FROM t LIMIT 40) b ON a.n % 7 = b.n % 7")
        except DatabaseClosed:
            outcomes.append("closed")

    def writer() -> None:
        started.wait()
        try:
            while True:
                with db.write() as conn:
                    conn.execute("INSERT INTO t VALUES (1)")
                    conn.execute("DELETE FROM t WHERE rowid = (SELECT max(rowid) FROM t)")
        except DatabaseClosed:
            outcomes.append("closed")

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.3)  # a fixed time on purpose: the close must land while statements are stepping
    db.close()
    for t in threads:
        t.join(timeout=30)
    assert outcomes == ["closed"] * 4  # every thread stopped on the clean error, none crashed
    with pytest.raises(DatabaseClosed):
        db.query("SELECT 1")
    with pytest.raises(DatabaseClosed):
        with db.write():
            pass
    # Nothing half-written: the file opens again with every original row.
    again = Database(tmp_path / "q.db")
    try:
        assert again.query_one("SELECT count(*) FROM t")[0] == 20_000
    finally:
        again.close()
