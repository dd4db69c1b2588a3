"""Memories out and in as JSON-ready records (``qorven memory export|import``)."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from qorven_local.errors import NotFound, ValidationError
from qorven_local.memory.service import MemoryService
from qorven_local.storage.memory import MemoryStore

Progress = Callable[[int, int], None]
_MEMORY_ID = re.compile(r"mem_[0-9a-z]{26}")


def export_memories(store: MemoryStore, tenant_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every memory as a JSON-ready dict (with ``tenant_id``), oldest first."""
    for memory in store.iter_all(tenant_id):
        yield {**memory.to_dict(), "tenant_id": memory.tenant_id}


def _valid_memory_id(value: Any) -> bool:
    return isinstance(value, str) and _MEMORY_ID.fullmatch(value) is not None


def import_memories(memory: MemoryService, records: Sequence[Any], tenant_id: str | None = None,
                    batch: int = 64, progress: Progress | None = None) -> dict[str, Any]:
    """Save exported (or hand-written) records: ``{content, kind?, scope?, agent_id?, session_id?, ...}``.

    A record keeps its ``mem_`` id when that id is free, and a record whose id is already stored
    is skipped, so importing an export twice changes nothing. Others are saved with dedupe like
    any memory, source ``import``. A record that fails (unknown agent, bad kind...) is counted
    in ``failed`` with its index and reason in ``errors``; the rest are still imported.
    """
    store = memory.store
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
            elif _valid_memory_id(record.get("id")) and store.id_exists(record["id"]):
                stats["skipped"] += 1
            else:
                usable.append((index, record))
        vectors = memory.embed([r["content"].strip() for _, r in usable]) if usable else np.empty((0, 0))
        for (index, record), vector in zip(usable, vectors):
            tenant = tenant_id or record.get("tenant_id") or "default"
            try:
                if not store.tenant_exists(tenant):
                    raise NotFound(f"tenant {tenant} does not exist")
                _, deduplicated = memory.save(
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
