"""MCP servers a tenant added (Qorven as an MCP client): how to reach each one and what it last offered.

``secrets`` is the SecretBox ciphertext of ``{"env": {...}, "headers": {...}}`` (write-only fields);
``tools`` is the server's last tool listing (name, description, inputSchema), so the catalogue and the
agent form show a server's tools without starting it; ``status``/``error`` are the last known state.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Create the mcp_servers table."""
    run_script(conn, """
    CREATE TABLE mcp_servers (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        transport TEXT NOT NULL CHECK (transport IN ('stdio', 'http')),
        command TEXT,
        args TEXT NOT NULL DEFAULT '[]',
        cwd TEXT,
        url TEXT,
        secrets TEXT,
        enabled INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL DEFAULT 'error',
        error TEXT,
        tools TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, name)
    );
    """)
