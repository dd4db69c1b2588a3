"""Re-embed every memory (after a model change), resumably: an interrupted run continues where it stopped."""

from __future__ import annotations

from typing import Callable

from qorven_local.memory.embedder import Embedder
from qorven_local.memory.index import to_blob
from qorven_local.storage.db import Database
from qorven_local.storage.memory import MemoryStore

Progress = Callable[[int, int], None]


def reindex(db: Database, store: MemoryStore, embedder: Embedder, progress: Progress | None = None,
            restart: bool = False, batch: int = 64) -> int:
    """Re-embed every memory; return how many were re-embedded.

    A run bumps the index generation first (unless an earlier run was interrupted: rows of an
    older generation remain, and those are what is left to do), then re-embeds older rows in
    batches, one transaction per batch. New memories saved meanwhile get the new generation.
    """
    generation = store.generation()
    if restart or store.stale_count(generation) == 0:
        generation += 1
        with db.write() as conn:
            store.set_generation(conn, generation)
    total = store.stale_count(generation)
    done = 0
    if progress:
        progress(done, total)
    while True:
        rows = store.stale_batch(generation, batch)
        if not rows:
            break
        vectors = embedder.embed([content for _, content in rows])
        with db.write() as conn:
            for (seq, _), vector in zip(rows, vectors):
                store.replace_vector(conn, seq, to_blob(vector), generation)
        done += len(rows)
        if progress:
            progress(done, total)
    return done
