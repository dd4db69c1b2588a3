"""Model providers (keys encrypted at rest), their cached model catalogs, and the selected models.

The tenant's default model lives in ``tenant_settings`` under ``default_model``.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Providers, provider_models (catalog cache) and selected_models."""
    run_script(conn, """
    CREATE TABLE providers (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('openai', 'anthropic', 'ollama', 'openai_compatible')),
        base_url TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        key_enc TEXT,              -- AES-GCM under <home>/secret.key, aad provider:<id>:key
        key_hint TEXT,
        models_fetched_at TEXT,    -- when the catalog below was last fetched (NULL: never)
        models_error TEXT,         -- the last catalog fetch's failure, if it failed
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX providers_name ON providers(tenant_id, name COLLATE NOCASE);
    CREATE TABLE provider_models (
        provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
        tenant_id TEXT NOT NULL,
        model TEXT NOT NULL,
        owned_by TEXT,
        context_length INTEGER,
        PRIMARY KEY (provider_id, model)
    );
    CREATE TABLE selected_models (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, provider_id, model)
    );
    """)
