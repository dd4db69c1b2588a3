"""Recall you can see and bound: messages gain ``recalled``, agents ``memory_max_recall``.

``messages.recalled``: the memories an assistant answer was given (JSON list, or NULL), stored as
``[{id, score, content (first 200 chars), document?}]`` so a conversation reopened later still shows
what was recalled for each answer. ``agents.memory_max_recall``: how many memories a run of the agent
recalls at most (the API's ``memory.max_recall``, 5 unless changed). Adding columns rewrites no row.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Add messages.recalled (NULL: nothing recalled for this message) and agents.memory_max_recall."""
    run_script(conn, """
    ALTER TABLE messages ADD COLUMN recalled TEXT;
    ALTER TABLE agents ADD COLUMN memory_max_recall INTEGER NOT NULL DEFAULT 5
        CHECK (memory_max_recall BETWEEN 0 AND 20);
    """)
