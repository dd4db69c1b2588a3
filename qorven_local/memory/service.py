"""MemoryService: save with dedupe, hybrid search, recall for runs, learning after a run.

Scopes: a memory belongs to an agent (``scope='agent'``), a session (``'session'``) or the
tenant's workspace (``'workspace'``). Searching with ``scope=agent`` sees that agent's memories plus
the workspace's (plus the given session's session memories, when ``session_id`` is passed);
``workspace`` sees every memory of the tenant; ``session`` sees that session's session memories.

``last_recalled_at`` is set when an agent recalls a memory (before a run, or through the
``memory_search`` tool); the HTTP search endpoint is a plain read and leaves it alone.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import NotFound, ValidationError
from qorven_local.events.hub import Hub
from qorven_local.memory.agent_view import AgentMemory
from qorven_local.memory.embedder import Embedder, shared_embedder
from qorven_local.memory.extraction import MAX_EXTRACTED, extraction_messages, parse_extracted
from qorven_local.memory.index import VectorIndex, to_blob
from qorven_local.memory.search import Hit, HybridSearch
from qorven_local.memory.types import KINDS, SCOPES, SOURCES, Memory
from qorven_local.agents.types import DEFAULT_MAX_RECALL, Agent
from qorven_local.models import Page
from qorven_local.storage.db import Connection, Database
from qorven_local.storage.documents import DocumentStore
from qorven_local.storage.memory import MemoryStore

log = logging.getLogger("qorven.memory")

DUPLICATE_COSINE = 0.95       # same scope and at least this similar: update instead of insert
DEFAULT_IMPORTANCE = 0.5
RECALLED_CONTENT_CHARS = 200  # how much of each recalled memory an answer keeps
MAX_CONTENT_CHARS = 8000


def recalled_entries(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What an answer keeps of its recalled memories: ``{id, score, content (first 200 chars), document?}``
    (``document`` passes through when a memory has one: passages of uploaded documents carry it)."""
    entries = []
    for found in results:
        entry = {"id": found.get("id"), "score": found.get("score"),
                 "content": str(found.get("content") or "")[:RECALLED_CONTENT_CHARS]}
        if found.get("document"):
            entry["document"] = found["document"]
        entries.append(entry)
    return entries


