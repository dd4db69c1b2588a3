"""Embedder warm-up at start: load the model in the background and tell ``/readyz`` when it answers."""

from __future__ import annotations

import logging
import threading

from qorven_local.clock import Clock
from qorven_local.memory.embedder import Embedder

log = logging.getLogger("qorven.memory")

WARM_UP_DELAY_S = 1.0


class EmbedderWarmUp:
    """Loads the model once, in a background thread, and reports readiness (``/readyz``'s ``embedder``)."""

    def __init__(self, embedder: Embedder, clock: Clock) -> None:
        self.embedder = embedder
        self.clock = clock
        self._warm = threading.Event()
        self._warm_error: str | None = None
        self._warm_seconds: float | None = None
        self._warm_thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Load the model in a background thread (once); ``readiness`` reports when it is done."""
        with self._start_lock:
            if self._warm_thread is not None:
                return
            self._warm_thread = threading.Thread(target=self.warm_up, name="embedder-warm-up", daemon=True)
        self._warm_thread.start()

    def warm_up(self) -> None:
        """Load the model and embed one text."""
        started = self.clock.monotonic()
        try:
            self.embedder.embed(["warm up"])
            self._warm_seconds = self.clock.monotonic() - started
        except Exception as exc:  # reported by the readiness check
            self._warm_error = f"{type(exc).__name__}: {exc}"
            log.error("the embedding model failed to load: %s", exc)
        finally:
            self._warm.set()

    def readiness(self, wait_s: float = 20.0) -> tuple[bool, str]:
        """(ok, detail) for /readyz: the embedder answered. Waits up to ``wait_s`` for the warm-up
        (started here if no startup hook did), so a probe right after start does not race it."""
        self.start()
        self._warm.wait(wait_s)
        if self._warm_error:
            return False, self._warm_error
        if not self._warm.is_set():
            return False, f"{self.embedder.model_id} is loading"
        return True, f"{self.embedder.model_id} answered (warm-up {self._warm_seconds:.2f} s)"


def warm_embedder(warm_up: EmbedderWarmUp) -> None:
    """Start-up hook: begin the warm-up after ``WARM_UP_DELAY_S`` (``/readyz`` waits for it).

    The delay keeps the loading (GIL- and CPU-heavy) from competing with the server's own first
    moments (printing its URL, installing signal handlers); a readiness probe or a first search
    starts it at once.
    """
    timer = threading.Timer(WARM_UP_DELAY_S, warm_up.start)
    timer.daemon = True
    timer.start()
