"""``transform_table`` reshapes a table inside a migration's transaction, on the app's own connection."""

from __future__ import annotations

import pytest

from qorven_local.storage import migrations
from qorven_local.storage.db import Database
from qorven_local.storage.migrations import applied_migrations, migrate, transform_table


def _create_notes(conn) -> None:
    conn.execute("CREATE TABLE test_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, stars TEXT, scratch TEXT)")
    conn.execute("CREATE INDEX test_notes_stars ON test_notes (stars)")
    conn.executemany("INSERT INTO test_notes (id, body, stars, scratch) VALUES (?, ?, ?, ?)",
                     [(1, "first", "3", "x"), (2, "second", "5", "y")])


def reshape_notes(conn) -> None:
    """A test-only migration: body becomes text, stars an INTEGER, scratch goes."""
    _create_notes(conn)
    transform_table(conn, "test_notes", rename={"body": "text"}, types={"stars": int}, drop={"scratch"})


def reshape_then_fail(conn) -> None:
    reshape_notes(conn)
    raise RuntimeError("the migration fails after the reshape")


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "q.db")
    migrate(database, "t0")
    yield database
    database.close()


def _with_test_migration(monkeypatch, name, migration) -> None:
    shipped = migrations.discover()
    monkeypatch.setattr(migrations, "discover", lambda: [*shipped, (name, migration)])


def test_a_migration_reshapes_a_table_and_keeps_its_rows_and_indexes(db, monkeypatch):
    _with_test_migration(monkeypatch, "m900_test_reshape", reshape_notes)
    assert migrate(db, "t1") == ["m900_test_reshape"]
    with db.read() as conn:
        columns = [(r["name"], r["type"]) for r in conn.execute("PRAGMA table_info(test_notes)")]
        assert columns == [("id", "INTEGER"), ("text", "TEXT"), ("stars", "INTEGER")]
        assert [tuple(r) for r in conn.execute("SELECT id, text, stars FROM test_notes ORDER BY id")] == \
            [(1, "first", 3), (2, "second", 5)]
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'test_notes_stars'").fetchone()
    assert applied_migrations(db)[-1] == "m900_test_reshape"
    # Wrapping the writer in sqlite-utils changed none of its settings.
    with db.write() as conn:
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA recursive_triggers").fetchone()[0] == 0
        assert conn.execute("PRAGMA defer_foreign_keys").fetchone()[0] == 0


def test_a_failing_migration_rolls_back_the_reshape_too(db, monkeypatch):
    _with_test_migration(monkeypatch, "m900_test_reshape", reshape_then_fail)
    with pytest.raises(RuntimeError, match="fails after the reshape"):
        migrate(db, "t1")
    # sqlite-utils worked in a SAVEPOINT of the migration's transaction and committed nothing itself.
    assert db.query_one("SELECT 1 FROM sqlite_master WHERE name LIKE 'test_notes%'") is None
    assert "m900_test_reshape" not in applied_migrations(db)
    with db.write() as conn:
        conn.execute("SELECT 1").fetchone()  # the writer is usable: no transaction was left open


def test_a_table_others_delete_with_cascade_is_refused(db):
    with pytest.raises(Exception, match="ON DELETE"):
        with db.write() as conn:
            conn.execute("CREATE TABLE test_parents (id INTEGER PRIMARY KEY, label TEXT)")
            conn.execute("CREATE TABLE test_children (id INTEGER PRIMARY KEY, "
                         "parent_id INTEGER REFERENCES test_parents(id) ON DELETE CASCADE)")
            conn.execute("INSERT INTO test_parents VALUES (1, 'p')")
            conn.execute("INSERT INTO test_children VALUES (1, 1)")
            transform_table(conn, "test_parents", types={"label": int})
    assert db.query_one("SELECT 1 FROM sqlite_master WHERE name = 'test_parents'") is None
