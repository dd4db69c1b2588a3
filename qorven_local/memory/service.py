"""MemoryService (``ctx.memory``): save with dedupe, hybrid search, recall for runs, upkeep.

Scopes (API.md): a memory belongs to an agent (``scope='agent'``), a session (``'session'``) or the
tenant's workspace (``'workspace'``). Searching with ``scope=agent`` sees that agent's memories plus
the workspace's (plus the given session's session memories, when ``session_id`` is passed);
``workspace`` sees every memory of the tenant; ``session`` sees that session's session memories.

``last_recalled_at`` is set when an agent recalls a memory (before a run, or through the
``memory_search`` tool); the HTTP search endpoint is a plain read and leaves it alone.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import replace
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import NotFound, ValidationError
from qorven_local.memory.embedder import Embedder
from qorven_local.memory.index import VectorIndex, to_blob
from qorven_local.memory.search import HybridSearch
from qorven_local.storage.db import Database
from qorven_local.storage.memory import KINDS, SCOPES, SOURCES, Memory, MemoryStore

log = logging.getLogger("qorven.memory")

DUPLICATE_COSINE = 0.95       # same scope and at least this similar: update instead of insert
DEFAULT_IMPORTANCE = 0.5
MAX_CONTENT_CHARS = 8000
MAX_EXTRACTED = 5             # memories saved from one run at most

_shared_lock = threading.Lock()
_shared: Embedder | None = None


def shared_embedder() -> Embedder:
    """The process's one Embedder: the model's weights are loaded once however many contexts exist."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Embedder()
        return _shared


def preload_embedder() -> None:
    """Start loading the shared model in a background thread now, at process start, so it loads
    while the rest of the app is imported rather than after (the launcher waits for /readyz)."""
    def load() -> None:
        try:
            shared_embedder().ensure_loaded()
        except Exception:  # NotReady and the like: the warm-up reports it through /readyz
            pass

    threading.Thread(target=load, name="embedder-preload", daemon=True).start()


WARM_UP_DELAY_S = 1.0


def warm_embedder(ctx: Any) -> None:
    """Runtime startup hook: load the embedding model in the background (``/readyz`` waits for it).

    It starts after ``WARM_UP_DELAY_S`` so the loading (GIL- and CPU-heavy) does not compete with
    the server's own first moments (printing its URL, installing signal handlers); a readiness
    probe or a first search starts it at once.
    """
    if getattr(ctx, "memory", None) is not None:
        timer = threading.Timer(WARM_UP_DELAY_S, ctx.memory.start_warm_up)
        timer.daemon = True
        timer.start()


