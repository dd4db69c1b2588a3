"""Wait for a condition by polling it, instead of sleeping a guessed time or hand-rolling a deadline loop."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02,
               message: str | Callable[[], str] = "") -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy, and return that.

    After ``timeout`` seconds the test fails with ``message`` (a string, or a callable so it can report
    the state at the timeout) and the predicate's last value. The predicate is always called at least
    once more at the deadline, so a slow machine cannot fail a condition that did become true.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    text = message() if callable(message) else message
    raise AssertionError(f"{text or 'condition not met'} within {timeout} s (last value: {value!r})")
