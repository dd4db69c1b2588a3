"""Tokens gain ``expires_at`` and ``kind`` (``api`` | ``launch``).

Per-launch desktop tokens (``kind = 'launch'``) carry an expiry the running launcher keeps pushing
forward, so a crashed launch's tokens stop working on their own, and the next launch revokes any
left over. Launch tokens written before this migration had no marker but their launcher's labels
(``desktop window``, ``browser``, admin of ``default``): those still live are marked ``launch`` so the
next launch sweeps them.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Add tokens.expires_at and tokens.kind; mark the old launchers' live tokens as launch tokens."""
    run_script(conn, """
    ALTER TABLE tokens ADD COLUMN expires_at TEXT;
    ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'launch'));
    UPDATE tokens SET kind = 'launch'
     WHERE tenant_id = 'default' AND scope = 'admin' AND label IN ('desktop window', 'browser')
       AND revoked_at IS NULL;
    CREATE INDEX tokens_tenant ON tokens(tenant_id);
    """)
