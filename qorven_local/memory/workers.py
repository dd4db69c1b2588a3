"""Two cores on one memory search: a small shared thread pool and ``both``.

A search is a chain of steps that each leave the GIL for most of their time (SQLite while it steps,
numpy inside BLAS), so halves of a step can run side by side: the keyword side beside the query
embedding, half of each large matrix product of the embedding, half of the partitions of the KNN.
Measured on 2 cores, a split halves nothing (the halves share memory bandwidth and the GIL) but
saves a third of the step, which is what brings a 100k-memory search under its latency target.

``both`` never waits for a pool thread that has not started: when every pool thread is busy (many
searches at once) the second half runs on the caller's thread after the first, as if unsplit.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

POOL_THREADS = 4   # halves of searches that run beside their callers at once (per process)

A = TypeVar("A")
B = TypeVar("B")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_running = 0              # halves running on pool threads right now
_running_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The process's memory-search worker pool, started on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="memory-search")
        return _pool


def pool_busy() -> bool:
    """True while a half handed to the pool is running (its thread holds the other core)."""
    return _running > 0


def both(first: Callable[[], A], second: Callable[[], B], *, only_if_idle: bool = False) -> tuple[A, B]:
    """``(first(), second())`` with ``second`` on a pool thread while ``first`` runs here.

    If no pool thread has picked ``second`` up by the time ``first`` returns, it runs here instead;
    if ``first`` raises, ``second`` is cancelled when it has not started (else left to finish).
    ``only_if_idle`` runs both here, one after the other, while another half is running on the
    pool: that half already holds the other core, and splitting beside it only adds contention.
    """
    if only_if_idle and _running:
        return first(), second()
    pending = pool().submit(_counted, second)
    try:
        result = first()
    except BaseException:
        pending.cancel()
        raise
    if pending.cancel():
        return result, second()
    return result, pending.result()


def _counted(work: Callable[[], B]) -> B:
    global _running
    with _running_lock:
        _running += 1
    try:
        return work()
    finally:
        with _running_lock:
            _running -= 1
