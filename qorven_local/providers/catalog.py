"""The models each provider offers: fetched from the provider, cached in storage, listed with marks.

A provider's catalog is fetched the first time it is listed, on ``refresh``, by a connection test,
and every time for kinds whose listing is cheap (``ProviderKind.fresh_catalog``); a failed fetch is
recorded on the row (``models_error``) and its cached models stay listed. Kinds with
``model_files`` also import models and describe each (size, quantization, file).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Callable

from qorven_local.clock import Clock
from qorven_local.errors import QorvenError, ValidationError
from qorven_local.providers.adapter_cache import AdapterCache
from qorven_local.providers.kinds import provider_kind
from qorven_local.providers.local.defaults import describe_model, file_model_labels
from qorven_local.providers.local.importer import import_model
from qorven_local.providers.local.options import LocalOptions
from qorven_local.providers.types import CatalogModel, ProviderRecord, model_id
from qorven_local.storage.db import Database
from qorven_local.storage.providers import ProviderStore

FILE_DETAILS = ("size_bytes", "quantization", "file")


class ModelCatalog:
    """Fetches, caches and lists the providers' models; ``on_change`` runs after every write."""

    def __init__(self, db: Database, store: ProviderStore, clock: Clock, adapters: AdapterCache,
                 on_change: Callable[[], None], local: LocalOptions | None = None) -> None:
        self.db = db
        self.store = store
        self.clock = clock
        self.adapters = adapters
        self.on_change = on_change
        self.local = local  # where the model_files kinds keep their models (None: not in this server)

    def fetch(self, record: ProviderRecord) -> list[CatalogModel]:
        """Ask the provider for its models and cache them; a failure is recorded, then raised."""
        now = self.clock.iso()
        try:
            infos = self.adapters.get(record).list_models()
        except QorvenError as exc:
            self._record_fetch(record, now, None, exc.message)
            raise
        models = [CatalogModel(record.id, m.id, m.owned_by, m.context_length) for m in infos]
        self._record_fetch(record, now, models, None)
        return models

    def _record_fetch(self, record: ProviderRecord, now: str, models: list[CatalogModel] | None,
                      error: str | None) -> None:
        """Store a fetch's outcome on the row (and its models when it succeeded), unless the row is gone."""
        with self.db.write() as conn:
            current = self.store.get(record.tenant_id, record.id)
            if current is not None:
                if models is not None:
                    self.store.replace_catalog(conn, record.tenant_id, record.id, models)
                self.store.update(conn, replace(current, models_fetched_at=now, models_error=error))
        self.on_change()

    def test(self, record: ProviderRecord) -> dict[str, Any]:
        """Reach the provider with its key by listing its models; the catalog cache is refreshed too."""
        started = time.perf_counter()
        try:
            models = self.fetch(record)
        except QorvenError as exc:
            return _test_result(record, started, False, error={"code": exc.code, "message": exc.message})
        return _test_result(record, started, True, models=[m.model for m in models])

    def test_unsaved(self, record: ProviderRecord, key: str | None) -> dict[str, Any]:
        """Reach a provider that is not saved yet by listing its models; nothing is stored (provider_id None)."""
        started = time.perf_counter()
        adapter = self.adapters.one_off(record, key)
        try:
            models = adapter.list_models()
        except QorvenError as exc:
            result = _test_result(record, started, False, error={"code": exc.code, "message": exc.message})
        else:
            result = _test_result(record, started, True, models=[m.id for m in models])
        finally:
            adapter.close()
        return {**result, "provider_id": None}

    def refresh(self, tenant_id: str, everything: bool = False) -> list[dict[str, Any]]:
        """Fetch the catalogs of the enabled providers that need it (all with ``everything``); the
        errors name every enabled provider whose last fetch failed."""
        providers = [p for p in self.store.list_all(tenant_id) if p.enabled]
        stale = [p for p in providers
                 if everything or p.models_fetched_at is None or provider_kind(p.kind).fresh_catalog]
        errors: list[dict[str, Any]] = []
        if stale:
            def fetch(p: ProviderRecord) -> None:
                try:
                    self.fetch(p)
                except QorvenError as exc:
                    errors.append({"provider_id": p.id, "provider": p.name, "code": exc.code, "message": exc.message})
            with ThreadPoolExecutor(max_workers=min(8, len(stale)), thread_name_prefix="catalog") as pool:
                list(pool.map(fetch, stale))
        for p in self.store.list_all(tenant_id):
            if p.enabled and p.models_error and not any(e["provider_id"] == p.id for e in errors):
                errors.append({"provider_id": p.id, "provider": p.name, "code": "provider_error",
                               "message": p.models_error})
        return errors

    def entries(self, tenant_id: str, selected: set[tuple[str, str]],
                default: tuple[str, str] | None) -> list[dict[str, Any]]:
        """The cached models of the enabled providers, marked selected / default by (provider id, model)."""
        providers = {p.id: p for p in self.store.list_all(tenant_id) if p.enabled}
        entries = []
        for m in self.store.catalog(tenant_id):
            p = providers.get(m.provider_id)
            if p is None:
                continue
            entries.append({**self._file_details(p, m.model), "id": model_id(p.name, m.model), "object": "model",
                            "provider_id": p.id, "provider": p.name, "model": m.model,
                            "owned_by": m.owned_by or p.name, "context_length": m.context_length,
                            "selected": (p.id, m.model) in selected, "default": default == (p.id, m.model)})
        return entries

    def import_model(self, record: ProviderRecord, path: Any) -> dict[str, Any]:
        """Copy a GGUF file into a model_files provider's folder; its catalog entry comes back."""
        if not provider_kind(record.kind).model_files or self.local is None:
            raise ValidationError(f"provider {record.name!r} is of kind {record.kind}; models are imported into "
                                  "a provider of kind local", param="kind")
        result = import_model(path, self.local)
        self.fetch(record)
        info = self._describe(record, result["model"])
        return {"object": "model_import", "id": model_id(record.name, result["model"]), "provider_id": record.id,
                **result, "quantization": info.get("quantization"), "context_length": info.get("context_length")}

    def _file_details(self, record: ProviderRecord, model: str) -> dict[str, Any]:
        """A model file's size_bytes, quantization and file (read from its GGUF header), and the labels
        the UI shows it with (``qorven``: starter, params, size_bytes, tiny)."""
        if not provider_kind(record.kind).model_files:
            return {}
        info = self._describe(record, model)
        return {**{k: info.get(k) for k in FILE_DETAILS}, "qorven": file_model_labels(info)}

    def _describe(self, record: ProviderRecord, model: str) -> dict[str, Any]:
        adapter = self.adapters.get(record)
        return describe_model(adapter, model)


def _test_result(record: ProviderRecord, started: float, ok: bool, **outcome: Any) -> dict[str, Any]:
    """A connection test's answer: ok, the provider, the latency since ``started``, then models or error."""
    return {"ok": ok, "provider_id": record.id, "latency_ms": round((time.perf_counter() - started) * 1000),
            **outcome}
