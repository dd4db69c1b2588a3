"""Which provider models a tenant offers (the selection) and its default model.

Model ids are ``<provider name>/<upstream model>``; the upstream part may itself contain ``/``
(OpenRouter), so ids split at the first one. The default is stored as a tenant setting naming the
provider by id, so renaming a provider keeps it; a default is always selected too, and a selection
that leaves the default out clears the default.

An id must name a model of its provider's catalog once that catalog has been fetched; a provider whose
catalog was never fetched, or whose last fetch failed, is taken at its word (there is nothing to check
against, and an offline provider must stay configurable).
"""

from __future__ import annotations

from typing import Any, Callable

from qorven_local.clock import Clock
from qorven_local.errors import ModelNotFound, ValidationError
from qorven_local.providers.types import ProviderRecord, model_id
from qorven_local.storage.db import Database
from qorven_local.storage.providers import ProviderStore
from qorven_local.storage.tenants import TenantStore

DEFAULT_MODEL_KEY = "default_model"


class ModelSelection:
    """The tenant's selected models and default model; ``on_change`` runs after every write."""

    def __init__(self, db: Database, store: ProviderStore, tenants: TenantStore, clock: Clock,
                 on_change: Callable[[], None]) -> None:
        self.db = db
        self.store = store
        self.tenants = tenants
        self.clock = clock
        self.on_change = on_change
        # the default when none is set: (provider id, model) or None (the registry's first-run model)
        self.fallback: Callable[[str], tuple[str, str] | None] = lambda tenant_id: None

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
        rows = self.store.selected(tenant_id)
        default = self.default_pair(tenant_id)
        if default is not None and default[0] in providers and all((pid, m) != default for pid, m, _ in rows):
            # a default that is not stored as selected (the first-run fallback) is offered like one
            rows = [*rows, (*default, providers[default[0]].created_at)]
        for pid, model, created_at in rows:
            p = providers.get(pid)
            if p is None or not p.enabled:
                continue
            entry = self.store.catalog_entry(pid, model)
            out.append({"id": model_id(p.name, model), "provider": p, "model": model, "created_at": created_at,
                        "context_length": entry.context_length if entry else None})
        return out

    def selected_pairs(self, tenant_id: str) -> set[tuple[str, str]]:
        """(provider id, model) of every selected model (the default included), whatever its provider's state."""
        default = self.default_pair(tenant_id)
        return {(pid, m) for pid, m, _ in self.store.selected(tenant_id)} | ({default} if default else set())

    def is_selected(self, tenant_id: str, provider_id: str, model: str) -> bool:
        return self.store.is_selected(tenant_id, provider_id, model)

    def set_selected(self, tenant_id: str, ids: list[str]) -> list[str]:
        """Replace the selection; an unknown id is a ValidationError naming its index (``models.<i>``)."""
        pairs = []
        missing: list[tuple[int, str]] = []
        for i, mid in enumerate(ids):
            try:
                record, model = self.split(tenant_id, mid)
            except ModelNotFound as exc:
                raise ValidationError(exc.message, param=f"models.{i}") from None
            if not self._offers(record, model):
                missing.append((i, mid))
            pairs.append((record.id, model))
        if missing:
            raise ValidationError(f"not in their provider's model catalog: {', '.join(m for _, m in missing)} "
                                  "(GET /v1/models/catalog?refresh=true fetches the catalogs again)",
                                  param=f"models.{missing[0][0]}")
        default = self.default_pair(tenant_id)
        with self.db.write() as conn:
            self.store.replace_selected(conn, tenant_id, pairs, self.clock.iso())
            if default is not None and default not in pairs:  # unselecting the default clears it
                self.tenants.set_setting(tenant_id, DEFAULT_MODEL_KEY, {}, self.clock.iso())
        self.on_change()
        return [s["id"] for s in self.selected(tenant_id)]

    def default_pair(self, tenant_id: str) -> tuple[str, str] | None:
        """(provider id, model) of the default: the one set, else the fallback's (None when neither)."""
        value = self.tenants.get_setting(tenant_id, DEFAULT_MODEL_KEY)
        if isinstance(value, dict) and value.get("provider_id") and value.get("model"):
            return value["provider_id"], value["model"]
        return self.fallback(tenant_id)

    def default_model(self, tenant_id: str) -> str | None:
        """The tenant's default model id (None when unset or its provider is gone)."""
        pair = self.default_pair(tenant_id)
        if pair is None:
            return None
        record = self.store.get(tenant_id, pair[0])
        return model_id(record.name, pair[1]) if record else None

    def set_default(self, tenant_id: str, mid: str | None) -> str | None:
        """Set (or clear, with None) the default model; a default is also selected."""
        now = self.clock.iso()
        if mid is None:
            self.tenants.set_setting(tenant_id, DEFAULT_MODEL_KEY, {}, now)
            self.on_change()
            return None
        record, model = self._checked(tenant_id, mid, "model")
        with self.db.write() as conn:
            self.tenants.set_setting(tenant_id, DEFAULT_MODEL_KEY, {"provider_id": record.id, "model": model}, now)
            self.store.add_selected(conn, tenant_id, record.id, model, now)
        self.on_change()
        return model_id(record.name, model)

    def check_model(self, tenant_id: str, mid: str, param: str = "model") -> None:
        """Refuse (ValidationError naming ``param``) a model id no provider of the tenant offers."""
        self._checked(tenant_id, mid, param)

    def _checked(self, tenant_id: str, mid: str, param: str) -> tuple[ProviderRecord, str]:
        try:
            record, model = self.split(tenant_id, mid)
        except ModelNotFound as exc:
            raise ValidationError(exc.message, param=param) from None
        if not self._offers(record, model):
            raise ValidationError(f"{mid} is not in provider {record.name}'s model catalog "
                                  "(GET /v1/models/catalog?refresh=true fetches it again)", param=param)
        return record, model

    def _offers(self, record: ProviderRecord, model: str) -> bool:
        """Whether ``model`` may be picked from ``record``: in its fetched catalog, or its catalog is
        unknown (never fetched, or the last fetch failed)."""
        if record.models_fetched_at is None or record.models_error is not None:
            return True
        return self.store.catalog_entry(record.id, model) is not None

    def forget_provider(self, tenant_id: str, provider_id: str) -> None:
        """Clear the default when it names a provider being deleted (call inside that write)."""
        default = self.tenants.get_setting(tenant_id, DEFAULT_MODEL_KEY)
        if isinstance(default, dict) and default.get("provider_id") == provider_id:
            self.tenants.set_setting(tenant_id, DEFAULT_MODEL_KEY, {}, self.clock.iso())
