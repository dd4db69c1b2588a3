"""Load the default local model at start, in the background, so a first question does not wait for it.

Loading a GGUF model takes seconds (the starter model: about 1 s on a quiet 2-core machine, 7-8 s on a
busy one); without this the first question pays it. Only a default that is a local model is loaded,
at most as many as the pool keeps resident, and only once the runtime is there: while `make run`
still builds llama-cpp-python in the background, this waits for the build and loads the model after.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from qorven_local.errors import QorvenError
from qorven_local.providers.local.options import runtime_state
from qorven_local.providers.local.provider import LocalGGUFProvider
from qorven_local.providers.registry import ProviderRegistry

log = logging.getLogger("qorven.providers.local")

PRELOAD_DELAY_S = 1.5   # after the embedder's warm-up has begun: the server prints its URL first
RUNTIME_POLL_S = 5.0    # how often to look whether a background build of the runtime has finished


class LocalModelPreload:
    """Loads each tenant's default model, when it is a local GGUF file, once, in a background thread."""

    def __init__(self, providers: ProviderRegistry, *, enabled: bool,
                 runtime: Callable[[], str] = runtime_state, poll_s: float = RUNTIME_POLL_S) -> None:
        self.providers = providers
        self.enabled = enabled
        self.runtime = runtime  # ready | preparing | missing (options.runtime_state)
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.loaded: list[str] = []  # model ids loaded by the preload (for the log and tests)
        self.done = threading.Event()

    def start(self, delay_s: float = PRELOAD_DELAY_S) -> None:
        """Begin after ``delay_s`` in a daemon thread (once); a no-op when disabled."""
        if not self.enabled or self._thread is not None:
            self.done.set()
            return
        self._thread = threading.Thread(target=self._run, args=(delay_s,), name="local-model-preload",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Give up waiting (for the delay or a runtime build); wait up to ``timeout`` s for a load in
        progress to finish: a process that exits while llama.cpp is loading on this thread can crash."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, delay_s: float) -> None:
        try:
            if self._stop.wait(delay_s):
                return
            targets = self._targets()
            if targets and self._wait_for_runtime():
                self._load(targets)
        except Exception:  # a failed preload only means the first question loads the model itself
            log.exception("preloading the default local model failed")
        finally:
            self.done.set()

    def _targets(self) -> list[tuple[str, LocalGGUFProvider, str]]:
        """(model id, adapter, file model) of each tenant's default that is a local model, distinct."""
        out: list[tuple[str, LocalGGUFProvider, str]] = []
        for tenant_id in self.providers.tenants.ids():
            mid = self.providers.default_model(tenant_id)
            if mid is None or any(mid == m for m, _, _ in out):
                continue
            try:
                resolved = self.providers.resolve(tenant_id, mid)
            except QorvenError:
                continue
            if isinstance(resolved.adapter, LocalGGUFProvider):
                out.append((resolved.model_id, resolved.adapter, resolved.upstream_model))
        return out

    def _wait_for_runtime(self) -> bool:
        """True once llama-cpp-python imports; waits while it is being built, False when it is missing."""
        while True:
            state = self.runtime()
            if state == "ready":
                return True
            if state != "preparing" or self._stop.wait(self.poll_s):
                return False

    def _load(self, targets: list[tuple[str, LocalGGUFProvider, str]]) -> None:
        resident = targets[0][1].pool.max_resident  # loading more would unload the first ones again
        for mid, adapter, model in targets[:resident]:
            if self._stop.is_set():
                return
            try:
                adapter.preload(model)
            except QorvenError as exc:
                log.warning("could not preload %s: %s", mid, exc.message)
                continue
            self.loaded.append(mid)
            log.info("preloaded the default model %s", mid)

