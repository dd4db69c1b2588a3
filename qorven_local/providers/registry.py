"""Configured providers → adapter instances, the model catalog, the selection and the default model.

    ProviderRegistry
      create / update / delete / set_key / delete_key / test      the /v1/providers surface
      catalog(refresh)                                             every model the providers offer (cached)
      selected / set_selected / default_model / set_default        what clients and agents may use
      resolve(tenant, "<provider>/<model>") → ResolvedModel        the adapter and upstream model name

Model ids are ``<provider name>/<upstream model>``; the upstream part may itself contain ``/``
(OpenRouter), so ids split at the first one. Keys are encrypted with the install's SecretBox (aad
``provider:<id>:key``) and only decrypted to build an adapter; they never leave this module. A
change of a provider's origin (scheme, host or port) clears its key, so a key never follows a base
URL to another host. httpx is imported on first use (start-up time).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from qorven_local.errors import Conflict, ModelNotFound, NotFound, ProviderError, QorvenError, ValidationError
from qorven_local.providers.adapters import KINDS, create_provider, default_base_url
from qorven_local.providers.events import Provider
from qorven_local.providers.local_gguf import LocalOptions, import_model
from qorven_local.security.secrets import SecretBox, secret_hint
from qorven_local.storage.db import Database, IntegrityError
from qorven_local.storage.providers import CatalogModel, ProviderRecord, ProviderStore
from qorven_local.storage.tenants import TenantStore

log = logging.getLogger("qorven.providers")

DEFAULT_MODEL_KEY = "default_model"
MAX_NAME = 64


@dataclass(frozen=True)
class ResolvedModel:
    """A chat-usable model: the provider row, its adapter and the model name upstream."""

    model_id: str            # <provider name>/<model>
    provider: ProviderRecord
    adapter: Provider
    upstream_model: str
    context_length: int | None = None


def model_id(provider_name: str, model: str) -> str:
    return f"{provider_name}/{model}"


def check_provider_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("name must be a non-empty string", param="name")
    name = name.strip()
    if len(name) > MAX_NAME or "/" in name or name.lower().startswith("qor:") or any(c < " " for c in name):
        raise ValidationError(f"name must be 1-{MAX_NAME} characters without '/' or control characters and "
                              "not start with 'qor:' (it prefixes model ids: <name>/<model>)", param="name")
    return name


def check_base_url(url: Any) -> str:
    import httpx

    if not isinstance(url, str) or not url.strip():
        raise ValidationError("base_url must be an http(s) URL", param="base_url")
    try:
        parsed = httpx.URL(url.strip())
    except Exception:
        raise ValidationError("base_url is not a valid URL", param="base_url") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValidationError("base_url must be an http(s) URL with a host", param="base_url")
    if parsed.userinfo:
        raise ValidationError("base_url must not carry credentials; set the key with PUT /v1/providers/{id}/keys",
                              param="base_url")
    if parsed.query or parsed.fragment:
        raise ValidationError("base_url must not have a query or fragment", param="base_url")
    return url.strip().rstrip("/")


def origin(url: str) -> tuple[str, str, int | None]:
    import httpx

    parsed = httpx.URL(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, (parsed.host or "").lower(), port


class ProviderRegistry:
    """The tenant's providers and models; adapters are built lazily and reused until the row changes."""

    def __init__(self, db: Database, clock, ids, secrets: SecretBox, local: LocalOptions | None = None) -> None:
        self.db = db
        self.local = local  # the local kind's models folder and limits (None: no local kind)
        self.clock = clock
        self.ids = ids
        self.secrets = secrets
        self.store = ProviderStore(db)
        self.tenants = TenantStore(db)
        self._adapters: dict[str, tuple[tuple, Provider]] = {}
        self._lock = threading.Lock()
        # resolve() answers from a cache that every write here invalidates by bumping the generation
        # (all provider, catalog and selection writes go through this object).
        self._generation = 0
        self._resolved: dict[tuple[str, str], tuple[int, ResolvedModel]] = {}

    def _changed(self) -> None:
        with self._lock:
            self._generation += 1
            self._resolved.clear()

    # -- providers ------------------------------------------------------------------------------
    def list_page(self, tenant_id: str, *, limit: int | None, cursor: str | None):
        return self.store.page(tenant_id, limit=limit, cursor=cursor)

    def list_all(self, tenant_id: str) -> list[ProviderRecord]:
        return self.store.list_all(tenant_id)

    def get(self, tenant_id: str, provider_id: str) -> ProviderRecord:
        record = self.store.get(tenant_id, provider_id)
        if record is None:
            raise NotFound(f"provider {provider_id} not found")
        return record

    def create(self, tenant_id: str, fields: dict[str, Any]) -> ProviderRecord:
        kind = fields.get("kind")
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", param="kind")
        if kind == "local":  # models are the GGUF files of <data root>/models, not a URL
            if fields.get("base_url") or fields.get("key"):
                raise ValidationError("a local provider takes no base_url or key; its models are the GGUF files "
                                      "in <data root>/models", param="base_url" if fields.get("base_url") else "kind")
            if self.local is None:
                raise ValidationError("local models are not available in this server", param="kind")
        base_url = fields.get("base_url") or default_base_url(kind)
        if not base_url:
            raise ValidationError(f"a {kind} provider needs a base_url", param="base_url")
        now = self.clock.iso()
        record = ProviderRecord(id=self.ids.new("prv"), tenant_id=tenant_id, name=check_provider_name(fields.get("name")),
                                kind=kind, base_url=base_url if kind == "local" else check_base_url(base_url),
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
            if fields.get("base_url") is not None and record.kind == "local":
                raise ValidationError("a local provider has no base_url", param="base_url")
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
        self._forget(provider_id)
        self._changed()
        return changed

    def delete(self, tenant_id: str, provider_id: str) -> ProviderRecord:
        with self.db.write() as conn:
            record = self.get(tenant_id, provider_id)
            self.store.delete(conn, tenant_id, provider_id)
            default = self.tenants.get_setting(tenant_id, DEFAULT_MODEL_KEY)
            if isinstance(default, dict) and default.get("provider_id") == provider_id:
                self.tenants.set_setting(tenant_id, DEFAULT_MODEL_KEY, {}, self.clock.iso())
        self._forget(provider_id)
        self._changed()
        return record

    def set_key(self, tenant_id: str, provider_id: str, key: str) -> ProviderRecord:
        if not isinstance(key, str) or not key.strip():
            raise ValidationError("key must be a non-empty string", param="key")
        with self.db.write() as conn:
            record = self.get(tenant_id, provider_id)
            changed = replace(record, updated_at=self.clock.iso())
            changed.key_enc, changed.key_hint = self._seal(record.id, key.strip())
            self.store.update(conn, changed)
        self._forget(provider_id)
        self._changed()
        return changed

    def delete_key(self, tenant_id: str, provider_id: str) -> ProviderRecord:
        with self.db.write() as conn:
            record = self.get(tenant_id, provider_id)
            changed = replace(record, key_enc=None, key_hint=None, updated_at=self.clock.iso())
            self.store.update(conn, changed)
        self._forget(provider_id)
        self._changed()
        return changed

    def test(self, tenant_id: str, provider_id: str) -> dict[str, Any]:
        """Reach the provider with its key by listing its models; the catalog cache is refreshed too."""
        record = self.get(tenant_id, provider_id)
        started = time.perf_counter()
        try:
            models = self._fetch_catalog(record)
        except QorvenError as exc:
            return {"ok": False, "provider_id": record.id, "latency_ms": round((time.perf_counter() - started) * 1000),
                    "error": {"code": exc.code, "message": exc.message}}
        return {"ok": True, "provider_id": record.id, "latency_ms": round((time.perf_counter() - started) * 1000),
                "models": [m.model for m in models]}

    def _seal(self, provider_id: str, key: str) -> tuple[str, str]:
        return self.secrets.encrypt(key, f"provider:{provider_id}:key"), secret_hint(key)

    # -- adapters -------------------------------------------------------------------------------
    def adapter(self, record: ProviderRecord) -> Provider:
        """The adapter for a provider row, reused while the row's URL and key stay the same."""
        version = (record.kind, record.base_url, record.key_enc, record.name)
        with self._lock:
            cached = self._adapters.get(record.id)
            if cached is not None and cached[0] == version:
                return cached[1]
        key = self.secrets.decrypt(record.key_enc, f"provider:{record.id}:key") if record.key_enc else None
        adapter = create_provider(record.kind, record.base_url, key, record.name, local=self.local)
        with self._lock:
            old = self._adapters.get(record.id)
            self._adapters[record.id] = (version, adapter)
        if old is not None and old[1] is not adapter:
            _close_later(old[1])
        return adapter

    def _forget(self, provider_id: str) -> None:
        with self._lock:
            old = self._adapters.pop(provider_id, None)
        if old is not None:
            _close_later(old[1])

    def close(self) -> None:
        with self._lock:
            adapters, self._adapters = list(self._adapters.values()), {}
        for _, adapter in adapters:
            try:
                adapter.close()
            except Exception:
                pass

    # -- catalog --------------------------------------------------------------------------------
    def _fetch_catalog(self, record: ProviderRecord) -> list[CatalogModel]:
        """Ask the provider for its models and cache them; a failure is recorded, then raised."""
        now = self.clock.iso()
        try:
            infos = self.adapter(record).list_models()
        except QorvenError as exc:
            with self.db.write() as conn:
                current = self.store.get(record.tenant_id, record.id)
                if current is not None:
                    self.store.update(conn, replace(current, models_fetched_at=now, models_error=exc.message))
            self._changed()
            raise
        models = [CatalogModel(record.id, m.id, m.owned_by, m.context_length) for m in infos]
        with self.db.write() as conn:
            current = self.store.get(record.tenant_id, record.id)
            if current is not None:
                self.store.replace_catalog(conn, record.tenant_id, record.id, models)
                self.store.update(conn, replace(current, models_fetched_at=now, models_error=None))
        self._changed()
        return models

    def catalog(self, tenant_id: str, refresh: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(entries, errors): every model the enabled providers offer, fetched when never fetched or on
        ``refresh``; errors name the providers that failed (their cached models, if any, stay listed)."""
        providers = [p for p in self.store.list_all(tenant_id) if p.enabled]
        # a local provider's catalog is a folder listing (headers only): always current
        stale = [p for p in providers if refresh or p.models_fetched_at is None or p.kind == "local"]
        errors: list[dict[str, Any]] = []
        if stale:
            def fetch(p: ProviderRecord) -> None:
                try:
                    self._fetch_catalog(p)
                except QorvenError as exc:
                    errors.append({"provider_id": p.id, "provider": p.name, "code": exc.code, "message": exc.message})
            with ThreadPoolExecutor(max_workers=min(8, len(stale)), thread_name_prefix="catalog") as pool:
                list(pool.map(fetch, stale))
        providers = {p.id: p for p in self.store.list_all(tenant_id) if p.enabled}
        for p in providers.values():
            if p.models_error and not any(e["provider_id"] == p.id for e in errors):
                errors.append({"provider_id": p.id, "provider": p.name, "code": "provider_error",
                               "message": p.models_error})
        selected = {(pid, m) for pid, m, _ in self.store.selected(tenant_id)}
        default = self._default_pair(tenant_id)
        entries = []
        for m in self.store.catalog(tenant_id):
            p = providers.get(m.provider_id)
            if p is None:
                continue
            local = self._local_details(p, m.model)
            entries.append({**local, "id": model_id(p.name, m.model), "object": "model", "provider_id": p.id,
                            "provider": p.name, "model": m.model, "owned_by": m.owned_by or p.name,
                            "context_length": m.context_length, "selected": (p.id, m.model) in selected,
                            "default": default == (p.id, m.model)})
        return entries, errors

    def _local_details(self, record: ProviderRecord, model: str) -> dict[str, Any]:
        """A local model's size_bytes, quantization and file (read from its GGUF header)."""
        if record.kind != "local":
            return {}
        info = getattr(self.adapter(record), "describe", lambda _m: None)(model) or {}
        return {k: info.get(k) for k in ("size_bytes", "quantization", "file")}

    def import_local_model(self, tenant_id: str, provider_id: str, path: Any) -> dict[str, Any]:
        """Copy a GGUF file into the local provider's models folder; its catalog entry comes back."""
        record = self.get(tenant_id, provider_id)
        if record.kind != "local" or self.local is None:
            raise ValidationError(f"provider {record.name!r} is of kind {record.kind}; models are imported into "
                                  "a provider of kind local", param="kind")
        result = import_model(path, self.local)
        self._fetch_catalog(record)
        info = self.adapter(record).describe(result["model"]) or {}
        return {"object": "model_import", "id": model_id(record.name, result["model"]), "provider_id": record.id,
                **result, "quantization": info.get("quantization"), "context_length": info.get("context_length")}

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


def _close_later(adapter: Provider, delay: float = 60.0) -> None:
    """Close a replaced adapter once streams still using it have had time to finish."""
    timer = threading.Timer(delay, _safe_close, args=(adapter,))
    timer.daemon = True
    timer.start()


def _safe_close(adapter: Provider) -> None:
    try:
        adapter.close()
    except Exception:
        log.debug("closing a replaced provider adapter failed", exc_info=True)


__all__ = ["ProviderRegistry", "ResolvedModel", "ProviderError", "model_id"]
