"""Checks of what a client may set on a provider: its name and its base URL; and a URL's origin.

httpx is imported on first use (start-up time).
"""

from __future__ import annotations

from typing import Any

from qorven_local.errors import ValidationError

MAX_NAME = 64


def check_provider_name(name: Any) -> str:
    """The stripped name, or ValidationError: it prefixes model ids (``<name>/<model>``)."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("name must be a non-empty string", param="name")
    name = name.strip()
    if len(name) > MAX_NAME or "/" in name or name.lower().startswith("qor:") or any(c < " " for c in name):
        raise ValidationError(f"name must be 1-{MAX_NAME} characters without '/' or control characters and "
                              "not start with 'qor:' (it prefixes model ids: <name>/<model>)", param="name")
    return name


def check_base_url(url: Any) -> str:
    """An http(s) URL with a host and no credentials, query or fragment, without its trailing '/'."""
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
    """(scheme, host, port) of a URL, the port filled in for http and https."""
    import httpx

    parsed = httpx.URL(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, (parsed.host or "").lower(), port
