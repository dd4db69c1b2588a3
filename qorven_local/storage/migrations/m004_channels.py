"""Channel bindings, their encrypted secrets, delivered-event ids (replay guard) and the outbox."""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Bindings, secrets (AES-GCM ciphertext only), seen webhook event ids, and channel jobs."""
    run_script(conn, """
    CREATE TABLE channel_bindings (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        config TEXT NOT NULL DEFAULT '{}',
        routing TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_inbound_at TEXT,
        last_error TEXT,
        inbound_count INTEGER NOT NULL DEFAULT 0,
        rejected_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX channel_bindings_name ON channel_bindings(tenant_id, name);
    CREATE INDEX channel_bindings_kind ON channel_bindings(kind);
    -- slot 0 = current, 1 = previous (kept for the verifying secret during a rotation)
    CREATE TABLE channel_secrets (
        binding_id TEXT NOT NULL REFERENCES channel_bindings(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        slot INTEGER NOT NULL CHECK (slot IN (0, 1)),
        ciphertext TEXT NOT NULL,
        set_at TEXT NOT NULL,
        PRIMARY KEY (binding_id, name, slot)
    );
    -- provider event ids already accepted (replays answer 200 without a run); pruned after 7 days
    CREATE TABLE channel_events (
        binding_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        received_ts REAL NOT NULL,
        PRIMARY KEY (binding_id, event_id)
    );
    CREATE INDEX channel_events_age ON channel_events(received_ts);
    -- one row per accepted inbound: queued -> running -> pending (reply in the outbox) -> sent|failed
    CREATE TABLE channel_jobs (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        binding_id TEXT NOT NULL REFERENCES channel_bindings(id) ON DELETE CASCADE,
        agent_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        inbound TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'pending', 'sending', 'sent', 'failed')),
        reply TEXT,
        message_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ts REAL NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        delivered_at TEXT
    );
    CREATE INDEX channel_jobs_due ON channel_jobs(status, next_attempt_ts);
    CREATE INDEX channel_jobs_binding ON channel_jobs(binding_id, status);
    """)
