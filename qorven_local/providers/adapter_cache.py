"""Adapters of provider rows, built on first use and reused until the row's URL, key or name changes.

A key is decrypted here only to build an adapter (aad ``provider:<id>:key``, see ``key_aad``); a
replaced adapter is closed a minute later, so streams still using it can finish.
"""

from __future__ import annotations

import logging
import threading

from qorven_local.providers.events import Provider
from qorven_local.providers.kinds import create_provider
from qorven_local.providers.local.options import LocalOptions
from qorven_local.providers.types import ProviderRecord
from qorven_local.security.secrets import SecretBox

log = logging.getLogger("qorven.providers")

CLOSE_DELAY = 60.0  # seconds a replaced adapter stays open for the streams still using it


def key_aad(provider_id: str) -> str:
    """The associated data a provider's key is encrypted with (binds the ciphertext to its row)."""
    return f"provider:{provider_id}:key"


class AdapterCache:
    """One adapter per provider row, thread-safe."""

    def __init__(self, secrets: SecretBox, local: LocalOptions | None = None, read_timeout: float = 120.0) -> None:
        self.secrets = secrets
        self.local = local
        self.read_timeout = read_timeout  # the HTTP adapters' wait for each piece of an answer
        self._adapters: dict[str, tuple[tuple[str, str, str | None, str], Provider]] = {}
        self._lock = threading.Lock()

    def get(self, record: ProviderRecord) -> Provider:
        """The adapter for a provider row, reused while the row's URL and key stay the same."""
        version = (record.kind, record.base_url, record.key_enc, record.name)
        with self._lock:
            cached = self._adapters.get(record.id)
            if cached is not None and cached[0] == version:
                return cached[1]
        key = self.secrets.decrypt(record.key_enc, key_aad(record.id)) if record.key_enc else None
        adapter = create_provider(record.kind, record.base_url, key, record.name, local=self.local,
                                  read_timeout=self.read_timeout)
        with self._lock:
            old = self._adapters.get(record.id)
            self._adapters[record.id] = (version, adapter)
        if old is not None and old[1] is not adapter:
            _close_later(old[1])
        return adapter

    def one_off(self, record: ProviderRecord, key: str | None) -> Provider:
        """An adapter for a provider that is not saved (a connection test before saving); the caller closes it."""
        return create_provider(record.kind, record.base_url, key, record.name, local=self.local,
                               read_timeout=self.read_timeout)

    def forget(self, provider_id: str) -> None:
        """Drop a row's adapter (closed once its streams have had time to finish)."""
        with self._lock:
            old = self._adapters.pop(provider_id, None)
        if old is not None:
            _close_later(old[1])

    def close(self) -> None:
        """Close every adapter now (shutdown)."""
        with self._lock:
            adapters, self._adapters = list(self._adapters.values()), {}
        for _, adapter in adapters:
            try:
                adapter.close()
            except Exception:
                pass


def _close_later(adapter: Provider, delay: float = CLOSE_DELAY) -> None:
    """Close a replaced adapter once streams still using it have had time to finish."""
    timer = threading.Timer(delay, _safe_close, args=(adapter,))
    timer.daemon = True
    timer.start()


def _safe_close(adapter: Provider) -> None:
    try:
        adapter.close()
    except Exception:
        log.debug("closing a replaced provider adapter failed", exc_info=True)
