"""Pin the client's public surface: what scripts may import and call. Change it on purpose only."""

from __future__ import annotations

import inspect

import qorven_local.client as client_module
from qorven_local.client import APIError, Client, ClientError

EXPORTED = {
    "APIError", "AuthenticationError", "BadRequest", "ChatEvent", "Client", "ClientError", "Conflict",
    "ConnectionFailed", "DEFAULT_SERVER", "LiveEvents", "NotFound", "Page", "PermissionDenied",
    "ProviderFailed", "RateLimited", "ServerError", "ServiceUnavailable", "default_server", "default_token",
}

FAMILIES = {
    "agents": {"list", "iterate", "get", "create", "update", "delete", "resolve"},
    "sessions": {"list", "iterate", "open", "get", "update", "archive"},
    "messages": {"list", "iterate"},
    "chat": {"stream", "send", "completions", "completions_stream"},
    "memory": {"search", "save", "list", "get", "update", "delete", "embed"},
    "models": {"list", "get", "catalog", "selected", "select", "default", "set_default"},
    "providers": {"list", "iterate", "get", "create", "update", "delete", "set_key", "delete_key", "test",
                  "detect", "resolve"},
    "tools": {"list", "get", "invoke"},
    "rooms": {"list", "get", "create", "post", "messages", "decide"},
    "channels": {"list", "get", "create", "update", "delete", "set_secret", "status", "test_routing"},
    "tokens": {"list", "iterate", "revoke"},
}

CLIENT_METHODS = {"request", "stream_events", "subscribe", "health", "ready", "settings", "rotate_token",
                  "embeddings", "close"}


def public(obj) -> set[str]:
    return {n for n, v in inspect.getmembers(obj) if not n.startswith("_") and callable(v)}


def test_exported_names():
    assert set(client_module.__all__) == EXPORTED
    for name in EXPORTED:
        assert hasattr(client_module, name)


def test_one_attribute_per_endpoint_family_with_its_methods():
    client = Client("http://127.0.0.1:9", "t")
    try:
        for family, methods in FAMILIES.items():
            assert public(getattr(client, family)) == methods, family
        assert public(client) == CLIENT_METHODS
    finally:
        client.close()


def test_every_error_is_a_client_error_carrying_code():
    for name in EXPORTED:
        obj = getattr(client_module, name)
        if inspect.isclass(obj) and issubclass(obj, APIError):
            error = obj("some_code", "message", 400)
            assert isinstance(error, ClientError) and error.code == "some_code" and error.status == 400
