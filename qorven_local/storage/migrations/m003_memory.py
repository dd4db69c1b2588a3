"""Memories: the rows, their float vectors, a binary vec0 index partitioned by audience, and FTS5.

Four tables move together (``storage/memory.py`` writes them in one transaction):

- ``memories``: the API's rows. ``seq`` (the rowid) is the key the other three use.
- ``memory_partitions``: one row per audience a memory can belong to, per tenant: an agent
  (``scope='agent'``, owner = agent id), a session (``scope='session'``, owner = session id) or the
  tenant's workspace (``scope='workspace'``, owner = ''). Its integer id is the vec0 partition key,
  so tenant and scope filtering happen inside the KNN query itself.
- ``memory_vec``: vec0 with ``bit[384]`` vectors (sign quantised) partitioned by ``partition_id``,
  with ``kind`` as a metadata column. Searched first for candidates.
- ``memory_vectors``: the float32 vectors (a plain rowid -> blob table), used to rescore the
  candidates exactly and for the near-duplicate check. ``generation`` lets a reindex resume.
- ``memory_fts``: FTS5 over the content (contentless, rowid = memories.rowid) for BM25.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """Create the memory tables and indexes."""
    run_script(conn, """
    CREATE TABLE memory_partitions (
        id INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        scope TEXT NOT NULL CHECK (scope IN ('agent', 'session', 'workspace')),
        owner TEXT NOT NULL DEFAULT '',
        UNIQUE (tenant_id, scope, owner)
    );
    CREATE TABLE memories (
        seq INTEGER PRIMARY KEY,  -- the rowid, explicit so VACUUM never renumbers it
        id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        partition_id INTEGER NOT NULL REFERENCES memory_partitions(id),
        scope TEXT NOT NULL CHECK (scope IN ('agent', 'session', 'workspace')),
        agent_id TEXT,
        session_id TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('fact', 'preference', 'note', 'skill', 'summary')),
        content TEXT NOT NULL,
        importance REAL NOT NULL DEFAULT 0.5 CHECK (importance >= 0 AND importance <= 1),
        source TEXT NOT NULL CHECK (source IN ('user', 'agent', 'admin', 'import')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_recalled_at TEXT
    );
    CREATE INDEX memories_tenant ON memories(tenant_id);
    CREATE INDEX memories_partition ON memories(partition_id);
    CREATE INDEX memories_agent ON memories(tenant_id, agent_id);
    CREATE INDEX memories_session ON memories(tenant_id, session_id);
    CREATE TABLE memory_vectors (
        memory_rowid INTEGER PRIMARY KEY,
        generation INTEGER NOT NULL,
        embedding BLOB NOT NULL
    );
    CREATE INDEX memory_vectors_generation ON memory_vectors(generation);
    CREATE VIRTUAL TABLE memory_vec USING vec0(
        memory_rowid INTEGER PRIMARY KEY,
        partition_id INTEGER PARTITION KEY,
        embedding BIT[384],
        kind TEXT
    );
    CREATE VIRTUAL TABLE memory_fts USING fts5(
        content,
        content = '',
        contentless_delete = 1,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TABLE memory_index_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO memory_index_state (key, value) VALUES ('generation', '1');
    """)