class MemoryService:
    """The memory domain over one database; ``hub`` returns the event hub (or None) when publishing."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, embedder: Embedder | None = None,
                 hub: Callable[[], Any] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.embedder = embedder or shared_embedder()
        self.store = MemoryStore(db)
        self.index = VectorIndex(self.store)
        self.ranker = HybridSearch(self.store, self.index)
        self._hub = hub or (lambda: None)
        self._warm = threading.Event()
        self._warm_error: str | None = None
        self._warm_seconds: float | None = None
        self._warm_thread: threading.Thread | None = None

    # -- embedder warm-up and readiness ------------------------------------------------------

    def start_warm_up(self) -> None:
        """Load the model in a background thread (once); ``readiness`` reports when it is done."""
        with _shared_lock:
            if self._warm_thread is not None:
                return
            self._warm_thread = threading.Thread(target=self.warm_up, name="embedder-warm-up", daemon=True)
        self._warm_thread.start()

    def warm_up(self) -> None:
        """Load the model and embed one text."""
        started = self.clock.monotonic()
        try:
            self.embedder.embed(["warm up"])
            self._warm_seconds = self.clock.monotonic() - started
        except Exception as exc:  # reported by the readiness check
            self._warm_error = f"{type(exc).__name__}: {exc}"
            log.error("the embedding model failed to load: %s", exc)
        finally:
            self._warm.set()

    def readiness(self, wait_s: float = 20.0) -> tuple[bool, str]:
        """(ok, detail) for /readyz: the embedder answered. Waits up to ``wait_s`` for the warm-up
        (started here if no startup hook did), so a probe right after start does not race it."""
        self.start_warm_up()
        self._warm.wait(wait_s)
        if self._warm_error:
            return False, self._warm_error
        if not self._warm.is_set():
            return False, f"{self.embedder.model_id} is loading"
        return True, f"{self.embedder.model_id} answered (warm-up {self._warm_seconds:.2f} s)"

    # -- vectors ----------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (n, 384) for the texts."""
        return self.embedder.embed(list(texts))

    def count_tokens(self, texts: Sequence[str]) -> int:
        return self.embedder.count_tokens(list(texts))

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
        hub = self._hub()
        if hub is None:
            return
        topic = f"agent:{memory.agent_id}" if memory.agent_id else "activity"
        try:
            hub.publish(memory.tenant_id, topic, "memory.saved",
                        {"memory": memory.to_dict(), "deduplicated": deduplicated})
        except Exception:  # events are best effort; the memory is saved
            log.warning("could not publish memory.saved", exc_info=True)

    def get(self, tenant_id: str, memory_id: str) -> Memory:
        memory = self.store.get(tenant_id, memory_id)
        if memory is None:
            raise NotFound(f"memory {memory_id} not found")
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
                blob = self.store.vectors([current.seq])[0][1]
            self.store.update(conn, updated, blob, self.store.generation())
        return updated

    def delete(self, tenant_id: str, memory_id: str) -> Memory:
        with self.db.write() as conn:
            memory = self.get(tenant_id, memory_id)
            self.store.delete(conn, memory.seq)
        return memory

    def list_page(self, tenant_id: str, filters: dict[str, Any], *, limit: int | None, cursor: str | None):
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
                max_results: int, kinds: Sequence[str] | None, mode: str, query_vector: np.ndarray | None = None):
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

    def recall(self, tenant_id: str, agent_id: str, query: str, limit: int = 5,
               session_id: str | None = None) -> list[dict[str, Any]]:
        """What an agent remembers about ``query`` (agent scope), marked as recalled now."""
        if not query or not query.strip():
            return []
        results = self.search(tenant_id, query=query, scope="agent", agent_id=agent_id, session_id=session_id,
                              max_results=limit)
        self._touch(results)
        return results

    def _touch(self, results: list[dict[str, Any]]) -> None:
        if not results:
            return
        now = self.clock.iso()
        ids = [r["id"] for r in results]
        with self.db.write() as conn:
            self.store.touch_recalled(conn, self.store.seqs_of(conn, ids), now)
        for r in results:
            r["last_recalled_at"] = now

    def for_agent(self, tenant_id: str, agent_id: str, session_id: str | None) -> "AgentMemory":
        """The memory tools' view for one agent in one session."""
        return AgentMemory(self, tenant_id, agent_id, session_id)

    # -- learning after a run ------------------------------------------------------------------

    def after_run(self, tenant_id: str, agent: Any, session_id: str | None, user_text: str, answer_text: str,
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

    # -- upkeep: consistency, reindex, export, import ----------------------------------------------

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def reindex(self, progress: Callable[[int, int], None] | None = None, restart: bool = False,
                batch: int = 64) -> int:
        """Re-embed every memory; resumable: an interrupted run continues where it stopped.

        A run bumps the index generation first (unless an earlier run was interrupted: rows of an
        older generation remain, and those are what is left to do), then re-embeds older rows in
        batches, one transaction per batch. New memories saved meanwhile get the new generation.
        """
        generation = self.store.generation()
        if restart or self.store.stale_count(generation) == 0:
            generation += 1
            with self.db.write() as conn:
                self.store.set_generation(conn, generation)
        total = self.store.stale_count(generation)
        done = 0
        if progress:
            progress(done, total)
        while True:
            rows = self.store.stale_batch(generation, batch)
            if not rows:
                break
            vectors = self.embedder.embed([content for _, content in rows])
            with self.db.write() as conn:
                for (seq, _), vector in zip(rows, vectors):
                    self.store.replace_vector(conn, seq, to_blob(vector), generation)
            done += len(rows)
            if progress:
                progress(done, total)
        return done

    def export(self, tenant_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Every memory as a JSON-ready dict (with ``tenant_id``), oldest first."""
        for memory in self.store.iter_all(tenant_id):
            yield {**memory.to_dict(), "tenant_id": memory.tenant_id}

    def import_records(self, records: Sequence[dict[str, Any]], tenant_id: str | None = None, batch: int = 64,
                       progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Save exported (or hand-written) records: ``{content, kind?, scope?, agent_id?, session_id?, ...}``.

        A record keeps its ``mem_`` id when that id is free, and a record whose id is already stored
        is skipped, so importing an export twice changes nothing. Others are saved with dedupe like
        any memory, source ``import``. A record that fails (unknown agent, bad kind...) is counted
        in ``failed`` with its index and reason in ``errors``; the rest are still imported.
        """
        stats: dict[str, Any] = {"imported": 0, "deduplicated": 0, "skipped": 0, "failed": 0, "errors": []}
        total = len(records)
        if progress:
            progress(0, total)
        for start in range(0, total, batch):
            chunk = list(enumerate(records[start:start + batch], start))
            usable = []
            for index, record in chunk:
                if not isinstance(record, dict) or not isinstance(record.get("content"), str) \
                        or not record["content"].strip():
                    stats["failed"] += 1
                    stats["errors"].append((index, "a record needs a non-empty content string"))
                elif _valid_memory_id(record.get("id")) and self.store.id_exists(record["id"]):
                    stats["skipped"] += 1
                else:
                    usable.append((index, record))
            vectors = self.embed([r["content"].strip() for _, r in usable]) if usable else []
            for (index, record), vector in zip(usable, vectors):
                tenant = tenant_id or record.get("tenant_id") or "default"
                try:
                    if not self.store.tenant_exists(tenant):
                        raise NotFound(f"tenant {tenant} does not exist")
                    _, deduplicated = self.save(
                        tenant, content=record["content"], kind=record.get("kind", "note"),
                        scope=record.get("scope", "workspace"), agent_id=record.get("agent_id"),
                        session_id=record.get("session_id"), importance=record.get("importance"),
                        source="import", vector=vector, created_at=record.get("created_at"),
                        memory_id=record["id"] if _valid_memory_id(record.get("id")) else None)
                except (NotFound, ValidationError) as exc:
                    stats["failed"] += 1
                    stats["errors"].append((index, exc.message))
                    continue
                stats["deduplicated" if deduplicated else "imported"] += 1
            if progress:
                progress(min(start + batch, total), total)
        return stats


def _valid_memory_id(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"mem_[0-9a-z]{26}", value) is not None


class AgentMemory:
    """``memory_search`` / ``memory_save`` on behalf of one agent (tools.context.MemoryService)."""

    def __init__(self, service: MemoryService, tenant_id: str, agent_id: str, session_id: str | None) -> None:
        self.service = service
        self.tenant_id = tenant_id
        self.agent_id = agent_id
        self.session_id = session_id

    def search(self, query: str, max_results: int) -> list[dict[str, Any]]:
        results = self.service.search(self.tenant_id, query=query, scope="agent", agent_id=self.agent_id,
                                      session_id=self.session_id, max_results=max_results)
        self.service._touch(results)
        return results

    def save(self, content: str, kind: str) -> dict[str, Any]:
        memory, deduplicated = self.service.save(self.tenant_id, content=content, kind=kind, scope="agent",
                                                 agent_id=self.agent_id, session_id=self.session_id,
                                                 source="agent")
        return {**memory.to_dict(), "deduplicated": deduplicated}


EXTRACTION_PROMPT = """You maintain an assistant's long-term memory. From the exchange below, pick out what is \
worth remembering in later conversations: durable facts about the user or their work, stated preferences, \
decisions, names, identifiers and how-tos. Skip small talk, one-off requests and anything only true right now.

Answer with JSON only, no prose:
{"memories": [{"content": "<one self-contained sentence>", "kind": "fact|preference|note|skill|summary", \
"importance": <0..1>}]}
Answer {"memories": []} when nothing is worth keeping."""


def extraction_messages(user_text: str, answer_text: str) -> list[dict[str, str]]:
    """The one model call of the post-run step."""
    exchange = f"User:\n{user_text.strip()[:6000]}\n\nAssistant:\n{(answer_text or '').strip()[:6000]}"
    return [{"role": "system", "content": EXTRACTION_PROMPT}, {"role": "user", "content": exchange}]


def _json_values(text: str) -> Iterator[Any]:
    """Every JSON object or array that can be decoded starting at a ``{`` or ``[`` in ``text``."""
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                value, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            yield value


def parse_extracted(reply: str) -> list[dict[str, Any]]:
    """Memories from the model's reply, tolerating code fences, prose around the JSON, a bare
    list, strings instead of objects and unknown kinds (which become ``fact``)."""
    if not isinstance(reply, str):
        return []
    for value in _json_values(reply):
        items = None
        if isinstance(value, dict):
            for key in ("memories", "facts", "items"):
                if isinstance(value.get(key), list):
                    items = value[key]
                    break
            if items is None and isinstance(value.get("content"), str):
                items = [value]
        elif isinstance(value, list):
            items = value
        if items is None:
            continue
        out = []
        for item in items:
            if isinstance(item, str):
                item = {"content": item}
            if not isinstance(item, dict):
                continue
            content = item.get("content") or item.get("fact") or item.get("text")
            if not isinstance(content, str) or not content.strip():
                continue
            kind = item.get("kind") if item.get("kind") in KINDS else "fact"
            importance = item.get("importance")
            if isinstance(importance, bool) or not isinstance(importance, (int, float)):
                importance = None
            else:
                importance = min(1.0, max(0.0, float(importance)))
            out.append({"content": content.strip()[:2000], "kind": kind, "importance": importance})
        return out
    return []
