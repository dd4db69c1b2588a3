"""Tool invocation audit, rooms, their members and their transcript."""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """tool_invocations (audit of POST /v1/tools/{id}/invoke), rooms, room_members, room_messages."""
    run_script(conn, """
    CREATE TABLE tool_invocations (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        tool TEXT NOT NULL,
        arguments TEXT NOT NULL,          -- JSON, truncated to a few KiB
        arguments_sha256 TEXT NOT NULL,   -- of the canonical JSON of the whole arguments
        ok INTEGER NOT NULL,
        error_code TEXT,
        duration_ms INTEGER NOT NULL,
        invoked_by TEXT,                  -- the token id
        created_at TEXT NOT NULL
    );
    CREATE INDEX tool_invocations_tenant ON tool_invocations(tenant_id, tool);
    CREATE TABLE rooms (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        topic TEXT NOT NULL DEFAULT '',
        chair_agent_id TEXT NOT NULL REFERENCES agents(id),
        mode TEXT NOT NULL CHECK (mode IN ('round_robin', 'mention')),
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided')),
        decision TEXT,                    -- JSON decision object once decided
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX rooms_tenant ON rooms(tenant_id);
    -- each member answers in its own 'room' session, so its history carries the room's past turns
    CREATE TABLE room_members (
        room_id TEXT NOT NULL REFERENCES rooms(id),
        agent_id TEXT NOT NULL REFERENCES agents(id),
        position INTEGER NOT NULL,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        PRIMARY KEY (room_id, agent_id)
    );
    CREATE TABLE room_messages (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        room_id TEXT NOT NULL REFERENCES rooms(id),
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        agent_id TEXT,                    -- NULL for the human
        kind TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'vote', 'ruling')),
        content TEXT NOT NULL,
        session_id TEXT,                  -- the member session the reply was produced in
        status TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'failed')),
        error TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX room_messages_room ON room_messages(room_id);
    """)
