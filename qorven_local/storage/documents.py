"""Documents and their passages: every SQL statement of the documents domain lives here.

A document's passages are memories (written by ``storage.memory.MemoryStore`` through the memory
service); ``document_passages`` links each passage's memory row to its document (``m012_documents``).
Write methods take the connection of the caller's one ``Database.write()`` transaction.
"""

from __future__ import annotations

from typing import Any, Sequence

from qorven_local.documents.types import Document
from qorven_local.models import Page
from qorven_local.storage.db import Connection, Database, Row
from qorven_local.storage.paging import check_limit, decode_cursor, encode_cursor, fetch_page, tenant_filters

DOCUMENT_COLUMNS = ("id", "tenant_id", "scope", "audience", "agent_id", "session_id", "title", "filename",
                    "media_type", "bytes", "sha256", "status", "error", "pages", "chunks", "created_at")


def row_to_document(row: Row | dict[str, Any]) -> Document:
    """The ``Document`` of a ``documents`` row."""
    return Document(**{c: row[c] for c in DOCUMENT_COLUMNS}, seq=row["seq"])


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


class DocumentStore:
    """SQL for documents; write methods take the connection of the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writes ---------------------------------------------------------------------------------

    def insert(self, conn: Connection, document: Document) -> int:
        """Insert the document row; return (and set) its seq."""
        values = [getattr(document, c) for c in DOCUMENT_COLUMNS]
        document.seq = conn.execute(f"INSERT INTO documents ({', '.join(DOCUMENT_COLUMNS)}) "
                                    f"VALUES ({_marks(values)})", values).lastrowid
        return document.seq

    def finish(self, conn: Connection, seq: int, *, status: str, chunks: int = 0, pages: int | None = None,
               error: str | None = None, title: str | None = None) -> None:
        """Record the end of an ingestion: ready with its counts (and the title the file names), or failed with why."""
        conn.execute("UPDATE documents SET status = ?, chunks = ?, pages = coalesce(?, pages), error = ?, "
                     "title = coalesce(?, title) WHERE seq = ?", (status, chunks, pages, error, title, seq))

    def add_passages(self, conn: Connection, document_seq: int,
                     passages: Sequence[tuple[int, int, str | None]]) -> None:
        """Link memories to their document: (memory seq, ordinal, locator) each."""
        conn.executemany("INSERT INTO document_passages (memory_seq, document_seq, ordinal, locator) "
                         "VALUES (?, ?, ?, ?)", [(m, document_seq, o, loc) for m, o, loc in passages])

    def delete(self, conn: Connection, seq: int) -> None:
        """Delete the document row and its passage links (the memories are the memory service's to delete)."""
        conn.execute("DELETE FROM document_passages WHERE document_seq = ?", (seq,))
        conn.execute("DELETE FROM documents WHERE seq = ?", (seq,))

    # -- reads ----------------------------------------------------------------------------------

    def find_digest(self, conn: Connection, tenant_id: str, scope: str, audience: str, sha256: str) -> Document | None:
        """The processing or ready document of these bytes in that audience, if any."""
        row = conn.execute("SELECT * FROM documents WHERE tenant_id = ? AND scope = ? AND audience = ? "
                           "AND sha256 = ? AND status != 'failed'", (tenant_id, scope, audience, sha256)).fetchone()
        return row_to_document(row) if row else None

    def exists(self, conn: Connection, seq: int) -> bool:
        """Whether the document is still stored (it may be deleted while it is being read)."""
        return conn.execute("SELECT 1 FROM documents WHERE seq = ?", (seq,)).fetchone() is not None

    def get(self, tenant_id: str, document_id: str) -> Document | None:
        row = self.db.query_one("SELECT * FROM documents WHERE tenant_id = ? AND id = ?", (tenant_id, document_id))
        return row_to_document(row) if row else None

    def page(self, tenant_id: str, filters: dict[str, Any], *, limit: int | None, cursor: str | None) -> Page:
        """A tenant's documents, newest first, filtered by scope, agent, session or status."""
        where, params = tenant_filters(tenant_id, filters, ("scope", "agent_id", "session_id", "status"))
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM documents", where, params, limit=limit,
                              cursor=cursor, newest_first=True, build=row_to_document)

    def passage_seqs(self, document_seq: int) -> list[int]:
        """The memory seqs of a document's passages, in order."""
        return [r[0] for r in self.db.query("SELECT memory_seq FROM document_passages WHERE document_seq = ? "
                                            "ORDER BY ordinal", (document_seq,))]

    def passages_page(self, document_seq: int, *, limit: int | None, cursor: str | None) -> Page:
        """A document's passages in order: ``{id (the memory's), index, locator, content}`` each."""
        size = check_limit(limit)
        after = decode_cursor(cursor) if cursor else -1
        rows = self.db.query("SELECT p.ordinal, p.locator, m.id, m.content FROM document_passages p "
                             "JOIN memories m ON m.seq = p.memory_seq WHERE p.document_seq = ? AND p.ordinal > ? "
                             "ORDER BY p.ordinal LIMIT ?", (document_seq, after, size + 1))
        more = len(rows) > size
        rows = rows[:size]
        items = [{"id": r["id"], "object": "document.chunk", "index": r["ordinal"], "locator": r["locator"],
                  "content": r["content"]} for r in rows]
        next_cursor = encode_cursor(rows[-1]["ordinal"], rows[-1]["id"]) if more and rows else None
        return Page(items=items, has_more=more, next_cursor=next_cursor)

    def citations(self, memory_seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
        """``{id, title, locator}`` of the document each of these memories was cut from (others absent)."""
        seqs = list(dict.fromkeys(memory_seqs))
        if not seqs:
            return {}
        rows = self.db.query(f"SELECT p.memory_seq, d.id, d.title, p.locator FROM document_passages p "
                             f"JOIN documents d ON d.seq = p.document_seq WHERE p.memory_seq IN ({_marks(seqs)})",
                             seqs)
        return {r[0]: {"id": r[1], "title": r[2], "locator": r[3]} for r in rows}

    def fail_unfinished(self, conn: Connection, error: str) -> int:
        """Mark every document still ``processing`` as failed (an ingestion a stop interrupted); return how many."""
        return conn.execute("UPDATE documents SET status = 'failed', error = ? WHERE status = 'processing'",
                            (error,)).rowcount
