"""/v1/providers: CRUD (admin writes), write-only keys, a connection test, and local-server detection."""

from __future__ import annotations

import falcon

from qorven_local.providers.kinds import KIND_NAMES
from qorven_local.providers.local.options import RUNTIME_STATES
from qorven_local.providers.registry import ProviderRegistry
from qorven_local.providers.detect import DEFAULT_TARGETS, LocalServer, detect_local
from qorven_local.web import schemas
from qorven_local.web.io import page_args, page_body, principal, read_body
from qorven_local.web.spec import PAGED, operation

PROVIDER = {
    "type": "object",
    "required": ["id", "object", "name", "kind", "base_url", "enabled", "has_key", "key_hint", "created_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "provider"}, "name": {"type": "string"},
        "kind": {"enum": list(KIND_NAMES)}, "base_url": {"type": "string"}, "enabled": {"type": "boolean"},
        "has_key": {"type": "boolean"},
        "key_hint": {"type": ["string", "null"], "description": "last four characters, e.g. …abcd"},
        "created_at": schemas.TIMESTAMP, "updated_at": schemas.TIMESTAMP,
        "status": {"enum": ["reachable", "unreachable", "untested"],
                   "description": "what the last test or catalog fetch found (unreachable: it failed)"},
        "checked_at": {"type": ["string", "null"], "description": "when it was last reached or tried"},
        "last_error": {"type": ["string", "null"], "description": "the last failure, e.g. unreachable at host:port"},
        "qorven": {"type": "object", "description": "kind local only: the in-process runtime's state and "
                   "whether this provider can be deleted (the built-in `local` provider cannot)",
                   "required": ["runtime", "removable"],
                   "properties": {"runtime": {"enum": list(RUNTIME_STATES),
                                              "description": "llama-cpp-python importable / being built in "
                                                             "the background / not installed"},
                                  "removable": {"type": "boolean"}}},
    },
}
_NAME = {"type": "string", "minLength": 1, "maxLength": 64,
         "pattern": "^(?!\\s*[qQ][oO][rR]:)(?=.*\\S)[^/\\x00-\\x1f]+$",
         "description": "unique per tenant; prefixes model ids (<name>/<model>): no '/', no control characters, "
                        "not blank, not starting with 'qor:'"}
# Keys travel in HTTP headers, which carry visible ASCII only: anything else could never be sent
# (and a newline would be header injection), so it is refused at the door instead of failing every call.
API_KEY = {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": "^[\\x21-\\x7e]+$", "writeOnly": True,
           "description": "visible ASCII, no spaces"}
_URL = {"type": "string", "minLength": 1, "maxLength": 2000, "description": "http(s) base URL incl. /v1"}
PROVIDER_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["name", "kind"],
    "properties": {"name": _NAME, "kind": {"enum": list(KIND_NAMES)},
                   "base_url": {**_URL, "description": "default: the kind's usual URL (required for "
                                                        "openai_compatible)"},
                   "enabled": {"type": "boolean"},
                   "key": API_KEY},
}
PROVIDER_PATCH = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {"name": _NAME, "base_url": {**_URL, "description": "changing the host clears the key"},
                   "enabled": {"type": "boolean"}, "kind": {"enum": list(KIND_NAMES)}},
}
KEY_PUT = {
    "type": "object", "additionalProperties": False, "required": ["key"],
    "properties": {"key": API_KEY},
}
TEST_RESULT = {
    "type": "object", "required": ["ok", "provider_id", "latency_ms"],
    "properties": {"ok": {"type": "boolean"}, "provider_id": {"type": "string"}, "latency_ms": {"type": "integer"},
                   "models": {"type": "array", "items": {"type": "string"}},
                   "error": {"type": "object", "properties": {"code": {"type": "string"},
                                                              "message": {"type": "string"}}}},
}
DETECTED = {
    "type": "object", "required": ["object", "data"],
    "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {
        "type": "object", "required": ["kind", "name", "base_url", "reachable", "models"],
        "properties": {"kind": {"enum": list(KIND_NAMES)}, "name": {"type": "string"}, "base_url": {"type": "string"},
                       "reachable": {"type": "boolean"}, "models": {"type": "array", "items": {"type": "string"}}}}}},
}


class ProvidersResource:
    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="List providers (newest first); keys are never returned", tag="providers",
               response=schemas.list_of(PROVIDER), query=PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = page_body(self.providers.list_page(principal(req).tenant_id, **page_args(req)),
                               self.providers.view)

    @operation(summary="Add a provider (the key, if given, is stored encrypted and never returned)",
               tag="providers", request=PROVIDER_CREATE, response=PROVIDER, status=201, admin=True,
               errors=("conflict",))
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, PROVIDER_CREATE)
        resp.status = 201
        resp.media = self.providers.view(self.providers.create(principal(req).tenant_id, body))


