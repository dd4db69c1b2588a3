"""A small progress bar for long CLI work (backup, integrity checks), on stderr, stdlib only.

Drawn in place only when stderr is a terminal; otherwise silent until ``close()`` prints one
summary line, so logs and tests read cleanly. tqdm would do, but one class is not worth a
dependency in a one-file build.
"""

from __future__ import annotations

import sys
import time
from typing import IO


class ProgressBar:
    """``with ProgressBar(total, "backup") as bar: bar.update(n)`` (``total`` may change as work is learnt)."""

    width = 30

    def __init__(self, total: int, label: str, *, unit: str = "", stream: IO[str] | None = None,
                 min_interval: float = 0.1) -> None:
        self.total = max(0, int(total))
        self.label = label
        self.unit = unit
        self.done = 0
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = min_interval
        self._started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int, total: int | None = None) -> None:
        """Set the absolute amount done (and the total, if it changed)."""
        if total is not None:
            self.total = max(0, int(total))
        self.done = max(0, int(done))
        now = time.monotonic()
        if self.live and (now - self._drawn >= self.min_interval or self.done >= self.total):
            self._drawn = now
            self.stream.write("\r" + self.render())
            self.stream.flush()

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def render(self) -> str:
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.label} [{bar}] {frac * 100:5.1f}% ({self.done}/{self.total}{unit})"

    def close(self) -> None:
        elapsed = time.monotonic() - self._started
        if self.live:
            self.stream.write("\r" + self.render() + f" {elapsed:.1f}s\n")
        else:
            self.stream.write(f"{self.label}: {self.done}/{self.total}{' ' + self.unit if self.unit else ''} "
                              f"in {elapsed:.1f}s\n")
        self.stream.flush()

    def __enter__(self) -> "ProgressBar":
        if self.live:
            self.update(0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
