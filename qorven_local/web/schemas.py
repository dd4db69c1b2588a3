"""JSON Schemas of request and response bodies: used to validate requests and to build /openapi.json.

Request schemas reject unknown fields (``additionalProperties: false``) except where the contract
says to be lenient (the OpenAI chat surface).
"""

from __future__ import annotations

from typing import Any

from qorven_local.agents.types import CHANNELS

NULLABLE_STR = {"type": ["string", "null"]}
TIMESTAMP = {"type": "string", "description": "ISO-8601 UTC, e.g. 2026-11-28T13:12:11.123Z"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"], "description": "ISO-8601 UTC or null"}
SLUG = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,47}$", "description": "lowercase slug, unique per tenant"}


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    """The paginated list envelope around ``item``."""
    return {
        "type": "object",
        "required": ["object", "data", "has_more", "next_cursor"],
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": item},
            "has_more": {"type": "boolean"},
            "next_cursor": {"type": ["string", "null"], "description": "opaque; pass as ?cursor= for the next page"},
        },
    }


ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "type", "param", "request_id"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "request_id": {"type": ["string", "null"]},
            },
        }
    },
}

AGENT_MEMORY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"enabled": {"type": "boolean"}, "auto_save": {"type": "boolean"},
                   "max_recall": {"type": "integer", "minimum": 0, "maximum": 20, "default": 5, "description": (
                       "memories recalled into a run at most (those scoring at least QORVEN_RECALL_MIN_SCORE)")}},
}

AGENT = {
    "type": "object",
    "required": ["id", "object", "name", "display_name", "description", "instructions", "model", "tools",
                 "memory", "temperature", "builtin", "created_at", "updated_at", "deleted_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "agent"}, "name": {"type": "string"},
        "display_name": {"type": "string"}, "description": {"type": "string"},
        "instructions": {"type": "string"}, "model": NULLABLE_STR,
        "tools": {"type": "array", "items": {"type": "string"}},
        "memory": {"type": "object", "required": ["enabled", "auto_save"],
                   "properties": {"enabled": {"type": "boolean"}, "auto_save": {"type": "boolean"}}},
        "temperature": {"type": ["number", "null"]}, "builtin": {"type": "boolean"},
        "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "deleted_at": NULLABLE_TIMESTAMP,
    },
}

_AGENT_FIELDS = {
    "display_name": {"type": ["string", "null"], "maxLength": 100},
    "description": {"type": "string", "maxLength": 2000},
    "instructions": {"type": "string", "maxLength": 100_000},
    "model": {"type": ["string", "null"], "maxLength": 200},
    "tools": {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 64},
    "memory": AGENT_MEMORY,
    "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
}

AGENT_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["name"],
    "properties": {"name": SLUG, **_AGENT_FIELDS},
}

AGENT_PATCH = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {"name": SLUG, **_AGENT_FIELDS},
}

SESSION = {
    "type": "object",
    "required": ["id", "object", "agent_id", "channel", "peer", "title", "status", "message_count",
                 "created_at", "updated_at", "last_message_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "session"}, "agent_id": {"type": "string"},
        "channel": {"type": "string"}, "peer": NULLABLE_STR, "title": NULLABLE_STR,
        "status": {"enum": ["active", "archived"]}, "message_count": {"type": "integer"},
        "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "last_message_at": NULLABLE_TIMESTAMP,
        "model": {"type": ["string", "null"], "description": "this conversation's model override (null: the agent's)"},
    },
}

SESSION_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["agent_id"],
    "properties": {
        "agent_id": {"type": "string", "minLength": 1, "maxLength": 100,
                     "description": "agent id or unique name"},
        "channel": {"enum": list(CHANNELS), "default": "web"},
        "peer": {"type": ["string", "null"], "maxLength": 200},
        "title": {"type": ["string", "null"], "maxLength": 200},
    },
}

SESSION_PATCH = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {
        "title": {"type": ["string", "null"], "maxLength": 200},
        "status": {"enum": ["active", "archived"]},
        "model": {"type": ["string", "null"], "minLength": 1, "maxLength": 300,
                  "description": "a /v1/models provider model for this conversation, or null for the agent's"},
    },
}

SESSION_DELETED = {
    "type": "object", "required": ["id", "object", "deleted"],
    "properties": {"id": {"type": "string"}, "object": {"const": "session"}, "deleted": {"const": True}},
}

MESSAGE_PATCH = {
    "type": "object", "additionalProperties": False, "required": ["content"],
    "properties": {"content": {"type": "string", "maxLength": 1_000_000,
                               "description": "the start of a stopped answer's text: what its reader saw"}},
}

