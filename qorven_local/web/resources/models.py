"""/v1/models: what clients may pick (OpenAI list), the providers' catalog, the selection, the default."""

from __future__ import annotations

import falcon

from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.providers.registry import ProviderRegistry
from qorven_local.web.io import paged_list, principal, query_bool, read_body
from qorven_local.web.spec import PAGED, Param, operation

MODEL = {
    "type": "object", "required": ["id", "object", "created", "owned_by", "qorven"],
    "properties": {
        "id": {"type": "string", "description": "<provider>/<model>, qor:<agent name>, or all-minilm-l6-v2"},
        "object": {"const": "model"}, "created": {"type": "integer"}, "owned_by": {"type": "string"},
        "qorven": {"type": "object", "required": ["kind", "default"],
                   "properties": {"kind": {"enum": ["model", "agent", "embedding"]},
                                  "provider_id": {"type": "string"}, "agent_id": {"type": "string"},
                                  "default": {"type": "boolean"},
                                  "starter": {"type": "boolean",
                                              "description": "a starter model (tiny, for trying things out)"}}},
    },
}
MODEL_LIST = {"type": "object", "required": ["object", "data"],
              "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": MODEL},
                             "has_more": {"type": "boolean"}, "next_cursor": {"type": ["string", "null"]}}}
CATALOG_ENTRY = {
    "type": "object",
    "required": ["id", "object", "provider_id", "provider", "model", "owned_by", "context_length", "selected",
                 "default"],
    "properties": {"id": {"type": "string"}, "object": {"const": "model"}, "provider_id": {"type": "string"},
                   "provider": {"type": "string"}, "model": {"type": "string"}, "owned_by": {"type": "string"},
                   "context_length": {"type": ["integer", "null"]}, "selected": {"type": "boolean"},
                   "default": {"type": "boolean"},
                   "size_bytes": {"type": ["integer", "null"], "description": "local models: file size"},
                   "quantization": {"type": ["string", "null"], "description": "local models: GGUF file type, "
                                                                              "e.g. Q4_K_M"},
                   "file": {"type": ["string", "null"], "description": "local models: file in <data root>/models"},
                   "qorven": {"type": "object", "description": "local models: how to label them honestly",
                              "properties": {
                                  "starter": {"type": "boolean", "description": "an installed starter model "
                                                                                "(tiny, for trying things out)"},
                                  "size_bytes": {"type": ["integer", "null"]},
                                  "params": {"type": ["integer", "null"], "description": "weights (GGUF header)"},
                                  "tiny": {"type": "boolean", "description": "under 1B parameters: agents "
                                                                             "run it with a short prompt, no tools"}}}},
}
CATALOG = {
    "type": "object", "required": ["object", "data", "errors"],
    "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": CATALOG_ENTRY},
                   "has_more": {"type": "boolean"}, "next_cursor": {"type": ["string", "null"]},
                   "errors": {"type": "array", "description": "providers whose model list could not be fetched",
                              "items": {"type": "object"}}},
}
SELECTED_PUT = {
    "type": "object", "additionalProperties": False, "required": ["models"],
    "properties": {"models": {"type": "array", "maxItems": 1000, "uniqueItems": True,
                              "items": {"type": "string", "minLength": 3, "maxLength": 300}}},
}
SELECTED = {"type": "object", "required": ["models"],
            "properties": {"models": {"type": "array", "items": {"type": "string"}}}}
DEFAULT = {"type": "object", "additionalProperties": False, "required": ["model"],
           "properties": {"model": {"type": ["string", "null"], "maxLength": 300,
                                    "description": "<provider>/<model>; null clears"}}}


class ModelsResource:
    def __init__(self, directory: ModelDirectory) -> None:
        self.directory = directory

    @operation(summary="Models clients may pick: selected provider models, agents (qor:<name>) and the "
                       "embedding model (OpenAI list)", tag="models", response=MODEL_LIST, query=PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = paged_list(req, self.directory.list(principal(req).tenant_id))


class ModelResource:
    def __init__(self, directory: ModelDirectory) -> None:
        self.directory = directory

    @operation(summary="One model (ids may contain '/')", tag="models", response=MODEL,
               errors=("model_not_found",))
    def on_get(self, req: falcon.Request, resp: falcon.Response, model_id: str) -> None:
        resp.media = self.directory.get(principal(req).tenant_id, model_id)


class CatalogResource:
    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="Every model the enabled providers offer (cached; ?refresh=true asks them again)",
               tag="models", response=CATALOG,
               query=PAGED + (Param("refresh", {"type": "boolean", "default": False}, "fetch the lists again"),))
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        entries, errors = self.providers.catalog(principal(req).tenant_id, query_bool(req, "refresh"))
        resp.media = paged_list(req, entries, errors=errors)


class SelectedModelsResource:
    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="The selected provider models", tag="models", response=SELECTED)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"models": [s["id"] for s in self.providers.selected(principal(req).tenant_id)]}

    @operation(summary="Replace the selection of provider models offered at /v1/models", tag="models",
               request=SELECTED_PUT, response=SELECTED, admin=True)
    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, SELECTED_PUT)
        resp.media = {"models": self.providers.set_selected(principal(req).tenant_id, body["models"])}


class DefaultModelResource:
    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    @operation(summary="The default model (used by agents without their own)", tag="models", response=DEFAULT)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"model": self.providers.default_model(principal(req).tenant_id)}

    @operation(summary="Set or clear (null) the default model; it is also selected", tag="models",
               request=DEFAULT, response=DEFAULT, admin=True)
    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, DEFAULT)
        resp.media = {"model": self.providers.set_default(principal(req).tenant_id, body["model"])}
