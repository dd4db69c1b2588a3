"""The OpenAPI 3.1 document built from a route table's ``@operation`` declarations (``web/spec.py``).

Each operation's error responses are derived from what it declares: non-public operations can
fail auth, admin ones ``admin_only``, body-taking ones the body errors, and anything that looks an
id up ``not_found``. The error codes table in ``info.description`` lists the whole error tree.
"""

from __future__ import annotations

import re
from typing import Any

from qorven_local import __version__
from qorven_local.errors import QorvenError, all_error_classes
from qorven_local.web import schemas
from qorven_local.web.spec import Operation, Route

AUTH_ERRORS = ("unauthorized", "forbidden_host", "forbidden_origin", "rate_limited")
BODY_ERRORS = ("invalid_json", "validation_error", "payload_too_large", "unsupported_media_type")
BODY_METHODS = ("post", "put", "patch")

# In OpenAPI 3.1 the schema of a text/event-stream response describes one event, as parsed.
SSE_EVENT = {
    "type": "object", "required": ["data"], "description": "One server-sent event",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"},
                   "retry": {"type": "integer"}},
}

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "qvn_ token"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "same token"},
    "session": {"type": "apiKey", "in": "cookie", "name": "qorven_session",
                "description": "the browser sign-in (POST /v1/auth/session); same-origin requests only"},
}


def build_openapi(routes: list[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for the given routes (public paths under /v1, aliases described)."""
    by_code = {cls.code: cls for cls in all_error_classes()}
    paths: dict[str, Any] = {}
    for route in routes:
        path_params = re.findall(r"{(\w+)(?::\w+)?}", route.path)
        item = {method: _operation_entry(route.path, method, op, path_params, by_code)
                for method, op in route.operations().items()}
        if item:
            paths[re.sub(r"{(\w+):\w+}", r"{\1}", route.path)] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Qorven Local API", "version": __version__, "description": _description()},
        "servers": [{"url": "http://127.0.0.1:7421"}],
        "paths": paths,
        "components": {"schemas": {"Error": schemas.ERROR}, "securitySchemes": SECURITY_SCHEMES},
    }


def _description() -> str:
    error_table = "\n".join(f"| {c.code} | {c.status} | {c.description} |" for c in all_error_classes())
    return ("Local-first agent workspace API. Every /v1/X path is also served at /api/X and "
            "/api/v1/X. HEAD is answered wherever GET is (the GET's status and headers, no body). "
            "Browser origins listed in QORVEN_CORS_ORIGINS may call the API with a token: their "
            "preflight OPTIONS answers 204 without one, and every answer to them carries "
            "Access-Control-Allow-Origin (never Access-Control-Allow-Credentials).\n\nError codes (`error.code`):\n\n| code | status | when |\n|---|---|---|\n"
            + error_table)


def _error_codes(method: str, op: Operation, path_params: list[str]) -> list[str]:
    """Every error code the operation can answer, declared ones first, ``internal_error`` last."""
    codes = list(op.errors)
    if not op.public:
        codes += [c for c in AUTH_ERRORS if c not in codes]
    if op.admin:
        codes.append("admin_only")
    if op.request is not None or method in BODY_METHODS:
        codes += [c for c in BODY_ERRORS if c not in codes]
    # ids in the path, the body or the query are looked up: unknown (or another tenant's) → 404
    references = path_params or (not op.public and (op.request is not None or op.query))
    if references and "not_found" not in codes:
        codes.append("not_found")
    if op.query and "validation_error" not in codes:
        codes.append("validation_error")
    codes.append("internal_error")
    return codes


def _responses(method: str, op: Operation, path_params: list[str],
               by_code: dict[str, type[QorvenError]]) -> dict[str, Any]:
    """The success response, any extra statuses, then one error response per status."""
    responses: dict[str, Any] = {}
    ok: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": op.response}}
        if op.stream:
            ok["content"]["text/event-stream"] = {"schema": SSE_EVENT}
        for media_type in op.also_answers:
            ok["content"][media_type] = {"schema": {"type": "string"}}
    responses[str(op.status)] = ok
    for status, text in op.extra_statuses.items():
        responses[str(status)] = {"description": text}
        if op.response is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": op.response}}
    grouped: dict[int, list[str]] = {}
    for code in dict.fromkeys(_error_codes(method, op, path_params)):
        cls = by_code.get(code)
        if cls is not None:
            grouped.setdefault(cls.status, []).append(code)
    for status, group in sorted(grouped.items()):
        if str(status) not in responses:
            responses[str(status)] = _error_response(group)
    return responses


def _error_response(codes: list[str]) -> dict[str, Any]:
    return {"description": "Error: one of " + ", ".join(codes),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _operation_entry(path: str, method: str, op: Operation, path_params: list[str],
                     by_code: dict[str, type[QorvenError]]) -> dict[str, Any]:
    """The Operation Object for one method of one path."""
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in path_params]
    parameters += [{"name": p.name, "in": "query", "required": p.required, "schema": p.schema,
                    "description": p.description} for p in op.query]
    entry: dict[str, Any] = {
        "summary": op.summary, "tags": [op.tag], "responses": _responses(method, op, path_params, by_code),
        "operationId": f"{method}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
    }
    if op.description:
        entry["description"] = op.description
    if parameters:
        entry["parameters"] = parameters
    if op.request is not None:
        entry["requestBody"] = {"required": op.body_required,
                                "content": {ct: {"schema": op.request_by_type.get(ct, op.request)}
                                            for ct in op.content_types}}
    entry["security"] = [] if op.public else [{"bearer": []}, {"apiKey": []}, {"session": []}]
    if op.admin:
        entry["x-qorven-admin"] = True
    return entry
