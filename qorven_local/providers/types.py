"""A configured provider, one entry of its cached model catalog, and the id of a provider's model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def model_id(provider_name: str, model: str) -> str:
    """The id clients use for a provider's model: ``<provider name>/<model>``."""
    return f"{provider_name}/{model}"


@dataclass
class ProviderRecord:
    """A configured provider as stored (``key_enc`` is ciphertext or None)."""

    id: str
    tenant_id: str
    name: str
    kind: str
    base_url: str
    enabled: bool
    key_enc: str | None
    key_hint: str | None
    models_fetched_at: str | None
    models_error: str | None
    created_at: str
    updated_at: str

    @property
    def has_key(self) -> bool:
        return self.key_enc is not None

    def to_dict(self) -> dict[str, Any]:
        """The API's Provider object: never the key, only whether one is set and its hint."""
        return {"id": self.id, "object": "provider", "name": self.name, "kind": self.kind,
                "base_url": self.base_url, "enabled": self.enabled, "has_key": self.has_key,
                "key_hint": self.key_hint if self.has_key else None, "created_at": self.created_at,
                "updated_at": self.updated_at, **self.health()}

    def health(self) -> dict[str, Any]:
        """What the last contact (a test or a catalog fetch) found: the UI's provider dot, not ``enabled``."""
        status = "untested" if self.models_fetched_at is None else "unreachable" if self.models_error else "reachable"
        return {"status": status, "checked_at": self.models_fetched_at, "last_error": self.models_error}


@dataclass(frozen=True)
class CatalogModel:
    """One model a provider offered when its catalog was last fetched."""

    provider_id: str
    model: str
    owned_by: str | None
    context_length: int | None
