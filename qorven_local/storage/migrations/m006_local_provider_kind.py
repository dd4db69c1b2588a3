"""Allow the ``local`` provider kind (GGUF models run in-process).

SQLite cannot alter a CHECK constraint, and rebuilding ``providers`` would cascade-delete the
catalog and selection rows that reference it. Widening a CHECK changes no stored data, so this
uses SQLite's documented in-place procedure (https://sqlite.org/lang_altertable.html, "making
other kinds of table schema changes"): rewrite the table's SQL in the schema table and bump
schema_version, all inside this migration's transaction.
"""

from __future__ import annotations

import sqlean

OLD = "CHECK (kind IN ('openai', 'anthropic', 'ollama', 'openai_compatible'))"
NEW = "CHECK (kind IN ('openai', 'anthropic', 'ollama', 'openai_compatible', 'local'))"


def migrate(conn: sqlean.Connection) -> None:
    """providers.kind may be 'local'."""
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'providers'").fetchone()
    if NEW in sql:
        return
    if OLD not in sql:
        raise RuntimeError("providers.kind has an unexpected CHECK constraint; cannot add the local kind")
    (version,) = conn.execute("PRAGMA schema_version").fetchone()
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'providers'",
                     (sql.replace(OLD, NEW),))
        conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
    (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    if check != "ok":
        raise RuntimeError(f"integrity check failed after widening providers.kind: {check}")
