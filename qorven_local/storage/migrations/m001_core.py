"""Tenants, tokens, agents, sessions, messages, per-tenant settings."""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Tenants, tokens, agents, sessions, messages and per-tenant key/value settings."""
    run_script(conn, """
    CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
    );
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        token_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL CHECK (scope IN ('admin', 'user')),
        label TEXT,
        hint TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT,
        revoke_after TEXT
    );
    CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        display_name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        instructions TEXT NOT NULL DEFAULT '',
        model TEXT,
        tools TEXT NOT NULL DEFAULT '[]',
        memory_enabled INTEGER NOT NULL DEFAULT 1,
        memory_auto_save INTEGER NOT NULL DEFAULT 0,
        temperature REAL,
        builtin INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT
    );
    CREATE UNIQUE INDEX agents_live_name ON agents(tenant_id, name) WHERE deleted_at IS NULL;
    CREATE INDEX agents_tenant ON agents(tenant_id);
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        agent_id TEXT NOT NULL REFERENCES agents(id),
        channel TEXT NOT NULL,
        peer TEXT,
        peer_key TEXT NOT NULL DEFAULT '',
        canonical INTEGER,
        title TEXT,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
        message_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_message_at TEXT
    );
    -- at most one canonical (active, chat-family) session per (tenant, agent, channel, peer)
    CREATE UNIQUE INDEX sessions_canonical ON sessions(tenant_id, agent_id, channel, peer_key)
        WHERE canonical = 1;
    CREATE INDEX sessions_tenant ON sessions(tenant_id, agent_id);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        session_id TEXT NOT NULL REFERENCES sessions(id),
        agent_id TEXT,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        content TEXT,
        channel TEXT NOT NULL,
        tool_calls TEXT,
        tool_call_id TEXT,
        status TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'streaming', 'failed')),
        error TEXT,
        usage TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_session ON messages(session_id);
    CREATE TABLE tenant_settings (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, key)
    );
    """)