class MemoryService:
    """The memory domain over one database; ``hub`` hears of every saved memory (``memory.saved``).

    ``embedder`` defaults to the process's shared one (``embedder.shared_embedder``).
    """

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, hub: Hub,
                 embedder: Embedder | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.embedder = embedder or shared_embedder()
        self.store = MemoryStore(db)
        self.index = VectorIndex(self.store)
        self.ranker = HybridSearch(self.store, self.index)
        self.hub = hub
        self.documents = DocumentStore(db)   # read only: which document a passage was cut from

    # -- vectors ----------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (n, 384) for the texts."""
        return self.embedder.embed(list(texts))

    # -- validation helpers ---------------------------------------------------------------------

    def _audience(self, tenant_id: str, scope: str, agent_id: str | None,
                  session_id: str | None) -> tuple[str | None, str | None, str]:
        """Check a (scope, agent, session) for saving; return (agent_id, session_id, partition owner)."""
        if scope not in SCOPES:
            raise ValidationError(f"scope must be one of {', '.join(SCOPES)}", param="scope")
        if agent_id is not None and not self.store.agent_exists(tenant_id, agent_id):
            raise NotFound(f"agent {agent_id} not found", param="agent_id")
        if session_id is not None:
            owner_agent = self.store.session_agent(tenant_id, session_id)
            if owner_agent is None:
                raise NotFound(f"session {session_id} not found", param="session_id")
            if agent_id is None and scope == "session":
                agent_id = owner_agent
        if scope == "agent":
            if agent_id is None:
                raise ValidationError("agent_id is required for scope agent", param="agent_id")
            return agent_id, session_id, agent_id
        if scope == "session":
            if session_id is None:
                raise ValidationError("session_id is required for scope session", param="session_id")
            return agent_id, session_id, session_id
        return agent_id, session_id, ""

    @staticmethod
    def _content(content: Any) -> str:
        if not isinstance(content, str) or not content.strip():
            raise ValidationError("content must be a non-empty string", param="content")
        content = content.strip()
        if len(content) > MAX_CONTENT_CHARS:
            raise ValidationError(f"content is longer than {MAX_CONTENT_CHARS} characters", param="content")
        return content

    @staticmethod
    def _kind(kind: Any) -> str:
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", param="kind")
        return kind

    @staticmethod
    def _importance(value: Any, default: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValidationError("importance must be a number from 0 to 1", param="importance")
        return float(value)

    # -- writes -------------------------------------------------------------------------------

    def save(self, tenant_id: str, *, content: str, kind: str = "note", scope: str = "agent",
             agent_id: str | None = None, session_id: str | None = None, importance: float | None = None,
             source: str = "admin", dedupe: bool = True, vector: np.ndarray | None = None,
             created_at: str | None = None, memory_id: str | None = None) -> tuple[Memory, bool]:
        """Store a memory; a near-duplicate (cosine >= 0.95) in the same scope is updated instead.

        Returns (memory, deduplicated). Embeds before taking the write lock.
        """
        content = self._content(content)
        kind = self._kind(kind)
        if source not in SOURCES:
            raise ValidationError(f"source must be one of {', '.join(SOURCES)}", param="source")
        agent_id, session_id, owner = self._audience(tenant_id, scope, agent_id, session_id)
        if vector is None:
            vector = self.embedder.embed_one(content)
        blob = to_blob(vector)
        now = self.clock.iso()
        with self.db.write() as conn:
            generation = self.store.generation()
            partition = self.store.partition_for(conn, tenant_id, scope, owner)
            if dedupe:
                near = self.index.nearest([partition], vector, 1)
                if near and near[0][1] >= DUPLICATE_COSINE:
                    existing = self.store.get_many([near[0][0]])[near[0][0]]
                    merged = replace(existing, content=content, kind=kind, updated_at=now,
                                     importance=max(existing.importance, self._importance(importance, 0.0)))
                    self.store.update(conn, merged, blob, generation)
                    saved, deduplicated = merged, True
                else:
                    saved, deduplicated = None, False
            else:
                saved, deduplicated = None, False
            if saved is None:
                saved = Memory(id=memory_id or self.ids.new("mem"), tenant_id=tenant_id, scope=scope,
                               agent_id=agent_id, session_id=session_id, kind=kind, content=content,
                               importance=self._importance(importance, DEFAULT_IMPORTANCE), source=source,
                               created_at=created_at or now, updated_at=now, partition_id=partition)
                self.store.insert(conn, saved, blob, generation)
        self._publish_saved(saved, deduplicated)
        return saved, deduplicated

    def _publish_saved(self, memory: Memory, deduplicated: bool) -> None:
        topic = f"agent:{memory.agent_id}" if memory.agent_id else "activity"
        try:
            self.hub.publish(memory.tenant_id, topic, "memory.saved",
                             {"memory": memory.to_dict(), "deduplicated": deduplicated})
        except Exception:  # events are best effort; the memory is saved
            log.warning("could not publish memory.saved", exc_info=True)

    def get(self, tenant_id: str, memory_id: str) -> Memory:
        """A tenant's memory, or ``NotFound``."""
        memory = self.store.get(tenant_id, memory_id)
        if memory is None:
            raise NotFound(f"memory {memory_id} not found")
        assert memory.seq is not None  # a memory read from the store has its seq
        memory.document = self.documents.citations([memory.seq]).get(memory.seq)
        return memory

    def update(self, tenant_id: str, memory_id: str, fields: dict[str, Any]) -> Memory:
        """Change content, kind or importance; new content is re-embedded and re-indexed."""
        changes: dict[str, Any] = {}
        if "content" in fields:
            changes["content"] = self._content(fields["content"])
        if "kind" in fields:
            changes["kind"] = self._kind(fields["kind"])
        if "importance" in fields:
            changes["importance"] = self._importance(fields["importance"], DEFAULT_IMPORTANCE)
        current = self.get(tenant_id, memory_id)
        vector = self.embedder.embed_one(changes["content"]) if "content" in changes else None
        with self.db.write() as conn:
            current = self.get(tenant_id, memory_id)
            updated = replace(current, **changes, updated_at=self.clock.iso())
            blob = to_blob(vector) if vector is not None else None
            if blob is None and updated.kind != current.kind:  # vec0 holds kind: re-index with the same vector
                assert current.seq is not None  # a memory read from the store has its seq
                blob = self.store.vectors([current.seq])[0][1]
            self.store.update(conn, updated, blob, self.store.generation())
        return updated

    def delete(self, tenant_id: str, memory_id: str) -> Memory:
        """Delete a tenant's memory with its vectors and full-text entry; return what was deleted."""
        with self.db.write() as conn:
            memory = self.get(tenant_id, memory_id)
            self.store.delete(conn, memory)
        return memory

    def list_page(self, tenant_id: str, filters: dict[str, Any], *, limit: int | None,
                  cursor: str | None) -> Page:
        """One page of a tenant's memories, newest first, filtered by agent, scope, kind, session or source."""
        return self.store.page(tenant_id, filters, limit=limit, cursor=cursor)

    # -- search -------------------------------------------------------------------------------

    def _partitions(self, tenant_id: str, scope: str, agent_id: str | None, session_id: str | None) -> list[int]:
        if scope == "agent":
            if not agent_id:
                raise ValidationError("agent_id is required for scope agent", param="agent_id")
            if not self.store.agent_exists(tenant_id, agent_id):
                raise NotFound(f"agent {agent_id} not found", param="agent_id")
            audiences = [("agent", agent_id), ("workspace", "")]
            if session_id:
                if self.store.session_agent(tenant_id, session_id) is None:
                    raise NotFound(f"session {session_id} not found", param="session_id")
                audiences.append(("session", session_id))
            return self.store.partitions(tenant_id, audiences)
        if scope == "session":
            if not session_id:
                raise ValidationError("session_id is required for scope session", param="session_id")
            if self.store.session_agent(tenant_id, session_id) is None:
                raise NotFound(f"session {session_id} not found", param="session_id")
            return self.store.partitions(tenant_id, [("session", session_id)])
        if scope == "workspace":
            return self.store.partitions(tenant_id, None)
        raise ValidationError(f"scope must be one of {', '.join(SCOPES)}", param="scope")

    def search(self, tenant_id: str, *, query: str, scope: str = "agent", agent_id: str | None = None,
               session_id: str | None = None, max_results: int = 10, kinds: Sequence[str] | None = None,
               min_score: float | None = None, mode: str = "hybrid",
               query_vector: np.ndarray | None = None) -> list[dict[str, Any]]:
        """Best matches first: memory dicts with ``score`` in [0, 1] and ``match`` ranks.

        ``query_vector`` skips embedding ``query`` when the caller already has its vector.
        """
        hits, memories = self._ranked(tenant_id, query=query, scope=scope, agent_id=agent_id,
                                      session_id=session_id, max_results=max_results, kinds=kinds, mode=mode,
                                      query_vector=query_vector)
        for seq, citation in self.documents.citations(list(memories)).items():
            memories[seq].document = citation
        out = []
        for hit in hits:
            if min_score is not None and hit.score < min_score:
                continue
            memory = memories.get(hit.seq)
            if memory is None or memory.tenant_id != tenant_id:
                continue
            item = memory.to_dict()
            item["score"] = round(hit.score, 6)
            item["match"] = {"semantic": hit.semantic, "keyword": hit.keyword}
            out.append(item)
        return out

    def _ranked(self, tenant_id: str, *, query: str, scope: str, agent_id: str | None, session_id: str | None,
                max_results: int, kinds: Sequence[str] | None, mode: str,
                query_vector: np.ndarray | None = None) -> tuple[list[Hit], dict[int, Memory]]:
        if not isinstance(query, str) or not query.strip():
            raise ValidationError("query must be a non-empty string", param="query")
        for kind in kinds or ():
            self._kind(kind)
        partitions = self._partitions(tenant_id, scope, agent_id, session_id)
        if not partitions:
            return [], {}
        hits = self.ranker.search(query, query_vector, partitions, max_results, kinds=kinds or None, mode=mode,
                                  embed=lambda: self.embedder.embed_one(query))
        return hits, self.store.get_many([h.seq for h in hits])

    def recall(self, tenant_id: str, agent_id: str, query: str, limit: int = DEFAULT_MAX_RECALL,
               session_id: str | None = None, min_score: float = 0.0) -> list[dict[str, Any]]:
        """What an agent remembers about ``query`` (agent scope): at most ``limit`` memories scoring at
        least ``min_score`` (the run's ``QORVEN_RECALL_MIN_SCORE``), marked as recalled now."""
        if not query or not query.strip() or limit <= 0:
            return []
        results = self.search(tenant_id, query=query, scope="agent", agent_id=agent_id, session_id=session_id,
                              max_results=limit, min_score=min_score)
        self.mark_recalled(results)
        return results

    def mark_recalled(self, results: list[dict[str, Any]]) -> None:
        """Set ``last_recalled_at`` of the found memories (in the store and in ``results``) to now."""
        if not results:
            return
        now = self.clock.iso()
        ids = [r["id"] for r in results]
        with self.db.write() as conn:
            self.store.touch_recalled(conn, self.store.seqs_of(conn, ids), now)
        for r in results:
            r["last_recalled_at"] = now

    def for_agent(self, tenant_id: str, agent_id: str, session_id: str | None) -> AgentMemory:
        """The memory tools' view for one agent in one session."""
        return AgentMemory(self, tenant_id, agent_id, session_id)

    # -- learning after a run ------------------------------------------------------------------

    def after_run(self, tenant_id: str, agent: Agent, session_id: str | None, user_text: str, answer_text: str,
                  complete: Callable[[list[dict[str, Any]]], str]) -> list[dict[str, Any]]:
        """Ask the model for durable facts from one exchange and save them (deduplicated, source agent)."""
        if not getattr(agent, "memory_auto_save", True) or not (user_text or "").strip():
            return []
        reply = complete(extraction_messages(user_text, answer_text))
        saved = []
        for item in parse_extracted(reply)[:MAX_EXTRACTED]:
            try:
                memory, deduplicated = self.save(tenant_id, content=item["content"], kind=item["kind"],
                                                 scope="agent", agent_id=agent.id, session_id=session_id,
                                                 importance=item.get("importance"), source="agent")
            except (ValidationError, NotFound) as exc:
                log.info("skipped an extracted memory: %s", exc)
                continue
            saved.append({**memory.to_dict(), "deduplicated": deduplicated})
        return saved

    # -- documents' passages (in the caller's write transaction) -------------------------------

    def check_audience(self, tenant_id: str, scope: str, agent_id: str | None,
                       session_id: str | None) -> tuple[str | None, str | None, str]:
        """Check a (scope, agent, session) to store into; return (agent_id, session_id, partition owner)."""
        return self._audience(tenant_id, scope, agent_id, session_id)

    def insert_passages(self, conn: Connection, tenant_id: str, *, scope: str, agent_id: str | None,
                        session_id: str | None, owner: str, contents: Sequence[str],
                        vectors: np.ndarray) -> list[Memory]:
        """Store a document's passages as ``note`` memories from ``import`` with the caller's connection.

        Never de-duplicated (a passage belongs to its document, and deleting the document deletes it);
        no ``memory.saved`` event per passage (the document's own events tell the story).
        """
        generation = self.store.generation()
        partition = self.store.partition_for(conn, tenant_id, scope, owner)
        now = self.clock.iso()
        stored = []
        for content, vector in zip(contents, vectors):
            memory = Memory(id=self.ids.new("mem"), tenant_id=tenant_id, scope=scope, agent_id=agent_id,
                            session_id=session_id, kind="note", content=self._content(content),
                            importance=DEFAULT_IMPORTANCE, source="import", created_at=now, updated_at=now,
                            partition_id=partition)
            self.store.insert(conn, memory, to_blob(vector), generation)
            stored.append(memory)
        return stored

    def delete_passages(self, conn: Connection, seqs: Sequence[int]) -> None:
        """Delete these memories (a document's passages) with their index entries, with the caller's connection."""
        for memory in self.store.get_many(seqs).values():
            self.store.delete(conn, memory)

    # -- upkeep ---------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Row counts of the four memory tables (equal when the index is in step)."""
        return self.store.counts()
