"""Stored answers of the OpenAI Responses API (``POST /v1/responses``), per tenant.

``body`` is the Response object as answered; ``messages`` is the whole conversation up to and
including that answer, in chat form, so ``previous_response_id`` continues it without walking a chain.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Create the responses table."""
    run_script(conn, """
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        model TEXT NOT NULL,
        body TEXT NOT NULL,
        messages TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX responses_tenant ON responses(tenant_id, created_at);
    """)
