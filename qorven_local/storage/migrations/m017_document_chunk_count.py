"""A document's ``chunks`` follows its passages: deleting one passage's memory (``DELETE /v1/memory/{id}``
cascades to its ``document_passages`` row) lowers the count, which used to stay at the upload's figure."""

from __future__ import annotations

import sqlean

from qorven_local.storage.migrations import run_script


def migrate(conn: sqlean.Connection) -> None:
    """A trigger that counts a removed passage off its document, and the counts made true once."""
    run_script(conn, """
    CREATE TRIGGER document_passage_removed AFTER DELETE ON document_passages BEGIN
        UPDATE documents SET chunks = max(0, chunks - 1) WHERE seq = old.document_seq;
    END;
    UPDATE documents SET chunks = (SELECT count(*) FROM document_passages p WHERE p.document_seq = documents.seq)
    WHERE status = 'ready';
    """)
