"""Allow the ``local`` provider kind (GGUF models run in-process).

SQLite cannot alter a CHECK constraint, and rebuilding ``providers`` would cascade-delete the
catalog and selection rows that reference it; ``widen_check`` rewrites the constraint in place.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import widen_check

OLD = "CHECK (kind IN ('openai', 'anthropic', 'ollama', 'openai_compatible'))"
NEW = "CHECK (kind IN ('openai', 'anthropic', 'ollama', 'openai_compatible', 'local'))"


def migrate(conn: sqlean.Connection) -> None:
    """providers.kind may be 'local'."""
    widen_check(conn, "providers", OLD, NEW)
