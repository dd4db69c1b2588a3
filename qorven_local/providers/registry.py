"""Configured providers: their rows and keys, the selection, the default model and model resolution.

    ProviderRegistry
      create / update / delete / set_key / delete_key / test      the /v1/providers surface
      catalog(refresh)                                             every model the providers offer (catalog.py)
      selected / set_selected / default_model / set_default        what clients and agents may use
      resolve(tenant, "<provider>/<model>") → ResolvedModel        the adapter and upstream model name

Model ids are ``<provider name>/<upstream model>``; the upstream part may itself contain ``/``
(OpenRouter), so ids split at the first one. Keys are encrypted with the install's SecretBox and
only decrypted to build an adapter (``adapter_cache.py``); they never leave the providers package. A
change of a provider's origin (scheme, host or port) clears its key, so a key never follows a base
URL to another host. What a kind allows (a base URL, a key, imports) is asked of its ``ProviderKind``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import Conflict, ModelNotFound, NotFound, ProviderError, ValidationError
from qorven_local.models import Page
from qorven_local.providers.adapter_cache import AdapterCache, key_aad
from qorven_local.providers.catalog import ModelCatalog
from qorven_local.providers.events import Provider
from qorven_local.providers.kinds import KINDS
from qorven_local.providers.local.options import LocalOptions
from qorven_local.providers.types import ProviderRecord, model_id
from qorven_local.providers.validation import check_base_url, check_provider_name, origin
from qorven_local.security.secrets import SecretBox, secret_hint
from qorven_local.storage.db import Database, IntegrityError
from qorven_local.storage.providers import ProviderStore
from qorven_local.storage.tenants import TenantStore

DEFAULT_MODEL_KEY = "default_model"


@dataclass(frozen=True)
class ResolvedModel:
    """A chat-usable model: the provider row, its adapter and the model name upstream."""

    model_id: str            # <provider name>/<model>
    provider: ProviderRecord
    adapter: Provider
    upstream_model: str
    context_length: int | None = None


class ProviderRegistry:
    """The tenant's providers and models; adapters are built lazily and reused until the row changes."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, secrets: SecretBox,
                 local: LocalOptions | None = None) -> None:
        self.db = db
        self.local = local  # the local kind's models folder and limits (None: no local kind)
        self.clock = clock
        self.ids = ids
        self.secrets = secrets
        self.store = ProviderStore(db)
        self.tenants = TenantStore(db)
        self.adapters = AdapterCache(secrets, local)
        self.models = ModelCatalog(db, self.store, clock, self.adapters, on_change=self._changed, local=local)
        self._lock = threading.Lock()
        # resolve() answers from a cache that every write here invalidates by bumping the generation
        # (all provider, catalog and selection writes go through this object or its ModelCatalog).
        self._generation = 0
        self._resolved: dict[tuple[str, str], tuple[int, ResolvedModel]] = {}

    def _changed(self) -> None:
        with self._lock:
            self._generation += 1
            self._resolved.clear()

    def _row_changed(self, provider_id: str) -> None:
        """After a write to one row: its adapter is rebuilt on next use, resolutions are recomputed."""
        self.adapters.forget(provider_id)
        self._changed()

    # -- providers ------------------------------------------------------------------------------
    def list_page(self, tenant_id: str, *, limit: int | None, cursor: str | None) -> Page:
        return self.store.page(tenant_id, limit=limit, cursor=cursor)

    def list_all(self, tenant_id: str) -> list[ProviderRecord]:
        return self.store.list_all(tenant_id)

    def get(self, tenant_id: str, provider_id: str) -> ProviderRecord:
        record = self.store.get(tenant_id, provider_id)
        if record is None:
            raise NotFound(f"provider {provider_id} not found")
        return record

    def create(self, tenant_id: str, fields: dict[str, Any]) -> ProviderRecord:
        name = fields.get("kind")
        kind = KINDS.get(name) if isinstance(name, str) else None
        if kind is None:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", param="kind")
        if not kind.remote:  # models are the GGUF files of <data root>/models, not a URL
            if fields.get("base_url") or fields.get("key"):
                raise ValidationError(f"a {kind.name} provider takes no base_url or key; its models are the GGUF "
                                      "files in <data root>/models",
                                      param="base_url" if fields.get("base_url") else "kind")
            if self.local is None:
                raise ValidationError(f"{kind.name} models are not available in this server", param="kind")
        base_url = fields.get("base_url") or kind.default_base_url
        if not base_url:
            raise ValidationError(f"a {kind.name} provider needs a base_url", param="base_url")
        now = self.clock.iso()
        record = ProviderRecord(id=self.ids.new("prv"), tenant_id=tenant_id,
                                name=check_provider_name(fields.get("name")), kind=kind.name,
                                base_url=check_base_url(base_url) if kind.remote else base_url,
                                enabled=fields.get("enabled", True),
                                key_enc=None, key_hint=None, models_fetched_at=None, models_error=None,
                                created_at=now, updated_at=now)
        if fields.get("key"):
            record.key_enc, record.key_hint = self._seal(record.id, fields["key"])
        try:
            with self.db.write() as conn:
                self.store.insert(conn, record)
        except IntegrityError:
            raise Conflict(f"a provider named {record.name!r} already exists", param="name") from None
        self._changed()
        return record

    def update(self, tenant_id: str, provider_id: str, fields: dict[str, Any]) -> ProviderRecord:
        with self.db.write() as conn:
            record = self.get(tenant_id, provider_id)
            changed = replace(record, updated_at=self.clock.iso())
            if "name" in fields:
                changed.name = check_provider_name(fields["name"])
            if "enabled" in fields:
                changed.enabled = bool(fields["enabled"])
            if "kind" in fields and fields["kind"] != record.kind:
                raise ValidationError("kind cannot change; create another provider", param="kind")
            if fields.get("base_url") is not None and not KINDS[record.kind].remote:
                raise ValidationError(f"a {record.kind} provider has no base_url", param="base_url")
            if fields.get("base_url") is not None:
                changed.base_url = check_base_url(fields["base_url"])
                if origin(changed.base_url) != origin(record.base_url):
                    # a key never follows a base URL to another host
                    changed.key_enc = changed.key_hint = None
                if changed.base_url != record.base_url:
                    changed.models_fetched_at = changed.models_error = None
                    self.store.clear_catalog(conn, record.id)
            try:
                self.store.update(conn, changed)
            except IntegrityError:
                raise Conflict(f"a provider named {changed.name!r} already exists", param="name") from None
        self._row_changed(provider_id)
        return changed

    def delete(self, tenant_id: str, provider_id: str) -> ProviderRecord:
        with self.db.write() as conn:
            record = self.get(tenant_id, provider_id)
            self.store.delete(conn, tenant_id, provider_id)
            default = self.tenants.get_setting(tenant_id, DEFAULT_MODEL_KEY)
            if isinstance(default, dict) and default.get("provider_id") == provider_id:
                self.tenants.set_setting(tenant_id, DEFAULT_MODEL_KEY, {}, self.clock.iso())
        self._row_changed(provider_id)
        return record

    def set_key(self, tenant_id: str, provider_id: str, key: str) -> ProviderRecord:
        if not isinstance(key, str) or not key.strip():
            raise ValidationError("key must be a non-empty string", param="key")
        return self._replace_key(tenant_id, provider_id, key.strip())

    def delete_key(self, tenant_id: str, provider_id: str) -> ProviderRecord:
        return self._replace_key(tenant_id, provider_id, None)

    def _replace_key(self, tenant_id: str, provider_id: str, key: str | None) -> ProviderRecord:
        """Store a new key (sealed) or none, and forget the adapter built with the old one."""
        with self.db.write() as conn:
            record = self.get(tenant_id, provider_id)
            changed = replace(record, key_enc=None, key_hint=None, updated_at=self.clock.iso())
            if key is not None:
                changed.key_enc, changed.key_hint = self._seal(record.id, key)
            self.store.update(conn, changed)
        self._row_changed(provider_id)
        return changed

    def _seal(self, provider_id: str, key: str) -> tuple[str, str]:
        return self.secrets.encrypt(key, key_aad(provider_id)), secret_hint(key)

    def test(self, tenant_id: str, provider_id: str) -> dict[str, Any]:
        """Reach the provider with its key by listing its models; the catalog cache is refreshed too."""
        return self.models.test(self.get(tenant_id, provider_id))

    # -- adapters and catalog -------------------------------------------------------------------
    def adapter(self, record: ProviderRecord) -> Provider:
        """The adapter for a provider row, reused while the row's URL and key stay the same."""
        return self.adapters.get(record)

    def close(self) -> None:
        self.adapters.close()

    def catalog(self, tenant_id: str, refresh: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(entries, errors): every model the enabled providers offer, fetched when never fetched or on
        ``refresh``; errors name the providers that failed (their cached models, if any, stay listed)."""
        errors = self.models.refresh(tenant_id, refresh)
        selected = {(pid, m) for pid, m, _ in self.store.selected(tenant_id)}
        return self.models.entries(tenant_id, selected, self._default_pair(tenant_id)), errors

    def import_local_model(self, tenant_id: str, provider_id: str, path: Any) -> dict[str, Any]:
        """Copy a GGUF file into the local provider's models folder; its catalog entry comes back."""
        return self.models.import_model(self.get(tenant_id, provider_id), path)

    # -- selection and default ------------------------------------------------------------------
    def split(self, tenant_id: str, mid: str, param: str = "model") -> tuple[ProviderRecord, str]:
        """``<provider>/<model>`` → (provider row, upstream model); unknown provider → ModelNotFound."""
        name, sep, model = mid.partition("/")
        if not sep or not name or not model:
            raise ModelNotFound(f"model {mid!r} not found; model ids look like <provider>/<model> or qor:<agent>",
                                param=param)
        record = self.store.get_by_name(tenant_id, name)
        if record is None:
            raise ModelNotFound(f"model {mid!r} not found: no provider named {name!r}", param=param)
        return record, model

    def selected(self, tenant_id: str) -> list[dict[str, Any]]:
        """The selected models of enabled providers: {id, provider, model, context_length, created_at}."""
        providers = {p.id: p for p in self.store.list_all(tenant_id)}
        out = []
        for pid, model, created_at in self.store.selected(tenant_id):
            p = providers.get(pid)
            if p is None or not p.enabled:
                continue
            entry = self.store.catalog_entry(pid, model)
            out.append({"id": model_id(p.name, model), "provider": p, "model": model, "created_at": created_at,
                        "context_length": entry.context_length if entry else None})
        return out

    def set_selected(self, tenant_id: str, ids: list[str]) -> list[str]:
        pairs = []
        for i, mid in enumerate(ids):
            try:
                record, model = self.split(tenant_id, mid)
            except ModelNotFound as exc:
                raise ValidationError(exc.message, param=f"models.{i}") from None
            pairs.append((record.id, model))
        with self.db.write() as conn:
            self.store.replace_selected(conn, tenant_id, pairs, self.clock.iso())
        self._changed()
        return [s["id"] for s in self.selected(tenant_id)]

    def _default_pair(self, tenant_id: str) -> tuple[str, str] | None:
        value = self.tenants.get_setting(tenant_id, DEFAULT_MODEL_KEY)
        if isinstance(value, dict) and value.get("provider_id") and value.get("model"):
            return value["provider_id"], value["model"]
        return None

    def default_model(self, tenant_id: str) -> str | None:
        """The tenant's default model id (None when unset or its provider is gone)."""
        pair = self._default_pair(tenant_id)
        if pair is None:
            return None
        record = self.store.get(tenant_id, pair[0])
        return model_id(record.name, pair[1]) if record else None

    def set_default(self, tenant_id: str, mid: str | None) -> str | None:
        """Set (or clear, with None) the default model; a default is also selected."""
        now = self.clock.iso()
        if mid is None:
            self.tenants.set_setting(tenant_id, DEFAULT_MODEL_KEY, {}, now)
            self._changed()
            return None
        try:
            record, model = self.split(tenant_id, mid)
        except ModelNotFound as exc:
            raise ValidationError(exc.message, param="model") from None
        with self.db.write() as conn:
            self.tenants.set_setting(tenant_id, DEFAULT_MODEL_KEY, {"provider_id": record.id, "model": model}, now)
            self.store.add_selected(conn, tenant_id, record.id, model, now)
        self._changed()
        return model_id(record.name, model)

    # -- resolution -----------------------------------------------------------------------------
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
            if len(self._resolved) > 1000:
                self._resolved.clear()
            self._resolved[(tenant_id, mid)] = (generation, resolved)
        return resolved

    def _resolve(self, tenant_id: str, mid: str, param: str) -> ResolvedModel:
        if "/" not in mid:
            matches = [s for s in self.selected(tenant_id) if s["model"] == mid]
            if len(matches) != 1:
                raise ModelNotFound(f"model {mid!r} not found; see GET /v1/models", param=param)
            record, model = matches[0]["provider"], mid
        else:
            record, model = self.split(tenant_id, mid, param)
        if not record.enabled:
            raise ModelNotFound(f"model {mid!r} not found: provider {record.name!r} is disabled", param=param)
        entry = self.store.catalog_entry(record.id, model)
        if entry is None and record.models_fetched_at is not None and not record.models_error \
                and not self.store.is_selected(tenant_id, record.id, model) \
                and self._default_pair(tenant_id) != (record.id, model):
            raise ModelNotFound(f"model {mid!r} not found: provider {record.name!r} does not offer {model!r}",
                                param=param)
        return ResolvedModel(model_id(record.name, model), record, self.adapter(record), model,
                             entry.context_length if entry else None)


__all__ = ["ProviderRegistry", "ResolvedModel", "ProviderError", "model_id"]
