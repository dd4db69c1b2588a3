"""Operation metadata on responders, and the OpenAPI 3.1 document built from the route table.

Every responder carries an ``@operation(...)``: its summary, request/response schemas, query
parameters and whether it is public or admin-only. Auth reads the same metadata, so what the spec
says and what the server enforces cannot drift; a test fails if a route has no operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from qorven_local import __version__
from qorven_local.errors import all_error_classes
from qorven_local.web import schemas

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
AUTH_ERRORS = ("unauthorized", "forbidden_host", "forbidden_origin", "rate_limited")


# In OpenAPI 3.1 the schema of a text/event-stream response describes one event, as parsed.
SSE_EVENT = {
    "type": "object", "required": ["data"], "description": "One server-sent event",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"},
                   "retry": {"type": "integer"}},
}


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "page size")
CURSOR = Param("cursor", {"type": "string"}, "next_cursor of the previous page")
PAGED = (LIMIT, CURSOR)


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    response: dict[str, Any] | None = None
    status: int = 200
    request: dict[str, Any] | None = None
    query: tuple[Param, ...] = ()
    public: bool = False
    admin: bool = False
    errors: tuple[str, ...] = ()
    stream: bool = False             # also answers text/event-stream
    content_types: tuple[str, ...] = ("application/json",)
    extra_statuses: dict[int, str] = field(default_factory=dict)
    description: str = ""
    body_required: bool = True       # False: an empty request body means "all defaults"


def operation(**kwargs: Any) -> Callable[[Callable], Callable]:
    """Attach an Operation to a Falcon responder (``on_get`` ...)."""
    op = Operation(**kwargs)

    def mark(fn: Callable) -> Callable:
        fn.__qorven_op__ = op
        return fn
    return mark


def operation_of(resource: Any, method: str) -> Operation | None:
    responder = getattr(resource, "on_" + method.lower(), None)
    return getattr(responder, "__qorven_op__", None)


@dataclass(frozen=True)
class Route:
    path: str            # Falcon template, e.g. /v1/agents/{agent_id}
    resource: Any

    def operations(self) -> dict[str, Operation]:
        ops = {}
        for method in HTTP_METHODS:
            op = operation_of(self.resource, method)
            if op is not None:
                ops[method] = op
        return ops

    def undocumented_methods(self) -> list[str]:
        return [m for m in HTTP_METHODS if hasattr(self.resource, "on_" + m) and operation_of(self.resource, m) is None]


def _error_response(codes: tuple[str, ...]) -> dict[str, Any]:
    return {"description": "Error: one of " + ", ".join(codes),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def build_openapi(routes: list[Route], extra_components: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for the given routes (public paths under /v1, aliases described)."""
    by_code = {cls.code: cls for cls in all_error_classes()}
    paths: dict[str, Any] = {}
    for route in routes:
        item: dict[str, Any] = {}
        path_params = re.findall(r"{(\w+)(?::\w+)?}", route.path)
        for method, op in route.operations().items():
            codes = list(op.errors)
            if not op.public:
                codes += [c for c in AUTH_ERRORS if c not in codes]
            if op.admin:
                codes.append("admin_only")
            if op.request is not None or method in ("post", "put", "patch"):
                codes += [c for c in ("invalid_json", "validation_error", "payload_too_large",
                                      "unsupported_media_type") if c not in codes]
            # ids in the path, the body or the query are looked up: unknown (or another tenant's) → 404
            references = path_params or (not op.public and (op.request is not None or op.query))
            if references and "not_found" not in codes:
                codes.append("not_found")
            if op.query and "validation_error" not in codes:
                codes.append("validation_error")
            codes.append("internal_error")
            responses: dict[str, Any] = {}
            ok: dict[str, Any] = {"description": op.summary}
            if op.response is not None:
                ok["content"] = {"application/json": {"schema": op.response}}
                if op.stream:
                    ok["content"]["text/event-stream"] = {"schema": SSE_EVENT}
            responses[str(op.status)] = ok
            for status, text in op.extra_statuses.items():
                responses[str(status)] = {"description": text}
                if op.response is not None:
                    responses[str(status)]["content"] = {"application/json": {"schema": op.response}}
            grouped: dict[int, list[str]] = {}
            for code in dict.fromkeys(codes):
                cls = by_code.get(code)
                if cls is not None:
                    grouped.setdefault(cls.status, []).append(code)
            for status, group in sorted(grouped.items()):
                if str(status) not in responses:
                    responses[str(status)] = _error_response(tuple(group))
            parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                          for p in path_params]
            parameters += [{"name": p.name, "in": "query", "required": p.required, "schema": p.schema,
                            "description": p.description} for p in op.query]
            entry: dict[str, Any] = {
                "summary": op.summary, "tags": [op.tag], "responses": responses,
                "operationId": f"{method}_{re.sub(r'[^a-zA-Z0-9]+', '_', route.path).strip('_')}",
            }
            if op.description:
                entry["description"] = op.description
            if parameters:
                entry["parameters"] = parameters
            if op.request is not None:
                entry["requestBody"] = {"required": op.body_required, "content": {ct: {"schema": op.request}
                                                                      for ct in op.content_types}}
            entry["security"] = [] if op.public else [{"bearer": []}, {"apiKey": []}]
            if op.admin:
                entry["x-qorven-admin"] = True
            item[method] = entry
        if item:
            paths[re.sub(r"{(\w+):\w+}", r"{\1}", route.path)] = item
    error_table = "\n".join(f"| {c.code} | {c.status} | {c.description} |" for c in all_error_classes())
    components: dict[str, Any] = {
        "schemas": {"Error": schemas.ERROR},
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "qvn_ token"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "same token"},
        },
    }
    for key, value in (extra_components or {}).items():
        components.setdefault(key, {}).update(value)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Qorven Local API", "version": __version__,
            "description": ("Local-first agent workspace API. Every /v1/X path is also served at /api/X and "
                            "/api/v1/X.\n\nError codes (`error.code`):\n\n| code | status | when |\n|---|---|---|\n"
                            + error_table),
        },
        "servers": [{"url": "http://127.0.0.1:7421"}],
        "paths": paths,
        "components": components,
    }
