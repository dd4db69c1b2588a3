"""Configured providers: their rows and keys, the selection, the default model and model resolution.

    ProviderRegistry
      create / update / delete / set_key / delete_key / test      the /v1/providers surface
      catalog(refresh)                                             every model the providers offer (catalog.py)
      selected / set_selected / default_model / set_default        what clients and agents may use (selection.py)
      resolve(tenant, "<provider>/<model>") → ResolvedModel        the adapter and upstream model (resolution.py)

The rows and their keys are this module's own; the rest is delegated to the objects named above,
which share one AdapterCache (``adapter_cache.py``). Keys are encrypted with the install's SecretBox
and only decrypted to build an adapter; they never leave the providers package. A change of a
provider's origin (scheme, host or port) clears its key, so a key never follows a base URL to
another host. What a kind allows (a base URL, a key, imports) is asked of its ``ProviderKind``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import Conflict, NotFound, ValidationError
from qorven_local.models import Page
from qorven_local.providers.adapter_cache import AdapterCache, key_aad
from qorven_local.providers.catalog import ModelCatalog
from qorven_local.providers.events import Provider
from qorven_local.providers.kinds import KINDS, provider_kind
from qorven_local.providers.first_run import FirstRunModel
from qorven_local.providers.local.options import LocalOptions, runtime_state
from qorven_local.providers.resolution import ModelResolver, ResolvedModel
from qorven_local.providers.selection import ModelSelection
from qorven_local.providers.types import ProviderRecord
from qorven_local.providers.validation import check_base_url, check_provider_name, origin
from qorven_local.security.secrets import SecretBox, secret_hint
from qorven_local.storage.db import Database, IntegrityError
from qorven_local.storage.providers import ProviderStore
from qorven_local.storage.tenants import TenantStore


class ProviderRegistry:
    """The tenant's providers and models; adapters are built lazily and reused until the row changes."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, secrets: SecretBox,
                 local: LocalOptions | None = None, read_timeout: float = 120.0, local_starter: bool = False) -> None:
        self.db = db
        self.local = local  # the local kind's models folder and limits (None: no local kind)
        # every tenant has a `local` provider, which cannot be deleted and gives the default model
        # when nothing else is configured (see first_run.py)
        self.local_starter = local_starter and local is not None
        self.clock = clock
        self.ids = ids
        self.secrets = secrets
        self.store = ProviderStore(db)
        self.adapters = AdapterCache(secrets, local, read_timeout)
        self.tenants = TenantStore(db)
        self.selection = ModelSelection(db, self.store, self.tenants, clock, on_change=self._changed)
        self.resolver = ModelResolver(self.store, self.selection, self.adapters)
        self.models = ModelCatalog(db, self.store, clock, self.adapters, on_change=self._changed, local=local)
        self.first_run = FirstRunModel(self.store, self.adapters, ids, enabled=self.local_starter)
        self.selection.fallback = self.first_run.default_pair

    def _changed(self) -> None:
        """After any provider, catalog or selection write: resolutions are recomputed."""
        self.resolver.invalidate()

    def _row_changed(self, provider_id: str) -> None:
        """After a write to one row: its adapter is rebuilt on next use, resolutions are recomputed."""
        self.adapters.forget(provider_id)
        self._changed()

    # -- providers ------------------------------------------------------------------------------
    def list_page(self, tenant_id: str, *, limit: int | None, cursor: str | None) -> Page:
        return self.store.page(tenant_id, limit=limit, cursor=cursor)

    def list_all(self, tenant_id: str) -> list[ProviderRecord]:
        return self.store.list_all(tenant_id)

    def view(self, record: ProviderRecord) -> dict[str, Any]:
        """The API's Provider object; a local provider also says whether its runtime is ready
        (``qorven.runtime``: ready | preparing | missing) and whether it can be deleted."""
        out = record.to_dict()
        if not provider_kind(record.kind).remote:
            out["qorven"] = {"runtime": runtime_state(),
                             "removable": not self.first_run.is_permanent(record)}
        return out

    def ensure_local(self) -> None:
        """Give every tenant its `local` provider (on start; new tenants get theirs when created)."""
        for tenant_id in self.tenants.ids():
            with self.db.write() as conn:
                self.first_run.seed(conn, tenant_id, self.clock.iso())
        self._changed()

    def get(self, tenant_id: str, provider_id: str) -> ProviderRecord:
        record = self.store.get(tenant_id, provider_id)
        if record is None:
            raise NotFound(f"provider {provider_id} not found")
        return record

    def create(self, tenant_id: str, fields: dict[str, Any]) -> ProviderRecord:
        record = self._new_record(tenant_id, fields)
        try:
            with self.db.write() as conn:
                self.store.insert(conn, record)
        except IntegrityError:
            raise Conflict(f"a provider named {record.name!r} already exists", param="name") from None
        self._changed()
        return record

    def test_config(self, tenant_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Reach a provider described like a create body (not saved: the form tests before it saves)."""
        record = self._new_record(tenant_id, fields)
        return self.models.test_unsaved(record, fields.get("key") or None)

    def _new_record(self, tenant_id: str, fields: dict[str, Any]) -> ProviderRecord:
        """A checked, unsaved provider row from a create body (its key sealed when one is given)."""
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
            if fields.get("base_url") is not None and not provider_kind(record.kind).remote:
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
            self.first_run.check_removable(record)
            self.store.delete(conn, tenant_id, provider_id)
            self.selection.forget_provider(tenant_id, provider_id)
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
        return self.models.entries(tenant_id, self.selection.selected_pairs(tenant_id),
                                   self.selection.default_pair(tenant_id)), errors

    def import_local_model(self, tenant_id: str, provider_id: str, path: Any) -> dict[str, Any]:
        """Copy a GGUF file into the local provider's models folder; its catalog entry comes back."""
        return self.models.import_model(self.get(tenant_id, provider_id), path)

    # -- selection, default and resolution --------------------------------------------------------
    def selected(self, tenant_id: str) -> list[dict[str, Any]]:
        """The selected models of enabled providers: {id, provider, model, context_length, created_at}."""
        return self.selection.selected(tenant_id)

    def set_selected(self, tenant_id: str, ids: list[str]) -> list[str]:
        return self.selection.set_selected(tenant_id, ids)

    def default_model(self, tenant_id: str) -> str | None:
        """The tenant's default model id (None when unset or its provider is gone)."""
        return self.selection.default_model(tenant_id)

    def set_default(self, tenant_id: str, mid: str | None) -> str | None:
        """Set (or clear, with None) the default model; a default is also selected."""
        return self.selection.set_default(tenant_id, mid)

    def resolve(self, tenant_id: str, mid: str, param: str = "model") -> ResolvedModel:
        """The adapter and upstream model for a model id (``model_not_found`` otherwise)."""
        return self.resolver.resolve(tenant_id, mid, param)
