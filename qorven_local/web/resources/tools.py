"""/v1/tools: the catalogue, one tool's details, and audited direct invocation (admin)."""

from __future__ import annotations

import falcon

from qorven_local.tools.service import ToolService
from qorven_local.web.io import page_args, page_body, principal, read_body
from qorven_local.web.schemas import list_of
from qorven_local.web.spec import PAGED, Route, operation

TOOL = {
    "type": "object",
    "required": ["id", "object", "name", "description", "parameters", "permission", "builtin", "enabled"],
    "properties": {
        "id": {"type": "string", "description": "built-ins: the tool's name; custom tools: tool_..."},
        "object": {"const": "tool"}, "name": {"type": "string"}, "description": {"type": "string"},
        "parameters": {"type": "object", "description": "JSON Schema of the arguments"},
        "permission": {"enum": ["auto", "admin"]}, "builtin": {"type": "boolean"}, "enabled": {"type": "boolean"},
        "used_by": {"type": "array", "description": "inspect only: the tenant's agents that list this tool",
                    "items": {"type": "object", "required": ["id", "name"],
                              "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}},
    },
}

TOOL_LIST = list_of(TOOL)

INVOKE_REQUEST = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "arguments": {"type": "object", "description": "checked against the tool's parameters (422 if they fail)"},
        "agent_id": {"type": "string", "minLength": 1, "maxLength": 100,
                     "description": "run as this agent (id or name): its memory, and the source of a delegation"},
    },
}

INVOKE_RESPONSE = {
    "type": "object", "required": ["ok", "duration_ms"],
    "properties": {
        "ok": {"type": "boolean"}, "result": {"description": "the tool's answer when ok"},
        "error": {"type": "object", "required": ["code", "message"],
                  "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                  "description": "why the tool failed, when not ok (still HTTP 200)"},
        "duration_ms": {"type": "integer"},
    },
}

INVOCATION = {
    "type": "object",
    "required": ["id", "tool", "arguments", "arguments_sha256", "ok", "error_code", "duration_ms", "invoked_by",
                 "created_at"],
    "properties": {
        "id": {"type": "string"}, "tool": {"type": "string"},
        "arguments": {"type": "string", "description": "the arguments' JSON, truncated to 2000 characters"},
        "arguments_sha256": {"type": "string", "description": "SHA-256 of the whole arguments' canonical JSON"},
        "ok": {"type": "boolean"}, "error_code": {"type": ["string", "null"]},
        "duration_ms": {"type": "integer"}, "invoked_by": {"type": ["string", "null"], "description": "token id"},
        "created_at": {"type": "string"},
    },
}


class ToolsResource:
    """/v1/tools: the catalogue."""

    def __init__(self, tools: ToolService) -> None:
        self.tools = tools

    @operation(summary="List the tools (registry order)", tag="tools", response=TOOL_LIST, query=PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = page_body(self.tools.list_page(principal(req).tenant_id, **page_args(req)), lambda t: t)


class ToolResource:
    """/v1/tools/{tool_id}: one tool, with the agents that use it."""

    def __init__(self, tools: ToolService) -> None:
        self.tools = tools

    @operation(summary="Inspect a tool: schema, permission, and which agents use it", tag="tools", response=TOOL)
    def on_get(self, req: falcon.Request, resp: falcon.Response, tool_id: str) -> None:
        resp.media = self.tools.inspect(principal(req).tenant_id, tool_id)


class ToolInvokeResource:
    """/v1/tools/{tool_id}/invoke: audited direct invocation."""

    def __init__(self, tools: ToolService) -> None:
        self.tools = tools

    @operation(summary="Invoke a tool directly (admin); a failing tool answers 200 with ok=false", tag="tools",
               request=INVOKE_REQUEST, response=INVOKE_RESPONSE, admin=True, errors=("invalid_arguments",),
               description="Arguments are validated against the tool's JSON Schema (422 invalid_arguments, "
                           "param = the field). The call is timed and recorded in the audit trail "
                           "(GET /v1/tools/{tool_id}/invocations).")
    def on_post(self, req: falcon.Request, resp: falcon.Response, tool_id: str) -> None:
        body = read_body(req, INVOKE_REQUEST)
        result = self.tools.invoke(principal(req), tool_id, body.get("arguments", {}), body.get("agent_id"))
        resp.media = result.to_dict()


class ToolInvocationsResource:
    """/v1/tools/{tool_id}/invocations: the audit trail."""

    def __init__(self, tools: ToolService) -> None:
        self.tools = tools

    @operation(summary="The audit trail of a tool's direct invocations, newest first (admin)", tag="tools",
               response=list_of(INVOCATION),
               query=PAGED, admin=True)
    def on_get(self, req: falcon.Request, resp: falcon.Response, tool_id: str) -> None:
        page = self.tools.invocations(principal(req).tenant_id, tool_id, **page_args(req))
        resp.media = page_body(page)


def tool_routes(tools: ToolService) -> list[Route]:
    """The /v1/tools routes over the ToolService."""
    return [
        Route("/v1/tools", ToolsResource(tools)),
        Route("/v1/tools/{tool_id}", ToolResource(tools)),
        Route("/v1/tools/{tool_id}/invoke", ToolInvokeResource(tools)),
        Route("/v1/tools/{tool_id}/invocations", ToolInvocationsResource(tools)),
    ]