MESSAGES_DELETED = {
    "type": "object", "required": ["id", "object", "deleted", "deleted_ids"],
    "properties": {"id": {"type": "string"}, "object": {"const": "message"}, "deleted": {"const": True},
                   "deleted_ids": {"type": "array", "items": {"type": "string"},
                                   "description": "every message removed: an assistant turn takes its tool messages"}},
}

RECALLED_MEMORY = {
    "type": "object", "required": ["id", "score", "content"],
    "properties": {
        "id": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1},
        "content": {"type": "string", "maxLength": 200, "description": "the memory's first 200 characters"},
        "document": {"type": "object", "description": "present when the memory is a passage of a document: "
                     "{id, title, locator}"},
    },
}

MESSAGE = {
    "type": "object",
    "required": ["id", "object", "session_id", "agent_id", "role", "content", "channel", "tool_calls",
                 "tool_call_id", "status", "error", "usage", "model", "created_at", "recalled"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "message"}, "session_id": {"type": "string"},
        "agent_id": NULLABLE_STR, "role": {"enum": ["system", "user", "assistant", "tool"]},
        "content": NULLABLE_STR, "channel": {"type": "string"},
        "tool_calls": {"type": ["array", "null"], "items": {"type": "object"}},
        "tool_call_id": NULLABLE_STR, "status": {"enum": ["complete", "streaming", "stopped", "failed"]},
        "error": {"type": ["object", "null"]}, "usage": {"type": ["object", "null"]},
        "model": {"type": ["string", "null"], "description": "the <provider>/<model> that wrote an assistant "
                  "message; null on other messages"},
        "created_at": TIMESTAMP,
        "recalled": {"type": ["array", "null"], "description": (
            "an assistant answer's recalled memories (those scoring at least QORVEN_RECALL_MIN_SCORE, at most 5); "
            "[] when none matched, null on other messages"), "items": RECALLED_MEMORY},
    },
}

HEALTH = {
    "type": "object", "required": ["status", "version"],
    "properties": {"status": {"const": "ok"}, "version": {"type": "string"}},
}

READY = {
    "type": "object", "required": ["status", "checks"],
    "properties": {"status": {"enum": ["ready", "not_ready"]},
                   "checks": {"type": "object", "additionalProperties": {
                       "type": "object", "required": ["ok"],
                       "properties": {"ok": {"type": "boolean"}, "detail": {"type": ["string", "null"]}}}}},
}

ANY_OBJECT = {"type": "object"}

# -- memory ---------------------------------------------------------------------------------

MEMORY_KINDS = ["fact", "preference", "note", "skill", "summary"]
MEMORY_SCOPES = ["agent", "session", "workspace"]

MEMORY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "object", "scope", "agent_id", "session_id", "kind", "content", "importance", "source",
                 "created_at", "updated_at", "last_recalled_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "memory"}, "scope": {"enum": MEMORY_SCOPES},
        "agent_id": NULLABLE_STR, "session_id": NULLABLE_STR, "kind": {"enum": MEMORY_KINDS},
        "content": {"type": "string"}, "importance": {"type": "number", "minimum": 0, "maximum": 1},
        "source": {"enum": ["user", "agent", "admin", "import"]},
        "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        "last_recalled_at": {**NULLABLE_TIMESTAMP, "description": "last time an agent recalled it (run or tool)"},
        "deduplicated": {"type": "boolean", "description": "save only: true when a near-duplicate was updated"},
        "document": {"type": "object", "required": ["id", "title", "locator"], "description": (
            "a passage of an uploaded document: the document and where in it (\"p. 3\", a heading path, "
            "\"lines 1-40\")"), "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "locator": NULLABLE_STR}},
    },
}

# memory/search.py's calibration (constants there, measured by bench/recall_calibration.py)
SCORE_FORMULA = (
    "How well the memory matches the query, not where it ranked: the same memory scores the same for "
    "the same query whatever else is stored; results are sorted by it. semantic = clip((cosine - 0.10) "
    "/ 0.60, 0, 1) on the MiniLM vectors; keyword = the share of the query's content words (an "
    "identifier or quoted phrase counts twice) the memory contains, times min(1, matched / 2); score = "
    "clip((1 - (1 - semantic) * (1 - 0.4 * keyword)) * (1 + 0.2 * (importance - 0.5)), 0, 1). "
    "Agent runs recall memories scoring at least QORVEN_RECALL_MIN_SCORE (default 0.5: small talk "
    "scores below it).")

