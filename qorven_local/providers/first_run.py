"""The first answer with no setup: every tenant's permanent ``local`` provider and its fallback default.

With ``local_starter`` on, each tenant gets a provider named ``local`` (kind local) when it is created
(and existing tenants on start); it cannot be deleted, only disabled. While no default model is set
and no other provider is enabled, the default is the local provider's first model (a GGUF of
``<data root>/models`` before an installed starter model), so the very first chat answers offline.
"""

from __future__ import annotations

from typing import Any

from qorven_local.clock import IdFactory
from qorven_local.errors import Conflict, QorvenError
from qorven_local.providers.adapter_cache import AdapterCache
from qorven_local.providers.kinds import KINDS, provider_kind
from qorven_local.providers.types import ProviderRecord
from qorven_local.storage.providers import ProviderStore

LOCAL_NAME = "local"


class FirstRunModel:
    """Seeds the ``local`` provider and answers the fallback default (both no-ops when disabled)."""

    def __init__(self, store: ProviderStore, adapters: AdapterCache, ids: IdFactory, enabled: bool) -> None:
        self.store = store
        self.adapters = adapters
        self.ids = ids
        self.enabled = enabled

    def seed(self, conn: Any, tenant_id: str, now: str) -> None:
        """Add the tenant's ``local`` provider inside the caller's transaction, unless it has one."""
        if not self.enabled:
            return
        existing = self.store.list_all(tenant_id)
        if any(not provider_kind(p.kind).remote for p in existing):
            return
        taken = {p.name for p in existing}
        name = LOCAL_NAME if LOCAL_NAME not in taken else "local-models"
        self.store.insert(conn, ProviderRecord(
            id=self.ids.new("prv"), tenant_id=tenant_id, name=name, kind="local",
            base_url=str(KINDS["local"].default_base_url), enabled=True, key_enc=None, key_hint=None,
            models_fetched_at=None, models_error=None, created_at=now, updated_at=now))

    def is_permanent(self, record: ProviderRecord) -> bool:
        """Whether a provider is the tenant's permanent local one (the first of kind local)."""
        if not self.enabled or provider_kind(record.kind).remote:
            return False
        first = next((p for p in self.store.list_all(record.tenant_id) if not provider_kind(p.kind).remote), None)
        return first is not None and first.id == record.id

    def check_removable(self, record: ProviderRecord) -> None:
        """Refuse (409 conflict) deleting the permanent local provider."""
        if self.is_permanent(record):
            raise Conflict(f"provider {record.name!r} runs the built-in local models and cannot be deleted; "
                           "disable it instead (PATCH enabled=false)")

    def default_pair(self, tenant_id: str) -> tuple[str, str] | None:
        """(provider id, model) to use when no default is set: the first local model, while the only
        enabled providers are local ones; None otherwise."""
        if not self.enabled:
            return None
        enabled = [p for p in self.store.list_all(tenant_id) if p.enabled]
        if not enabled or any(provider_kind(p.kind).remote for p in enabled):
            return None
        for record in enabled:
            try:
                models = self.adapters.get(record).list_models()
            except QorvenError:
                continue
            if models:
                return record.id, models[0].id
        return None
