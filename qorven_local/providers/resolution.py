"""A chat request's model id → the provider row, its adapter and the model name upstream.

Answers come from a cache that every provider, catalog and selection write invalidates (they call
``invalidate``), so the chat path does not query storage on each request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from qorven_local.errors import ModelNotFound
from qorven_local.providers.adapter_cache import AdapterCache
from qorven_local.providers.events import Provider
from qorven_local.providers.local.defaults import describe_model
from qorven_local.providers.selection import ModelSelection
from qorven_local.providers.types import ProviderRecord, model_id
from qorven_local.storage.providers import ProviderStore

MAX_CACHED = 1000  # resolutions kept before the cache starts over


@dataclass(frozen=True)
class ResolvedModel:
    """A chat-usable model: the provider row, its adapter and the model name upstream."""

    model_id: str            # <provider name>/<model>
    provider: ProviderRecord
    adapter: Provider
    upstream_model: str
    context_length: int | None = None
    params: int | None = None  # the model's weights when its adapter knows (local GGUF files)


class ModelResolver:
    """Resolves model ids to adapters, cached until the next ``invalidate``."""

    def __init__(self, store: ProviderStore, selection: ModelSelection, adapters: AdapterCache) -> None:
        self.store = store
        self.selection = selection
        self.adapters = adapters
        self._lock = threading.Lock()
        self._generation = 0
        self._resolved: dict[tuple[str, str], tuple[int, ResolvedModel]] = {}

    def invalidate(self) -> None:
        """Forget every resolution (after any write that could change one)."""
        with self._lock:
            self._generation += 1
            self._resolved.clear()

    def resolve(self, tenant_id: str, mid: str, param: str = "model") -> ResolvedModel:
        """The adapter for a model id. Accepted: selected models, the default, and anything a provider
        whose catalog was never fetched may offer (upstream decides); a model missing from a fetched
        catalog is ``model_not_found``. A bare name matches a selected model with that upstream name."""
        generation = self._generation  # read before the data: a concurrent write makes this entry stale
        cached = self._resolved.get((tenant_id, mid))
        if cached is not None and cached[0] == generation:
            return cached[1]
        resolved = self._resolve(tenant_id, mid, param)
        with self._lock:
            if len(self._resolved) > MAX_CACHED:
                self._resolved.clear()
            self._resolved[(tenant_id, mid)] = (generation, resolved)
        return resolved

    def _resolve(self, tenant_id: str, mid: str, param: str) -> ResolvedModel:
        if "/" not in mid:
            matches = [s for s in self.selection.selected(tenant_id) if s["model"] == mid]
            if len(matches) != 1:
                raise ModelNotFound(f"model {mid!r} not found; see GET /v1/models", param=param)
            record, model = matches[0]["provider"], mid
        else:
            record, model = self.selection.split(tenant_id, mid, param)
        if not record.enabled:
            raise ModelNotFound(f"model {mid!r} not found: provider {record.name!r} is disabled", param=param)
        entry = self.store.catalog_entry(record.id, model)
        if entry is None and record.models_fetched_at is not None and not record.models_error \
                and not self.selection.is_selected(tenant_id, record.id, model) \
                and self.selection.default_pair(tenant_id) != (record.id, model):
            raise ModelNotFound(f"model {mid!r} not found: provider {record.name!r} does not offer {model!r}",
                                param=param)
        adapter = self.adapters.get(record)
        params = describe_model(adapter, model).get("params")
        return ResolvedModel(model_id(record.name, model), record, adapter, model,
                             entry.context_length if entry else None, params if isinstance(params, int) else None)