MEMORY_HIT = {
    **MEMORY,
    "required": MEMORY["required"] + ["score", "match"],
    "properties": {
        **MEMORY["properties"],
        "score": {"type": "number", "minimum": 0, "maximum": 1, "description": SCORE_FORMULA},
        "match": {"type": "object", "required": ["semantic", "keyword"], "properties": {
            "semantic": {"type": ["integer", "null"],
                         "description": "rank by vector similarity among the candidates (1 = best)"},
            "keyword": {"type": ["integer", "null"], "description": "rank by BM25 (1 = best); null: no keyword match"}}},
    },
}

MEMORY_SEARCH = {
    "type": "object", "additionalProperties": False, "required": ["scope", "query"],
    "properties": {
        "scope": {"enum": MEMORY_SCOPES, "description": (
            "agent: that agent's memories plus workspace ones (plus session_id's, if given); "
            "workspace: all of the tenant's; session: that session's")},
        "agent_id": {"type": "string", "maxLength": 100, "description": "required for scope agent"},
        "session_id": {"type": "string", "maxLength": 100, "description": "required for scope session"},
        "query": {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": "\\S", "description": (
            "natural language; \"quoted phrases\" and identifiers such as INV-2024-0042 are matched exactly")},
        "max_results": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        "kinds": {"type": "array", "items": {"enum": MEMORY_KINDS}, "minItems": 1, "uniqueItems": True},
        "min_score": {"type": "number", "minimum": 0, "maximum": 1},
    },
}

MEMORY_SEARCH_RESULT = {
    "type": "object", "required": ["object", "data"],
    "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": MEMORY_HIT}},
}

MEMORY_SAVE = {
    "type": "object", "additionalProperties": False, "required": ["scope", "content"],
    "properties": {
        "scope": {"enum": MEMORY_SCOPES},
        "agent_id": {"type": ["string", "null"], "maxLength": 100, "description": "required for scope agent"},
        "session_id": {"type": ["string", "null"], "maxLength": 100, "description": "required for scope session"},
        "kind": {"enum": MEMORY_KINDS, "default": "note"},
        "content": {"type": "string", "minLength": 1, "maxLength": 8000, "pattern": "\\S"},
        "importance": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
    },
}

MEMORY_PATCH = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {
        "content": {"type": "string", "minLength": 1, "maxLength": 8000, "pattern": "\\S",
                    "description": "re-embedded"},
        "kind": {"enum": MEMORY_KINDS},
        "importance": {"type": "number", "minimum": 0, "maximum": 1},
    },
}

MEMORY_DELETED = {
    "type": "object", "required": ["id", "object", "deleted"],
    "properties": {"id": {"type": "string"}, "object": {"const": "memory"}, "deleted": {"const": True}},
}

EMBEDDING_TEXT = {"type": "string", "minLength": 1, "pattern": "\\S"}
# What one embeddings request may ask of the CPU. The model reads at most 256 tokens of each input, so
# the work is the tokens it reads: 16384 is 64 full-length chunks (or 2048 short sentences), seconds of
# CPU, where 256 full-length inputs cost over a minute. Inputs and characters are capped as OpenAI does
# and so the tokenizer's own pass stays short.
MAX_EMBEDDING_INPUTS = 2048
MAX_EMBEDDING_CHARS = 1_000_000
MAX_EMBEDDING_TOKENS = 16384
EMBEDDING_LIMITS = (
    f"One request may carry at most {MAX_EMBEDDING_INPUTS} inputs, {MAX_EMBEDDING_CHARS} characters in all, and "
    f"{MAX_EMBEDDING_TOKENS} tokens as the model reads them (each input is cut at 256 tokens; usage.prompt_tokens "
    "counts the same tokens). Beyond any of these the answer is 413 payload_too_large (param input), not 400: the "
    "request is valid but asks for more CPU than one request may take, so split it into smaller batches (e.g. "
    "LangChain's chunk_size, LlamaIndex's embed_batch_size); OpenAI SDKs do not retry a 413.")

