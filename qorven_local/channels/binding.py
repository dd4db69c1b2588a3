"""A binding's config rules and the API objects of bindings and their deliveries.

Config URLs (``api_base_url``, ``reply_url``, ``public_base_url``) must be http(s) without
credentials; plain http only to loopback (local fakes, tests, a local relay), since a bot token
travels with every send. They are not resolved or range-checked at save time: bindings are
written by admins, and a self-hosted API proxy on the LAN is a legitimate target.

Secrets never follow a URL elsewhere: when the scheme, host or port of a URL a binding sends to
(``SEND_URL_KEYS``) changes, the service clears the binding's secrets, as providers do for keys.
``public_base_url`` is only where the provider calls us, so it carries nothing and clears nothing.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from qorven_local.channels.kinds import channel_kind
from qorven_local.channels.types import Binding, ChannelJob
from qorven_local.errors import ValidationError
from qorven_local.security.urlpolicy import BlockedURL, split_url

URL_KEYS = ("api_base_url", "reply_url", "public_base_url")
SEND_URL_KEYS = ("api_base_url", "reply_url")  # a send secret, or what it signs, travels to these
MAX_CONFIG_VALUE_CHARS = 2000
# Config every kind takes: where the provider reaches this app (the binding's webhook URL then uses it).
COMMON_CONFIG_KEYS = {
    "public_base_url": "the public https origin in front of this app (e.g. a tunnel); the webhook URL uses it",
}


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config(kind_name: str, config: Any) -> dict[str, Any]:
    """Validate a binding's non-secret config against its kind's CONFIG_KEYS and URL rules."""
    kind = channel_kind(kind_name)
    if not isinstance(config, dict):
        raise ValidationError("config must be an object", param="config")
    clean: dict[str, Any] = {}
    keys = {**COMMON_CONFIG_KEYS, **kind.CONFIG_KEYS}
    for key, value in config.items():
        if key not in keys:
            known = ", ".join(keys)
            raise ValidationError(f"{kind_name} bindings have no config key {key!r} (known: {known}); "
                                  "secrets go to PUT /v1/channels/{id}/secret", param=f"config.{key}")
        if value is None or value == "":
            continue  # unset
        if not isinstance(value, str) or len(value) > MAX_CONFIG_VALUE_CHARS:
            raise ValidationError(f"config.{key} must be a string of at most {MAX_CONFIG_VALUE_CHARS} characters",
                                  param=f"config.{key}")
        if key in URL_KEYS:
            try:
                target = split_url(value)
            except BlockedURL as exc:
                raise ValidationError(f"config.{key}: {exc}", param=f"config.{key}") from None
            if target.scheme == "http" and not _is_loopback(target.host) and key != "public_base_url":
                raise ValidationError(f"config.{key} must use https (plain http is allowed to loopback only)",
                                      param=f"config.{key}")
        clean[key] = value
    return clean


def _origin(url: str) -> tuple[str, str, int] | None:
    if not url:
        return None
    try:
        target = split_url(url)
    except BlockedURL:
        # Only a stored config can be malformed (new ones are checked first): it matches no origin.
        return ("", url, 0)
    return target.scheme, target.host, target.port


def _send_origins(kind_name: str, config: dict[str, Any]) -> dict[str, tuple[str, str, int] | None]:
    """(scheme, host, port) of each URL the binding sends to; an unset api_base_url is the kind's API."""
    defaults = {"api_base_url": channel_kind(kind_name).DEFAULT_API_BASE_URL}
    return {key: _origin(str(config.get(key) or defaults.get(key) or "")) for key in SEND_URL_KEYS}


def moved_send_urls(kind_name: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The config keys whose send URL now points at another scheme, host or port (unsetting one moves
    nothing: no secret travels to where nothing is sent)."""
    old, new = _send_origins(kind_name, before), _send_origins(kind_name, after)
    return [key for key in SEND_URL_KEYS if new[key] is not None and new[key] != old[key]]


def _secret_words(name: str) -> str:
    return name.replace("_", " ")


def binding_problems(binding: Binding) -> list[str]:
    """What keeps a binding from answering, as sentences (empty: it can verify, run and reply)."""
    kind = channel_kind(binding.kind)
    problems = []
    if not binding.enabled:
        problems.append("The binding is turned off.")
    verify = kind.SECRET_NAMES[0]
    if verify not in binding.secrets_set:
        problems.append(f"No {_secret_words(verify)} is set, so incoming messages cannot be verified "
                        "and are refused.")
    send = kind.SEND_SECRET
    if send is not None and send != verify and send not in binding.secrets_set:
        problems.append(f"No {_secret_words(send)} is set, so the agent's replies cannot be sent.")
    for key, about in kind.CONFIG_KEYS.items():
        if about.startswith("required") and not binding.config.get(key):
            problems.append(f"The setting {_secret_words(key)} is not set ({about.split(':', 1)[-1].strip()}).")
    return problems


def binding_to_dict(binding: Binding, webhook_url: str, secret_names: tuple[str, ...]) -> dict[str, Any]:
    """The API's Binding object; ``secret_set`` is about the verifying secret (the first name)."""
    return {
        "id": binding.id, "object": "channel", "kind": binding.kind, "name": binding.name,
        "agent_id": binding.agent_id, "enabled": binding.enabled, "config": dict(binding.config),
        "secret_set": bool(secret_names) and secret_names[0] in binding.secrets_set,
        "secrets": {name: name in binding.secrets_set for name in secret_names},
        "routing": {"keywords": dict(binding.routing.get("keywords") or {}),
                    "default_agent_id": binding.routing.get("default_agent_id")},
        "webhook_url": webhook_url, "created_at": binding.created_at, "updated_at": binding.updated_at,
    }


def delivery_to_dict(job: ChannelJob) -> dict[str, Any]:
    """The API's delivery object: one accepted message and its reply's delivery state."""
    return {
        "id": job.id, "object": "channel.delivery", "binding_id": job.binding_id,
        "agent_id": job.agent_id, "session_id": job.session_id, "channel": job.channel,
        "event_id": job.inbound.get("event_id"), "sender": job.inbound.get("sender"),
        "status": job.status, "attempts": job.attempts, "message_id": job.message_id,
        "last_error": job.last_error, "created_at": job.created_at, "updated_at": job.updated_at,
        "delivered_at": job.delivered_at,
    }
