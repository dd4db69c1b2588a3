"""Time and ids: the clock and the prefixed-id factory every part takes, injectable so tests are deterministic."""

from __future__ import annotations

import os
import secrets
import threading
import time
from datetime import datetime, timezone

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


class Clock:
    """Wall-clock time; tests may subclass to freeze or advance it."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=timezone.utc)

    def iso(self) -> str:
        """Now as an ISO-8601 UTC string with milliseconds, e.g. 2026-11-28T13:12:11.123Z."""
        return iso(self.now())


def iso(moment: datetime) -> str:
    """Format a datetime as the API's ISO-8601 UTC string."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse the API's ISO-8601 strings (a trailing Z included)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class IdFactory:
    """Prefixed ids that sort by creation time: ``agt_`` + 10 time chars + 16 random chars."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def new(self, prefix: str) -> str:
        with self._lock:
            ms = int(self._clock.time() * 1000)
            if ms <= self._last_ms:  # keep ids monotonic within a millisecond
                ms = self._last_ms
                self._counter += 1
            else:
                self._counter = 0
            self._last_ms = ms
            value = (ms << 80) | (self._counter << 64) | int.from_bytes(os.urandom(8), "big")
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return f"{prefix}_{''.join(reversed(chars))}"

    @staticmethod
    def token_bytes(n: int) -> bytes:
        return secrets.token_bytes(n)
