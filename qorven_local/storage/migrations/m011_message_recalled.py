"""Messages gain ``recalled``: the memories an assistant answer was given (JSON list, or NULL).

An answer stores ``[{id, score, content (first 200 chars), document?}]`` so a conversation reopened
later still shows what was recalled for each answer. Adding a nullable column rewrites no row.
"""

from __future__ import annotations

import sqlean


def migrate(conn: sqlean.Connection) -> None:
    """Add messages.recalled (NULL: nothing was recalled for this message)."""
    conn.execute("ALTER TABLE messages ADD COLUMN recalled TEXT")
