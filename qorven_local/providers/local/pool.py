"""Loaded local models by path: lazy load, at most ``max_resident`` (the least recently used idle one
is unloaded to make room), and a janitor thread that unloads models idle for ``idle_seconds``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from qorven_local.errors import ProviderError
from qorven_local.providers.local.options import LocalOptions, runtime_hint

log = logging.getLogger("qorven.providers.local")


def generation_threads() -> int:
    """Threads for llama.cpp: half the logical CPUs (the physical cores on SMT machines), at least one.

    The same count serves prompt evaluation (``n_threads_batch``, which llama-cpp-python otherwise sets
    to every CPU): its OpenMP threads spin at barriers, and on a busy 2-core machine two of them took
    50 s for a 15-token prompt that one thread evaluates in 1.2 s (bench/first_answer.py).
    """
    return max(1, (os.cpu_count() or 2) // 2)


def load_llama(path: Path, n_ctx: int) -> Any:
    """The default loader: a llama_cpp.Llama for ``path`` (ProviderError when the runtime is missing)."""
    try:
        from llama_cpp import Llama
    except Exception:
        raise ProviderError(runtime_hint(), details={"kind": "local"}) from None
    try:
        threads = generation_threads()
        return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
    except Exception as exc:
        raise ProviderError(f"local model {path.name!r} failed to load: {exc}", details={"kind": "local"}) from None


class LoadedModel:
    """One model in the pool: its llama.cpp handle (None while loading), users and last use."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.users = 0
        self.last_used = time.monotonic()
        self.run_lock = threading.Lock()  # one generation at a time per loaded model


class ModelPool:
    """Loaded models by path: lazy load, at most ``max_resident``, idle unload by a janitor thread."""

    def __init__(self, loader: Callable[[Path, int], Any] = load_llama, *, max_resident: int = 1,
                 idle_seconds: float = 600.0) -> None:
        self.loader = loader
        self.max_resident = max(1, max_resident)
        self.idle_seconds = idle_seconds
        self._models: dict[str, LoadedModel] = {}
        self._cond = threading.Condition()
        self._janitor: threading.Thread | None = None
        self._closed = False

    def configure(self, max_resident: int, idle_seconds: float) -> None:
        with self._cond:
            self.max_resident, self.idle_seconds = max(1, max_resident), idle_seconds
            self._cond.notify_all()

    def loaded(self) -> list[str]:
        with self._cond:
            return list(self._models)

    def in_use(self) -> list[str]:
        """Paths of the models a request is using (or loading) now."""
        with self._cond:
            return [k for k, e in self._models.items() if e.users > 0]

    def acquire(self, path: Path, n_ctx: int, timeout: float = 300.0) -> LoadedModel:
        key = str(path)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                entry = self._models.get(key)
                if entry is not None and entry.llm is not None:
                    entry.users += 1
                    entry.last_used = time.monotonic()
                    return entry
                # not there yet: load it when a slot is free; being loaded (a preload, another request):
                # wait for that load, which notifies when it ends either way
                if entry is None and (len(self._models) < self.max_resident or self._evict_one()):
                    break
                if time.monotonic() > deadline:
                    raise ProviderError(f"local model {path.name} is still loading" if entry is not None else
                                        f"every loaded local model is busy (max {self.max_resident} resident)",
                                        details={"kind": "local"})
                self._cond.wait(0.5)
            self._models[key] = entry = LoadedModel(None)  # reserve the slot while loading
            entry.users = 1
        try:
            started = time.perf_counter()
            llm = self.loader(path, n_ctx)
            with self._cond:
                entry.llm = llm
                self._cond.notify_all()  # requests waiting for this load
            log.info("loaded local model %s in %.0f ms", path.name, (time.perf_counter() - started) * 1000)
        except BaseException:
            with self._cond:
                self._models.pop(key, None)
                self._cond.notify_all()
            raise
        self._start_janitor()
        return entry

    def release(self, entry: LoadedModel) -> None:
        with self._cond:
            entry.users -= 1
            entry.last_used = time.monotonic()
            self._cond.notify_all()

    def _evict_one(self) -> bool:
        """Unload the least recently used idle model (lock held); False when all are busy."""
        idle = [(e.last_used, k) for k, e in self._models.items() if e.users == 0 and e.llm is not None]
        if not idle:
            return False
        _, key = min(idle)
        _unload(self._models.pop(key), key)
        return True

    def sweep(self) -> list[str]:
        """Unload models idle for longer than ``idle_seconds``; returns their paths."""
        now = time.monotonic()
        with self._cond:
            stale = [k for k, e in self._models.items()
                     if e.users == 0 and e.llm is not None and now - e.last_used >= self.idle_seconds]
            for key in stale:
                _unload(self._models.pop(key), key)
            if stale:
                self._cond.notify_all()
        return stale

    def _start_janitor(self) -> None:
        with self._cond:
            if self._janitor is not None and self._janitor.is_alive():
                return
            self._janitor = threading.Thread(target=self._run_janitor, name="local-model-janitor", daemon=True)
            self._janitor.start()

    def _run_janitor(self) -> None:
        while True:
            with self._cond:
                if self._closed or not self._models:
                    self._janitor = None
                    return
                interval = min(5.0, max(0.05, self.idle_seconds / 4))
            time.sleep(interval)
            self.sweep()

    def unload_idle(self) -> list[str]:
        """Unload every model no request is using now; returns their paths."""
        with self._cond:
            idle = [k for k, e in self._models.items() if e.users == 0 and e.llm is not None]
            for key in idle:
                _unload(self._models.pop(key), key)
            if idle:
                self._cond.notify_all()
        return idle

    def close(self) -> None:
        with self._cond:
            self._closed = True
        self.unload_idle()


def _unload(entry: LoadedModel, key: str) -> None:
    try:
        close = getattr(entry.llm, "close", None)
        if close is not None:
            close()
    except Exception:
        log.debug("closing local model %s failed", key, exc_info=True)
    entry.llm = None
    log.info("unloaded local model %s", Path(key).name)


_SHARED_POOL: ModelPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool(options: LocalOptions) -> ModelPool:
    """The process-wide pool, so the resident limit holds across local providers."""
    global _SHARED_POOL
    with _SHARED_LOCK:
        if _SHARED_POOL is None:
            _SHARED_POOL = ModelPool(max_resident=options.max_resident, idle_seconds=options.idle_seconds)
        else:
            _SHARED_POOL.configure(options.max_resident, options.idle_seconds)
        return _SHARED_POOL
