"""Documents people hand to their agents, and which memories are their passages.

- ``documents``: one row per uploaded file, per tenant, with the audience it was shared with
  (``scope`` + ``audience``: the agent id, session id or '' for the workspace, as memory partitions
  name them). ``sha256`` of the bytes de-duplicates a re-upload into the same audience; failed
  ingestions do not count, so the same file can be tried again.
- ``document_passages``: a document's passages are ordinary memories (``memories.seq``), so search
  and recall use the memory index; this table says which document each came from, its place in it
  (``ordinal``) and where (``locator``: ``"p. 3"``, a heading path, or a line range). Deleting the
  memory (``DELETE /v1/memory/{id}``) or the document takes the row with it.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Create the documents and document_passages tables."""
    run_script(conn, """
    CREATE TABLE documents (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        scope TEXT NOT NULL CHECK (scope IN ('agent', 'session', 'workspace')),
        audience TEXT NOT NULL DEFAULT '',
        agent_id TEXT,
        session_id TEXT,
        title TEXT NOT NULL,
        filename TEXT,
        media_type TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
        error TEXT,
        pages INTEGER,
        chunks INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE INDEX documents_tenant ON documents(tenant_id, seq);
    CREATE UNIQUE INDEX documents_digest ON documents(tenant_id, scope, audience, sha256) WHERE status != 'failed';
    CREATE TABLE document_passages (
        memory_seq INTEGER PRIMARY KEY REFERENCES memories(seq) ON DELETE CASCADE,
        document_seq INTEGER NOT NULL REFERENCES documents(seq) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        locator TEXT
    );
    CREATE INDEX document_passages_document ON document_passages(document_seq, ordinal);
    """)
