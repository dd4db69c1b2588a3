"""The vector side of the memory index: binary KNN in vec0, then an exact float rescore.

Why this shape (measured on this class of machine, see ``bench/memory_search.py``):
an exact ``float[384]`` vec0 scan over 100k vectors costs 66-99 ms, a ``bit[384]`` scan a few ms.
So vec0 holds sign-quantised vectors and answers ``CANDIDATES`` nearest by Hamming distance,
filtered by partition (tenant + audience) inside the KNN query; in the same SQL statement the
float32 vectors of those candidates are read from a plain rowid table and ranked by exact cosine
(``MemoryStore.knn_rescored``). Recall@10 of this two-step search against exact brute force is
measured by the bench (target >= 0.95).

vec0 picks each partition's k nearest in O(rows x k), so beyond a scan of ~5 ms per 100k rows k is
what a KNN costs: 100k rows in 11 partitions took 5 ms at k = 1, 15 ms at k = 50 and 25 ms at
k = 100. Candidates per partition are therefore ``CANDIDATE_BUDGET`` shared out between the
partitions, between ``MIN_CANDIDATES`` and ``CANDIDATES``: an agent's search (its own partition and
the workspace) keeps 100 each, a workspace-wide search over many partitions takes 40 each. At 100k
memories in 11 partitions, 40 instead of 50 took a workspace search from 24.4 to 22.2 ms p50 for
a bench recall@10 of 0.975 instead of 0.985 (the target is 0.95; 30 gained nothing more and gave
0.957). The bench's memories come in clusters of ~50 noisy copies of one sentence, which is where
sign bits lose the order most; real memories are deduplicated at cosine 0.95.

Two or more partitions are searched in two halves on two threads, each half rescoring its own
candidates: two vec0 queries on their own connections run side by side at full speed, which took
a 100k-memory workspace search from 42 to 35 ms p50.

Upkeep (keeping ``memories``, ``memory_vectors``, ``memory_vec`` and ``memory_fts`` in step in one
transaction) is ``storage.memory.MemoryStore``'s job; this module only reads.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from qorven_local.memory.workers import both
from qorven_local.storage.memory import MemoryStore

DIMENSIONS = 384
CANDIDATES = 100          # bit-KNN candidates per partition (at most), rescored exactly with the floats
CANDIDATE_BUDGET = 200    # ... shared out between the partitions searched,
MIN_CANDIDATES = 40       # ... but never fewer than this per partition
RESCORE_MAX = 1000        # at most this many candidates (Hamming-nearest first) are rescored
SPLIT_MIN_MEMORIES = 30_000  # below this many memories a KNN is too short to share out (see nearest)


def to_blob(vector: np.ndarray) -> bytes:
    """A unit vector as the float32 blob vec0 and ``memory_vectors`` store."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    if vector.shape[0] != DIMENSIONS:
        raise ValueError(f"expected a {DIMENSIONS}-d vector, got {vector.shape[0]}")
    return vector.tobytes()


def from_blobs(blobs: Sequence[bytes]) -> np.ndarray:
    """Float32 blobs as an (n, 384) matrix."""
    if not blobs:
        return np.empty((0, DIMENSIONS), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), DIMENSIONS)


class VectorIndex:
    """Nearest memories to a query vector within a set of partitions."""

    def __init__(self, store: MemoryStore, candidates: int = CANDIDATES,
                 split_min_memories: int = SPLIT_MIN_MEMORIES) -> None:
        self.store = store
        self.candidates = candidates
        self.split_min_memories = split_min_memories

    def candidates_per_partition(self, partitions: int) -> int:
        """Bit-KNN candidates taken from each of ``partitions`` partitions (see module docstring)."""
        share = CANDIDATE_BUDGET // max(1, partitions)
        return min(self.candidates, max(MIN_CANDIDATES, share))

    def nearest(self, partitions: Sequence[int], query: np.ndarray, limit: int,
                kinds: Sequence[str] | None = None) -> list[tuple[int, float]]:
        """(seq, cosine) of the ``limit`` nearest memories, best first.

        A vec0 KNN query (``embedding MATCH ? AND k = ?`` with the partition filter inside it)
        returns the ``max(candidates_per_partition, limit)`` Hamming-nearest seqs of each partition;
        those (at most ``RESCORE_MAX``, Hamming-nearest first) are rescored with the exact cosine.
        Two or more partitions are searched in two halves side by side (``workers.both``) in a
        store of ``split_min_memories`` or more (handing a half to another thread costs ~0.5 ms here,
        more than it saves on a few thousand rows), except inside a write, whose uncommitted rows
        only this thread's connection sees.
        """
        if not partitions or limit <= 0:
            return []
        blob = to_blob(query)
        parts = sorted(set(partitions))
        k = max(self.candidates_per_partition(len(parts)), limit)

        def whole() -> list[tuple[int, float]]:
            return self._rescored(parts, blob, k, limit, RESCORE_MAX, kinds)

        def in_halves() -> list[tuple[int, float]]:
            if self.store.seq_high_water() < self.split_min_memories:
                return whole()
            halves = both(lambda: self._rescored(parts[0::2], blob, k, limit, RESCORE_MAX // 2, kinds),
                          lambda: self._rescored(parts[1::2], blob, k, limit, RESCORE_MAX // 2, kinds))
            return sorted([*halves[0], *halves[1]], key=lambda pair: (-pair[1], pair[0]))

        found = whole() if len(parts) < 2 else self.store.threaded_or_here(in_halves, whole)
        return found[:limit]

    def _rescored(self, parts: Sequence[int], blob: bytes, k: int, limit: int, most: int,
                  kinds: Sequence[str] | None) -> list[tuple[int, float]]:
        """(seq, cosine) of the ``limit`` best of the partitions' bit-KNN candidates, best first.

        k per partition come back and (at most ``most``, Hamming-nearest first) are all rescored:
        cutting the union down to the overall Hamming top-k first cost recall@10 across many
        partitions (0.79 at 100k, 11 partitions)."""
        return self.store.knn_rescored(parts, blob, k, max(most, limit), limit, kinds)

    def exact(self, partitions: Sequence[int], query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Brute-force nearest over every float vector of the partitions (the bench's ground truth)."""
        rows = self.store.vectors_in(partitions)
        if not rows:
            return []
        sims = from_blobs([r[1] for r in rows]) @ np.asarray(query, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[:limit]
        return [(rows[i][0], float(sims[i])) for i in order]
