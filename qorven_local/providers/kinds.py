"""Every provider kind Qorven Local speaks, each declaring what it is in one ``ProviderKind`` record.

Callers ask the kind (``provider_kind(record.kind).remote``), never compare kind names; a new kind
is one more entry in ``KINDS`` (and the ``providers.kind`` CHECK constraint of a migration).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from qorven_local.providers.anthropic import DEFAULT_BASE_URL as ANTHROPIC_BASE_URL
from qorven_local.providers.anthropic import AnthropicProvider
from qorven_local.providers.events import Provider
from qorven_local.providers.local.options import BASE_URL as LOCAL_BASE_URL
from qorven_local.providers.local.options import LocalOptions
from qorven_local.providers.local.provider import LocalGGUFProvider
from qorven_local.providers.openai_compat import DEFAULT_BASE_URLS, OpenAICompatProvider


@dataclass(frozen=True)
class AdapterSettings:
    """What building an adapter may use: its row's URL, key and name, the timeouts, the local options."""

    kind: str
    base_url: str
    api_key: str | None
    name: str
    connect_timeout: float
    read_timeout: float
    local: LocalOptions | None


@dataclass(frozen=True)
class ProviderKind:
    """What a provider kind is: how its adapter is built and which of the registry's paths it takes."""

    name: str
    build: Callable[[AdapterSettings], Provider]
    # The usual base URL; None when the kind has no usual home (openai_compatible needs one given).
    default_base_url: str | None = None
    # True: reached over HTTP at a checked base URL, with an optional key. False: no base_url or key;
    # its models are the GGUF files of <data root>/models, so the server must have LocalOptions.
    remote: bool = True
    # True: listing the models is cheap (a folder listing), so the catalog is re-read on every request.
    fresh_catalog: bool = False
    # True: models are files that can be imported; catalog entries carry their size, quantization and file.
    model_files: bool = False


def _http_args(settings: AdapterSettings) -> dict[str, Any]:
    return dict(base_url=settings.base_url, api_key=settings.api_key, name=settings.name,
                connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout)


def _anthropic_adapter(settings: AdapterSettings) -> Provider:
    return AnthropicProvider(**_http_args(settings))


def _openai_wire_adapter(settings: AdapterSettings) -> Provider:
    return OpenAICompatProvider(kind=settings.kind, **_http_args(settings))


def _local_adapter(settings: AdapterSettings) -> Provider:
    if settings.local is None:
        raise ValueError("a local provider needs LocalOptions (its models folder)")
    return LocalGGUFProvider(name=settings.name, options=settings.local)


KINDS: dict[str, ProviderKind] = {kind.name: kind for kind in (
    ProviderKind("openai", _openai_wire_adapter, DEFAULT_BASE_URLS["openai"]),
    ProviderKind("anthropic", _anthropic_adapter, ANTHROPIC_BASE_URL),
    ProviderKind("ollama", _openai_wire_adapter, DEFAULT_BASE_URLS["ollama"]),
    ProviderKind("openai_compatible", _openai_wire_adapter),
    ProviderKind("local", _local_adapter, LOCAL_BASE_URL, remote=False, fresh_catalog=True, model_files=True),
)}
KIND_NAMES: tuple[str, ...] = tuple(KINDS)


def provider_kind(name: str) -> ProviderKind:
    """The record of a known kind (KeyError otherwise: stored rows only hold known kinds)."""
    return KINDS[name]


def default_base_url(kind: str) -> str | None:
    """The usual base URL of a kind (None for openai_compatible, which has no usual home)."""
    return KINDS[kind].default_base_url


def create_provider(kind: str, base_url: str | None = None, api_key: str | None = None,
                    name: str | None = None, *, connect_timeout: float = 10.0,
                    read_timeout: float = 120.0, local: LocalOptions | None = None) -> Provider:
    """A provider of ``kind``; ``read_timeout`` bounds the wait for each piece of a stream."""
    if kind not in KINDS:
        raise ValueError(f"unknown provider kind {kind!r}; expected one of {', '.join(KINDS)}")
    record = KINDS[kind]
    base_url = base_url or record.default_base_url
    if not base_url:
        raise ValueError(f"a {kind} provider needs a base_url")
    return record.build(AdapterSettings(kind=kind, base_url=base_url, api_key=api_key, name=name or kind,
                                        connect_timeout=connect_timeout, read_timeout=read_timeout, local=local))
