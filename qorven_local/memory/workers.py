"""Two cores on one memory search: a pool of one thread per spare core, and ``both``.

A search is a chain of steps that each leave the GIL for most of their time (SQLite while it steps,
ONNX Runtime and numpy in their kernels), so halves of a step can run side by side: the keyword side
beside the query embedding, two halves of the KNN's partitions.
Measured on 2 cores, a split saves a third of a step rather than half (the halves share memory
bandwidth and the GIL), which is what brings a 100k-memory search near its latency target.

The pool has one thread per core beyond the caller's, so a half never competes for a core with
another half: ``both`` queues its second half and, if no pool thread has taken it by the time the
first half is done, runs it itself. A half queued behind the keyword side thus starts as soon as
that side is done, and under load (every pool thread busy) a search simply runs unsplit.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

A = TypeVar("A")
B = TypeVar("B")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


POOL_THREADS = cores() - 1  # halves that run beside their callers at once; 0 = everything serial

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The process's memory-search worker pool, started on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(1, POOL_THREADS), thread_name_prefix="memory-search")
        return _pool


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """``(first(), second())`` with ``second`` offered to the pool while ``first`` runs here.

    If no pool thread has started ``second`` by the time ``first`` returns, it runs here instead;
    if ``first`` raises, ``second`` is cancelled when it has not started (else left to finish).
    """
    if POOL_THREADS < 1:
        return first(), second()
    try:
        pending = pool().submit(second)
    except RuntimeError:  # the interpreter is exiting (concurrent.futures refuses new work)
        return first(), second()
    try:
        result = first()
    except BaseException:
        pending.cancel()
        raise
    if pending.cancel():
        return result, second()
    return result, pending.result()
