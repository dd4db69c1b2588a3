"""DocumentService: upload, read, cut, embed and store documents as memories; list, show and delete them.

An upload is checked (size, audience, type) before anything is stored. Its passages are embedded
in batches and then written in one transaction with the document row, so a failure at any step
leaves nothing half-stored. Small files are ingested in the request (201); files of at least
``background_bytes`` answer 202 ``processing`` at once and are read and embedded on the service's
worker thread, which publishes ``document.progress {id, done, total, status}`` to the tenant's
``activity`` topic after each batch and ends with ``ready`` or ``failed`` (with the error, and no
passages). The same bytes uploaded twice into the same audience return the first document,
``deduplicated``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any, Callable

import numpy as np

from qorven_local.clock import Clock, IdFactory
from qorven_local.documents.chunking import passages_of
from qorven_local.documents.readers import detect, read
from qorven_local.documents.types import Document, Passage
from qorven_local.errors import NotFound, PayloadTooLarge, QorvenError, ValidationError
from qorven_local.events.hub import ACTIVITY, Hub
from qorven_local.memory.service import MemoryService
from qorven_local.models import Page
from qorven_local.storage.db import Database
from qorven_local.storage.documents import DocumentStore

log = logging.getLogger("qorven.documents")

EMBED_BATCH = 32           # passages embedded per call (the embedder's efficient batch)
MAX_TITLE_CHARS = 300
INTERRUPTED = "the app stopped while this document was being read; upload it again"


@dataclass
class Upload:
    """What a client sent: the bytes, their name and type, and where the document goes."""

    data: bytes
    filename: str | None = None
    title: str | None = None
    scope: str = "workspace"
    agent_id: str | None = None
    session_id: str | None = None


@dataclass
class Uploaded:
    """An upload's outcome: the document, and whether it was already there or is still being read."""

    document: Document
    deduplicated: bool = False

    @property
    def processing(self) -> bool:
        return self.document.status == "processing"


class _Stopping(Exception):
    """The service is closing: a background ingestion gives up (the document is marked failed)."""


