"""Append-only, named schema migrations.

Each migration is a module in this package named ``mNNN_<area>.py`` with a ``migrate(conn)``
function; they run in name order, once each, inside their own transaction, and are recorded in
``_migrations``. Never edit a migration that has shipped: add the next ``mNNN_`` module. One
module per area lets parts of the product add tables without touching each other's files.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable

import sqlean

from qorven_local.storage.db import Database, table_tools


def run_script(conn: sqlean.Connection, script: str) -> None:
    """Execute a multi-statement script statement by statement, inside the caller's transaction.

    ``executescript`` would COMMIT first, breaking the one-transaction-per-migration rule;
    ``complete_statement`` splits correctly even around trigger bodies.
    """
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlean.complete_statement(pending):
            if pending.strip().strip(";").strip():
                conn.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending[:80]!r}")


def transform_table(conn: sqlean.Connection, table: str, **changes: Any) -> None:
    """Reshape a table in the caller's migration transaction: sqlite-utils' ``Table.transform``.

    ``changes`` are its keyword arguments (``types``, ``rename``, ``drop``, ``pk``, ``not_null``,
    ``defaults``, ``column_order``...): it copies the rows into a new table of the new shape, drops
    the old one and renames the new one, keeping the indexes, inside a SAVEPOINT of the migration's
    transaction (never committing it). Foreign keys are checked before it returns; a table that
    others reference with ``ON DELETE`` actions is refused (dropping it would fire them).
    """
    table_tools(conn).table(table).transform(**changes)


def widen_check(conn: sqlean.Connection, table: str, old: str, new: str) -> None:
    """Replace a CHECK constraint ``old`` in ``table``'s SQL by ``new``, which must accept every stored row.

    SQLite cannot alter a CHECK constraint, and rebuilding a table can cascade-delete the rows that
    reference it. Widening a CHECK changes no stored data, so this uses SQLite's documented in-place
    procedure (https://sqlite.org/lang_altertable.html, "making other kinds of table schema
    changes"): rewrite the table's SQL in the schema table and bump schema_version, inside the
    migration's transaction. Already widened: nothing to do.
    """
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    if new in sql:
        return
    if old not in sql:
        raise RuntimeError(f"{table} has an unexpected CHECK constraint; cannot widen it to {new}")
    (version,) = conn.execute("PRAGMA schema_version").fetchone()
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                     (sql.replace(old, new), table))
        conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
    (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    if check != "ok":
        raise RuntimeError(f"integrity check failed after widening a CHECK of {table}: {check}")


def discover() -> list[tuple[str, Callable[[sqlean.Connection], None]]]:
    """(name, migrate) for every ``mNNN_*`` module here, in name order."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name[:1] == "m" and m.name[1:4].isdigit())
    return [(name, importlib.import_module(f"{__name__}.{name}").migrate) for name in names]


def applied_migrations(database: Database) -> list[str]:
    """Names of the migrations recorded in the database, in order applied."""
    with database.read() as conn:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'").fetchone()
        if not exists:
            return []
        return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def pending_migrations(database: Database) -> list[str]:
    """Names of migrations not yet applied."""
    done = set(applied_migrations(database))
    return [name for name, _ in discover() if name not in done]


def migrate(database: Database, now: str) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied."""
    ran: list[str] = []
    with database.write() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = set(applied_migrations(database))
    for name, migration in discover():
        if name in done:
            continue
        with database.write() as conn:
            migration(conn)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, now))
        ran.append(name)
    return ran
