"""The CLI's one progress bar for long work (backup, checks, reindex, imports), on stderr, stdlib only.

Drawn in place when stderr is a terminal. Otherwise (logs, pipes, tests) it writes a plain line
at most every ``LOG_INTERVAL_S`` seconds and when the work is done, and ``close()`` adds one
summary line. tqdm would do, but one class is not worth a dependency in a one-file build.
"""

from __future__ import annotations

import sys
import time
from typing import IO

LOG_INTERVAL_S = 2.0


class ProgressBar:
    """``with ProgressBar(total, "backup") as bar: bar.update(n)`` (``total`` may change as work is learnt).

    The bar is also a ``progress(done, total)`` callback: ``reindex(..., progress=bar)``.
    """

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
        self._logged = self._started

    def update(self, done: int, total: int | None = None) -> None:
        """Set the absolute amount done (and the total, if it changed)."""
        if total is not None:
            self.total = max(0, int(total))
        self.done = max(0, int(done))
        now = time.monotonic()
        finished = self.done >= self.total
        if self.live and (now - self._drawn >= self.min_interval or finished):
            self._drawn = now
            self.stream.write("\r" + self.render())
            self.stream.flush()
        elif not self.live and (now - self._logged >= LOG_INTERVAL_S or finished):
            self._logged = now
            self.stream.write(self.render() + "\n")
            self.stream.flush()

    __call__ = update

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.update(self.done + n)

    def render(self) -> str:
        """The bar as one line: label, bar, percentage, amount and rate."""
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        unit = f" {self.unit}" if self.unit else ""
        rate = self.done / max(time.monotonic() - self._started, 1e-6)
        return f"{self.label} [{bar}] {frac * 100:5.1f}% ({self.done}/{self.total}{unit}, {rate:.0f}/s)"

    def close(self) -> None:
        """Finish the bar: the final state and the time taken (one summary line when not live)."""
        elapsed = time.monotonic() - self._started
        if self.live:
            self.stream.write("\r" + self.render() + f" {elapsed:.1f}s\n")
        else:
            self.stream.write(f"{self.label}: {self.done}/{self.total}{' ' + self.unit if self.unit else ''} "
                              f"in {elapsed:.1f}s\n")
        self.stream.flush()

    def __enter__(self) -> ProgressBar:
        if self.live:
            self.update(0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