class DocumentService:
    """Documents over one database, storing passages through the memory service."""

    def __init__(self, db: Database, memory: MemoryService, hub: Hub, clock: Clock, ids: IdFactory, *,
                 max_upload_bytes: int, background_bytes: int) -> None:
        self.db = db
        self.memory = memory
        self.hub = hub
        self.clock = clock
        self.ids = ids
        self.store = DocumentStore(db)
        self.max_upload_bytes = max_upload_bytes
        self.background_bytes = background_bytes
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qorven-documents")
        self._stopping = threading.Event()
        with db.write() as conn:
            interrupted = self.store.fail_unfinished(conn, INTERRUPTED)
        if interrupted:
            log.warning("%d document(s) were being read when the app stopped; marked failed", interrupted)

    # -- upload -----------------------------------------------------------------------------------

    def upload(self, tenant_id: str, upload: Upload) -> Uploaded:
        """Store a document (201), find it already stored (deduplicated), or start it in the background (202)."""
        if len(upload.data) > self.max_upload_bytes:
            raise PayloadTooLarge(f"the file is larger than {self.max_upload_bytes} bytes (QORVEN_MAX_UPLOAD_BYTES)",
                                  param="file")
        if not upload.data:
            raise ValidationError("the file is empty", param="file")
        agent_id, session_id, audience = self.memory.check_audience(tenant_id, upload.scope, upload.agent_id,
                                                                    upload.session_id)
        media_type = detect(upload.data, upload.filename)
        digest = hashlib.sha256(upload.data).hexdigest()
        with self.db.read() as conn:
            existing = self.store.find_digest(conn, tenant_id, upload.scope, audience, digest)
        if existing is not None:
            return Uploaded(existing, deduplicated=True)
        document = Document(id=self.ids.new("doc"), tenant_id=tenant_id, scope=upload.scope, audience=audience,
                            agent_id=agent_id, session_id=session_id, title=_title(upload),
                            filename=upload.filename, media_type=media_type, bytes=len(upload.data), sha256=digest,
                            status="processing", created_at=self.clock.iso())
        if len(upload.data) >= self.background_bytes:
            with self.db.write() as conn:
                existing = self.store.find_digest(conn, tenant_id, upload.scope, audience, digest)
                if existing is not None:
                    return Uploaded(existing, deduplicated=True)
                self.store.insert(conn, document)
            self._worker.submit(self._ingest_in_background, document, upload.data, upload.title)
            return Uploaded(document)
        passages, pages, title = self._read(upload.data, media_type, upload.title)
        vectors = self._embed(passages)
        ready = replace(document, status="ready", pages=pages, title=title or document.title, chunks=len(passages))
        with self.db.write() as conn:
            existing = self.store.find_digest(conn, tenant_id, upload.scope, audience, digest)
            if existing is not None:  # the same bytes arrived in another request meanwhile
                return Uploaded(existing, deduplicated=True)
            self.store.insert(conn, ready)
            self._store_passages(conn, ready, passages, vectors)
        return Uploaded(ready)

    def _read(self, data: bytes, media_type: str, given_title: str | None) -> tuple[list[Passage], int | None, str | None]:
        """The passages of a file, its page count and (when the client gave none) the title it names itself."""
        read_doc = read(data, media_type)
        title = None if given_title else (read_doc.title or "").strip()[:MAX_TITLE_CHARS] or None
        return passages_of(read_doc.sections), read_doc.pages, title

    def _embed(self, passages: list[Passage], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit vectors of the passages, ``EMBED_BATCH`` at a time, telling ``progress`` after each batch."""
        parts = []
        for start in range(0, len(passages), EMBED_BATCH):
            if self._stopping.is_set():
                raise _Stopping()
            parts.append(self.memory.embed([p.text for p in passages[start:start + EMBED_BATCH]]))
            if progress is not None:
                progress(min(len(passages), start + EMBED_BATCH))
        return np.vstack(parts) if parts else np.empty((0, 384), dtype=np.float32)

    def _store_passages(self, conn: Any, document: Document, passages: list[Passage], vectors: np.ndarray) -> None:
        assert document.seq is not None
        memories = self.memory.insert_passages(
            conn, document.tenant_id, scope=document.scope, agent_id=document.agent_id,
            session_id=document.session_id, owner=document.audience, contents=[p.text for p in passages],
            vectors=vectors)
        self.store.add_passages(conn, document.seq, [(m.seq or 0, i, p.locator)
                                                     for i, (m, p) in enumerate(zip(memories, passages))])

    def _ingest_in_background(self, document: Document, data: bytes, given_title: str | None) -> None:
        """Read, embed and store a large document on the worker, publishing progress; failures are recorded."""
        assert document.seq is not None
        try:
            passages, pages, title = self._read(data, document.media_type, given_title)
            total = len(passages)
            self._progress(document, 0, total, "processing")
            vectors = self._embed(passages, lambda done: self._progress(document, done, total, "processing"))
            ready = replace(document, status="ready", pages=pages, title=title or document.title, chunks=total)
            with self.db.write() as conn:
                if not self.store.exists(conn, document.seq):  # deleted while it was being read
                    return
                self._store_passages(conn, ready, passages, vectors)
                self.store.finish(conn, document.seq, status="ready", chunks=total, pages=pages, title=title)
            self._progress(document, total, total, "ready")
        except Exception as exc:  # every failure ends the document as failed, with why, and no passages
            error = exc.message if isinstance(exc, QorvenError) else (
                INTERRUPTED if isinstance(exc, _Stopping) else f"could not read the document ({type(exc).__name__})")
            if not isinstance(exc, (QorvenError, _Stopping)):
                log.exception("ingesting document %s failed", document.id)
            with self.db.write() as conn:
                self.store.finish(conn, document.seq, status="failed", error=error)
            self._progress(document, 0, 0, "failed", error)

    def _progress(self, document: Document, done: int, total: int, status: str, error: str | None = None) -> None:
        data: dict[str, Any] = {"id": document.id, "done": done, "total": total, "status": status}
        if error is not None:
            data["error"] = error
        try:
            self.hub.publish(document.tenant_id, ACTIVITY, "document.progress", data)
        except Exception:  # events are best effort; the document's status is stored
            log.warning("could not publish document.progress", exc_info=True)

    # -- reads and delete -----------------------------------------------------------------------------

    def get(self, tenant_id: str, document_id: str) -> Document:
        """A tenant's document, or ``NotFound``."""
        document = self.store.get(tenant_id, document_id)
        if document is None:
            raise NotFound(f"document {document_id} not found")
        return document

    def list_page(self, tenant_id: str, filters: dict[str, Any], *, limit: int | None, cursor: str | None) -> Page:
        """One page of a tenant's documents, newest first."""
        return self.store.page(tenant_id, filters, limit=limit, cursor=cursor)

    def chunks_page(self, tenant_id: str, document_id: str, *, limit: int | None, cursor: str | None) -> Page:
        """One page of a document's passages, in document order."""
        document = self.get(tenant_id, document_id)
        assert document.seq is not None
        return self.store.passages_page(document.seq, limit=limit, cursor=cursor)

    def delete(self, tenant_id: str, document_id: str) -> Document:
        """Delete a document and every passage of it from memory, in one transaction."""
        with self.db.write() as conn:
            document = self.get(tenant_id, document_id)
            assert document.seq is not None
            self.memory.delete_passages(conn, self.store.passage_seqs(document.seq))
            self.store.delete(conn, document.seq)
        return document

    def close(self) -> None:
        """Stop the worker: a background ingestion gives up at its next batch and is marked failed."""
        self._stopping.set()
        self._worker.shutdown(wait=True, cancel_futures=True)


def _title(upload: Upload) -> str:
    """The title the client gave, else the file's name without its folder, else "Untitled document"."""
    title = (upload.title or "").strip() or PurePath(upload.filename or "").name.strip()
    return (title or "Untitled document")[:MAX_TITLE_CHARS]