EMBEDDINGS_REQUEST = {
    "type": "object", "required": ["input"],
    "description": "OpenAI's embeddings request; unknown fields are ignored. " + EMBEDDING_LIMITS,
    "properties": {
        "input": {"description": f"a non-blank string or an array of 1..{MAX_EMBEDDING_INPUTS} of them (token "
                                 "arrays are refused by the bundled model, which has its own tokenizer; a provider "
                                 "model passes them upstream)",
                  "oneOf": [EMBEDDING_TEXT, {"type": "array", "items": EMBEDDING_TEXT, "minItems": 1,
                                             "maxItems": MAX_EMBEDDING_INPUTS}]},
        "model": {"type": ["string", "null"], "description": "all-minilm-l6-v2 (the default; null means it too), or "
                                                             "<provider>/<model> to use that provider's /embeddings"},
        "encoding_format": {"enum": ["float", "base64"], "default": "float"},
        "dimensions": {"type": "integer", "enum": [384], "description": "only 384 is accepted by all-minilm-l6-v2 "
                                                                         "(a provider model's upstream decides)"},
        "user": {"type": "string"},
    },
}

EMBEDDINGS_RESPONSE = {
    "type": "object", "required": ["object", "data", "model", "usage"],
    "properties": {
        "object": {"const": "list"},
        "data": {"type": "array", "items": {
            "type": "object", "required": ["object", "index", "embedding"],
            "properties": {"object": {"const": "embedding"}, "index": {"type": "integer"},
                           "embedding": {"oneOf": [{"type": "array", "items": {"type": "number"}},
                                                   {"type": "string", "description": "base64 little-endian float32"}]}}}},
        "model": {"type": "string"},
        "usage": {"type": "object", "required": ["prompt_tokens", "total_tokens"],
                  "properties": {"prompt_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"}}},
    },
}


DOCUMENT_SCOPES = MEMORY_SCOPES
DOCUMENT_STATUSES = ["processing", "ready", "failed"]

DOCUMENT = {
    "type": "object",
    "required": ["id", "object", "title", "filename", "media_type", "bytes", "sha256", "scope", "agent_id",
                 "session_id", "status", "error", "pages", "chunks", "created_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "document"}, "title": {"type": "string"},
        "filename": NULLABLE_STR, "media_type": {"type": "string", "description": "the type it was read as"},
        "bytes": {"type": "integer"}, "sha256": {"type": "string"}, "scope": {"enum": DOCUMENT_SCOPES},
        "agent_id": NULLABLE_STR, "session_id": NULLABLE_STR, "status": {"enum": DOCUMENT_STATUSES},
        "error": {**NULLABLE_STR, "description": "why it failed (status failed)"},
        "pages": {"type": ["integer", "null"], "description": "PDF pages"},
        "chunks": {"type": "integer", "description": "passages stored as memories"},
        "created_at": TIMESTAMP,
        "deduplicated": {"type": "boolean", "description": "upload only: true when the same bytes were already "
                                                          "stored in that scope (that document is answered)"},
    },
}

DOCUMENT_UPLOAD_FIELDS: dict[str, Any] = {
    "title": {"type": "string", "maxLength": 300, "description": "default: the file's name (or its own title)"},
    "scope": {"enum": DOCUMENT_SCOPES, "default": "workspace"},
    "agent_id": {"type": ["string", "null"], "maxLength": 100, "description": "required for scope agent"},
    "session_id": {"type": ["string", "null"], "maxLength": 100, "description": "required for scope session"},
}

DOCUMENT_UPLOAD = {
    "type": "object",
    "description": ("multipart/form-data: the file in `file` plus optional fields; or JSON with the text in "
                    "`content` (read as plain text, or by `filename`'s extension)."),
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "multipart only: the document"},
        "content": {"type": "string", "description": "JSON only: the document's text"},
        "filename": {"type": "string", "maxLength": 255, "description": "JSON only: a name whose extension says "
                                                                        "how to read content (.md, .html, .py ...)"},
        **DOCUMENT_UPLOAD_FIELDS,
    },
}

DOCUMENT_JSON = {
    "type": "object", "additionalProperties": False, "required": ["content"],
    "properties": {"content": {"type": "string", "minLength": 1, "pattern": "\\S"},
                   "filename": {"type": ["string", "null"], "maxLength": 255}, **DOCUMENT_UPLOAD_FIELDS},
}

DOCUMENT_CHUNK = {
    "type": "object", "required": ["id", "object", "index", "locator", "content"],
    "properties": {"id": {"type": "string", "description": "the passage's memory id"},
                   "object": {"const": "document.chunk"}, "index": {"type": "integer", "description": "0 = first"},
                   "locator": NULLABLE_STR, "content": {"type": "string"}},
}

DOCUMENT_DELETED = {
    "type": "object", "required": ["id", "object", "deleted", "chunks"],
    "properties": {"id": {"type": "string"}, "object": {"const": "document"}, "deleted": {"const": True},
                   "chunks": {"type": "integer", "description": "passages removed from memory"}},
}
