"""Conversations gain a model override and full-text search over what was said in them.

``sessions.model`` is a per-conversation model id (NULL: the agent's). ``messages_fts`` is an
external-content FTS5 table over ``messages.content`` (rowids = the messages' rowids) holding the
user and assistant turns: the text people read and search for (tool results are JSON and would
only add noise). Triggers keep it in step with every insert, update and delete of a message, inside
the writing statement's own transaction, so no code path (a purge, a rewind, a deleted turn) can
leave a stale entry behind. Existing messages are indexed here, in the migration's transaction.
"""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """sessions.model; messages_fts with its three triggers; backfill of every stored message."""
    run_script(conn, """
    ALTER TABLE sessions ADD COLUMN model TEXT;
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content,
        content = 'messages',
        content_rowid = 'rowid',
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
    WHEN new.role IN ('user', 'assistant') AND new.content IS NOT NULL BEGIN
        INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.role IN ('user', 'assistant') AND old.content IS NOT NULL BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, role ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content) SELECT 'delete', old.rowid, old.content
            WHERE old.role IN ('user', 'assistant') AND old.content IS NOT NULL;
        INSERT INTO messages_fts (rowid, content) SELECT new.rowid, new.content
            WHERE new.role IN ('user', 'assistant') AND new.content IS NOT NULL;
    END;
    INSERT INTO messages_fts (rowid, content)
        SELECT rowid, content FROM messages WHERE role IN ('user', 'assistant') AND content IS NOT NULL;
    """)
