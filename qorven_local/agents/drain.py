"""Drain agent runs at shutdown: refuse new ones, give those in flight a grace period, then stop them.

A run still going when the database closes ended with ``DatabaseClosed`` and lost its answer; a
drained run is cancelled instead, which stores its answer ``stopped`` with the text streamed so far.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from qorven_local.errors import TooManyRuns

STOP_WAIT_S = 5.0     # after the cancel: how long a run gets to store what it streamed
RETRY_AFTER_S = 5     # a run refused during shutdown: the app is usually back within seconds


class RunDrain:
    """The runs in flight (each by its cancel event) and whether shutdown has begun."""

    def __init__(self) -> None:
        self._runs: dict[object, threading.Event] = {}
        self._closing = False
        self._changed = threading.Condition()

    @contextmanager
    def running(self, cancel: threading.Event) -> Iterator[None]:
        """Count one run while the block runs; ``TooManyRuns`` (with Retry-After) once shutdown began."""
        key = object()
        with self._changed:
            self.check()
            self._runs[key] = cancel
        try:
            yield
        finally:
            with self._changed:
                del self._runs[key]
                self._changed.notify_all()

    def check(self) -> None:
        """Refuse up front once shutdown began."""
        if self._closing:
            # too_many_runs rather than not_ready: channel jobs requeue on it instead of failing
            raise TooManyRuns("the server is shutting down; retry once it is back", retry_after=RETRY_AFTER_S)

    def drain(self, grace_s: float, stop_wait_s: float = STOP_WAIT_S) -> int:
        """Refuse new runs, wait up to ``grace_s`` for those in flight, cancel the rest and wait up to
        ``stop_wait_s`` for them to store their answers; return how many were still running then."""
        with self._changed:
            self._closing = True
            self._changed.wait_for(lambda: not self._runs, timeout=max(0.0, grace_s))
            for cancel in self._runs.values():
                cancel.set()
            self._changed.wait_for(lambda: not self._runs, timeout=stop_wait_s)
            return len(self._runs)
