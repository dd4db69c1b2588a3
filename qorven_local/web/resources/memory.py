"""/v1/memory and /v1/embeddings: thin resources over MemoryService and the Embedder."""

from __future__ import annotations

import base64

import falcon
import numpy as np

from qorven_local.errors import ModelNotFound, PayloadTooLarge, ValidationError
from qorven_local.memory.embedder import DIMENSIONS, MODEL_ID, Embedder
from qorven_local.memory.service import MemoryService
from qorven_local.providers.embeddings import embed_with_provider
from qorven_local.providers.registry import ProviderRegistry
from qorven_local.web import schemas
from qorven_local.web.io import page_args, page_body, principal, query_choice, read_body
from qorven_local.web.spec import PAGED, Param, operation

MEMORY_FILTERS = (
    Param("agent_id", {"type": "string"}, "only this agent's memories"),
    Param("scope", {"enum": schemas.MEMORY_SCOPES}, "only this scope"),
    Param("kind", {"enum": schemas.MEMORY_KINDS}, "only this kind"),
    Param("session_id", {"type": "string"}, "only memories saved in this session"),
)


class MemorySearchResource:
    def __init__(self, memory: MemoryService) -> None:
        self.memory = memory

    @operation(summary="Search memories: vector KNN and BM25 find candidates, a calibrated score ranks them, best first", tag="memory",
               request=schemas.MEMORY_SEARCH, response=schemas.MEMORY_SEARCH_RESULT,
               description="Candidates come from a sqlite-vec KNN and an FTS5 BM25 search; ranks and BM25 "
                           "choose them but never set the score. " + schemas.SCORE_FORMULA
                           + " min_score drops results scoring below it.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, schemas.MEMORY_SEARCH)
        results = self.memory.search(principal(req).tenant_id, query=body["query"], scope=body["scope"],
                                     agent_id=body.get("agent_id"), session_id=body.get("session_id"),
                                     max_results=body.get("max_results", 10), kinds=body.get("kinds"),
                                     min_score=body.get("min_score"))
        resp.media = {"object": "list", "data": results}


class MemorySaveResource:
    def __init__(self, memory: MemoryService) -> None:
        self.memory = memory

    @operation(summary="Save a memory (embedded now); a near-duplicate in the same scope (cosine >= 0.95) is "
                       "updated instead and answered 200 with deduplicated: true", tag="memory",
               request=schemas.MEMORY_SAVE, response=schemas.MEMORY, status=201, admin=True,
               extra_statuses={200: "A near-duplicate was updated (deduplicated: true)"})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, schemas.MEMORY_SAVE)
        memory, deduplicated = self.memory.save(
            principal(req).tenant_id, content=body["content"], kind=body.get("kind", "note"), scope=body["scope"],
            agent_id=body.get("agent_id"), session_id=body.get("session_id"), importance=body.get("importance"),
            source="admin")
        resp.status = 200 if deduplicated else 201
        resp.media = {**memory.to_dict(), "deduplicated": deduplicated}


class MemoriesResource:
    def __init__(self, memory: MemoryService) -> None:
        self.memory = memory

    @operation(summary="List memories (newest first)", tag="memory", response=schemas.list_of(schemas.MEMORY),
               query=PAGED + MEMORY_FILTERS)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = {"agent_id": req.get_param("agent_id"),
                   "scope": query_choice(req, "scope", tuple(schemas.MEMORY_SCOPES)),
                   "kind": query_choice(req, "kind", tuple(schemas.MEMORY_KINDS)),
                   "session_id": req.get_param("session_id")}
        page = self.memory.list_page(principal(req).tenant_id, filters, **page_args(req))
        resp.media = page_body(page)


class MemoryResource:
    def __init__(self, memory: MemoryService) -> None:
        self.memory = memory

    @operation(summary="Get a memory", tag="memory", response=schemas.MEMORY)
    def on_get(self, req: falcon.Request, resp: falcon.Response, memory_id: str) -> None:
        resp.media = self.memory.get(principal(req).tenant_id, memory_id).to_dict()

    @operation(summary="Edit a memory (new content is re-embedded and re-indexed)", tag="memory",
               request=schemas.MEMORY_PATCH, response=schemas.MEMORY, admin=True)
    def on_patch(self, req: falcon.Request, resp: falcon.Response, memory_id: str) -> None:
        body = read_body(req, schemas.MEMORY_PATCH)
        resp.media = self.memory.update(principal(req).tenant_id, memory_id, body).to_dict()

    @operation(summary="Delete a memory (row, vectors and full-text entry together)", tag="memory",
               response=schemas.MEMORY_DELETED, admin=True)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, memory_id: str) -> None:
        memory = self.memory.delete(principal(req).tenant_id, memory_id)
        resp.media = {"id": memory.id, "object": "memory", "deleted": True}


