"""Which adapter serves which provider kind, and the one function that builds a provider."""

from __future__ import annotations

from qorven_local.providers.anthropic import DEFAULT_BASE_URL as ANTHROPIC_BASE_URL
from qorven_local.providers.anthropic import AnthropicProvider
from qorven_local.providers.events import Provider
from qorven_local.providers.local_gguf import BASE_URL as LOCAL_BASE_URL
from qorven_local.providers.local_gguf import LocalGGUFProvider, LocalOptions
from qorven_local.providers.openai_compat import DEFAULT_BASE_URLS, OpenAICompatProvider

KINDS = ("openai", "anthropic", "ollama", "openai_compatible", "local")


def default_base_url(kind: str) -> str | None:
    """The usual base URL of a kind (None for openai_compatible, which has no usual home)."""
    if kind == "local":
        return LOCAL_BASE_URL  # GGUF files in <data root>/models; not a URL
    return ANTHROPIC_BASE_URL if kind == "anthropic" else DEFAULT_BASE_URLS.get(kind)


def create_provider(kind: str, base_url: str | None = None, api_key: str | None = None,
                    name: str | None = None, *, connect_timeout: float = 10.0,
                    read_timeout: float = 120.0, local: LocalOptions | None = None) -> Provider:
    """A provider of ``kind``; ``read_timeout`` bounds the wait for each piece of a stream."""
    if kind not in KINDS:
        raise ValueError(f"unknown provider kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "local":
        if local is None:
            raise ValueError("a local provider needs LocalOptions (its models folder)")
        return LocalGGUFProvider(name=name or kind, options=local)
    base_url = base_url or default_base_url(kind)
    if not base_url:
        raise ValueError(f"a {kind} provider needs a base_url")
    common = dict(base_url=base_url, api_key=api_key, name=name or kind,
                  connect_timeout=connect_timeout, read_timeout=read_timeout)
    if kind == "anthropic":
        return AnthropicProvider(**common)
    return OpenAICompatProvider(kind=kind, **common)
