"""Messages gain ``model``: the ``<provider>/<model>`` that wrote an assistant message (the API contract's Messages).

An answer's model is worth keeping once a conversation can change its model (the chat header's picker):
the reader can tell which model wrote which answer. NULL on user and tool messages and on answers
stored before this migration. Adding a column rewrites no row.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Add messages.model (NULL: not written by a model, or not known)."""
    run_script(conn, "ALTER TABLE messages ADD COLUMN model TEXT;")
