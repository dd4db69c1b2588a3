"""Allow the ``stopped`` message status: a run cancelled (by its user or at shutdown) keeps what it streamed.

Widening a CHECK changes no stored row, so ``widen_check`` rewrites the constraint in place instead
of copying every message into a rebuilt table.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import widen_check

OLD = "CHECK (status IN ('complete', 'streaming', 'failed'))"
NEW = "CHECK (status IN ('complete', 'streaming', 'stopped', 'failed'))"


def migrate(conn: sqlean.Connection) -> None:
    """messages.status may be 'stopped'."""
    widen_check(conn, "messages", OLD, NEW)