class ProviderResource:
    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="Get a provider", tag="providers", response=PROVIDER)
    def on_get(self, req: falcon.Request, resp: falcon.Response, provider_id: str) -> None:
        resp.media = self.providers.view(self.providers.get(principal(req).tenant_id, provider_id))

    @operation(summary="Rename, enable/disable or move a provider; a new host (scheme, host or port) clears "
                       "its key", tag="providers", request=PROVIDER_PATCH, response=PROVIDER, admin=True,
               errors=("conflict",))
    def on_patch(self, req: falcon.Request, resp: falcon.Response, provider_id: str) -> None:
        body = read_body(req, PROVIDER_PATCH)
        resp.media = self.providers.view(self.providers.update(principal(req).tenant_id, provider_id, body))

    @operation(summary="Delete a provider, its key and its models (the built-in `local` provider: 409)",
               tag="providers", response=PROVIDER, admin=True, errors=("conflict",))
    def on_delete(self, req: falcon.Request, resp: falcon.Response, provider_id: str) -> None:
        resp.media = self.providers.view(self.providers.delete(principal(req).tenant_id, provider_id))


class ProviderKeysResource:
    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="Store the provider's API key (write-only: encrypted at rest, never returned)",
               tag="providers", request=KEY_PUT, response=PROVIDER, admin=True)
    def on_put(self, req: falcon.Request, resp: falcon.Response, provider_id: str) -> None:
        body = read_body(req, KEY_PUT)
        resp.media = self.providers.view(self.providers.set_key(principal(req).tenant_id, provider_id, body["key"]))

    @operation(summary="Delete the provider's stored key", tag="providers", response=PROVIDER, admin=True)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, provider_id: str) -> None:
        resp.media = self.providers.view(self.providers.delete_key(principal(req).tenant_id, provider_id))


class ProviderTestResource:
    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="Check reachability and auth by listing the provider's models (200 with ok=false and "
                       "the error when it fails); refreshes its catalog", tag="providers", response=TEST_RESULT,
               admin=True, content_types=("application/json",))
    def on_post(self, req: falcon.Request, resp: falcon.Response, provider_id: str) -> None:
        resp.media = self.providers.test(principal(req).tenant_id, provider_id)


UNSAVED_TEST_RESULT = {
    "type": "object", "required": ["ok", "provider_id", "latency_ms"],
    "properties": {"ok": {"type": "boolean"}, "provider_id": {"type": "null", "description": "not saved"},
                   "latency_ms": {"type": "integer"}, "models": {"type": "array", "items": {"type": "string"}},
                   "error": {"type": "object", "properties": {"code": {"type": "string"},
                                                              "message": {"type": "string"}}}},
}


class ProviderConfigTestResource:
    """``POST /v1/providers/test``: test a provider before saving it (the create body; nothing is stored)."""

    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="Test a provider that is not saved yet: the same body as POST /v1/providers; lists its "
                       "models with the given URL and key and stores nothing (200 with ok=false and the error, "
                       "e.g. unreachable at host:port, when it fails)", tag="providers", request=PROVIDER_CREATE,
               response=UNSAVED_TEST_RESULT, admin=True)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.providers.test_config(principal(req).tenant_id, read_body(req, PROVIDER_CREATE))


class ProviderDetectResource:
    def __init__(self, targets: tuple[LocalServer, ...] = DEFAULT_TARGETS) -> None:
        self.targets = targets

    @operation(summary="Probe the usual loopback ports of Ollama (11434), LM Studio (1234), llama.cpp (8080) "
                       "and Jan (1337)", tag="providers", response=DETECTED)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"object": "list", "data": detect_local(self.targets)}


MODEL_IMPORT = {
    "type": "object", "additionalProperties": False, "required": ["path"],
    "properties": {"path": {"type": "string", "minLength": 1, "maxLength": 4096,
                            "description": "absolute path of a .gguf file under the user's home folder or the "
                                           "data root (symlinks resolved)"}},
}
MODEL_IMPORTED = {
    "type": "object", "required": ["object", "id", "provider_id", "model", "file", "size_bytes", "sha256"],
    "properties": {"object": {"const": "model_import"}, "id": {"type": "string"}, "provider_id": {"type": "string"},
                   "model": {"type": "string"}, "file": {"type": "string"}, "size_bytes": {"type": "integer"},
                   "sha256": {"type": "string"}, "quantization": {"type": ["string", "null"]},
                   "context_length": {"type": ["integer", "null"]}},
}


class ProviderModelImportResource:
    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="Copy a GGUF model file into a local provider's models folder (returns its SHA-256); "
                       "400 when the file is not GGUF or lies outside the user's home and the data root",
               tag="providers", request=MODEL_IMPORT, response=MODEL_IMPORTED, status=201, admin=True)
    def on_post(self, req: falcon.Request, resp: falcon.Response, provider_id: str) -> None:
        body = read_body(req, MODEL_IMPORT)
        resp.status = 201
        resp.media = self.providers.import_local_model(principal(req).tenant_id, provider_id, body["path"])
