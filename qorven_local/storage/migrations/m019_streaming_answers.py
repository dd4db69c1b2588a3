"""A partial index on the answers still being written (``messages.status = 'streaming'``).

Each start marks the rows a killed process left ``streaming`` as failed (``SessionService.
end_interrupted_answers``). Without an index that update reads every message; with this one it reads
only the few rows in that state, however long the history grows.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Index the messages whose status is 'streaming'."""
    run_script(conn, "CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';")