def embedding_inputs(value: object) -> list[str]:
    """The texts of an embeddings request; token arrays and empty strings are refused clearly."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValidationError("input must be a string or a non-empty array of strings", param="input")
    if len(value) > schemas.MAX_EMBEDDING_INPUTS:
        raise PayloadTooLarge(f"input may hold at most {schemas.MAX_EMBEDDING_INPUTS} strings; send them in smaller "
                              "batches", param="input")
    for i, item in enumerate(value):
        if isinstance(item, (int, list)) and not isinstance(item, bool):
            raise ValidationError(
                f"input must be text: token arrays are not supported here ({MODEL_ID} has its own tokenizer, "
                "unlike OpenAI's); send the strings instead", param="input")
        if not isinstance(item, str):
            raise ValidationError(f"input[{i}] must be a string", param="input")
        if not item.strip():
            raise ValidationError(f"input[{i}] must not be empty", param="input")
    if sum(len(text) for text in value) > schemas.MAX_EMBEDDING_CHARS:
        raise PayloadTooLarge(f"input may hold at most {schemas.MAX_EMBEDDING_CHARS} characters in all; send it in "
                              "smaller batches", param="input")
    return value


def _is_token_ids(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(type(t) is int for t in value)


def provider_embedding_inputs(value: object) -> None:
    """A provider model's input: text as for the built-in model, or token id arrays (OpenAI's tokenizer is the
    upstream's, so LangChain's pre-tokenized batches pass through), within the same count cap."""
    if _is_token_ids(value):
        return
    if isinstance(value, list) and value and all(_is_token_ids(item) for item in value):
        if len(value) > schemas.MAX_EMBEDDING_INPUTS:
            raise PayloadTooLarge(f"input may hold at most {schemas.MAX_EMBEDDING_INPUTS} token arrays; send them in "
                                  "smaller batches", param="input")
        return
    embedding_inputs(value)


class EmbeddingsResource:
    def __init__(self, embedder: Embedder, providers: ProviderRegistry) -> None:
        self.embedder = embedder
        self.providers = providers

    @operation(summary="Embed text with the bundled model, or proxy to a provider model's /embeddings "
                       "(model <provider>/<model>; OpenAI-compatible and Ollama providers); OpenAI shape",
               tag="embeddings", request=schemas.EMBEDDINGS_REQUEST, response=schemas.EMBEDDINGS_RESPONSE,
               errors=("model_not_found", "provider_error", "provider_timeout"),
               description=schemas.EMBEDDING_LIMITS)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req)
        if not isinstance(body, dict):
            raise ValidationError("the body must be a JSON object", param=None)
        if "input" not in body:
            raise ValidationError("input is required", param="input")
        model = body.get("model", MODEL_ID)
        if model not in (MODEL_ID, None):
            if not isinstance(model, str) or "/" not in model:
                raise ModelNotFound(f"embedding model {model!r} not found; embed with {MODEL_ID} or a provider "
                                    "model as <provider>/<model>", param="model")
            provider_embedding_inputs(body["input"])
            resp.media = embed_with_provider(self.providers.resolve(principal(req).tenant_id, model), body)
            return
        fmt = body.get("encoding_format") or "float"
        if fmt not in ("float", "base64"):
            raise ValidationError("encoding_format must be float or base64", param="encoding_format")
        dimensions = body.get("dimensions")
        if dimensions is not None and (isinstance(dimensions, bool) or dimensions != DIMENSIONS):
            raise ValidationError(f"{MODEL_ID} only produces {DIMENSIONS} dimensions", param="dimensions")
        texts = embedding_inputs(body["input"])
        # counted before embedding: the tokenizer's pass is cheap, the model's is what the cap protects
        tokens = self.embedder.count_tokens(texts)
        if tokens > schemas.MAX_EMBEDDING_TOKENS:
            raise PayloadTooLarge(f"input is {tokens} tokens as {MODEL_ID} reads them; one request may carry at most "
                                  f"{schemas.MAX_EMBEDDING_TOKENS}: send it in smaller batches", param="input")
        vectors = self.embedder.embed(texts)
        data = []
        for i, vector in enumerate(vectors):
            encoded: str | list[float]
            if fmt == "base64":
                encoded = base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
            else:
                encoded = [float(x) for x in vector]
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        resp.media = {"object": "list", "data": data, "model": MODEL_ID,
                      "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
