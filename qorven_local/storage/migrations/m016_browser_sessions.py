"""Browser sign-in: one-click login codes and the ``qorven_session`` cookie's sessions.

Both are stored as SHA-256 hashes only. A login code is single-use and short-lived; a browser
session lives until it is logged out, revoked, or the token it was made from stops working
(``token_id`` NULL: made from a code the local operator minted, tied to no token).
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Create login_codes and browser_sessions."""
    run_script(conn, """
    CREATE TABLE login_codes (
        code_hash TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('admin', 'user')),
        token_id TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    );
    CREATE TABLE browser_sessions (
        id TEXT PRIMARY KEY,
        session_hash TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('admin', 'user')),
        token_id TEXT,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    );
    CREATE INDEX browser_sessions_token ON browser_sessions(token_id);
    """)
