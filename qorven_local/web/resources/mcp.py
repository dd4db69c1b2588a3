"""/mcp: Qorven as an MCP server (streamable HTTP), and /v1/mcp/servers: the MCP servers Qorven uses."""

from __future__ import annotations

import falcon

from qorven_local.mcp.server import SESSION_HEADER, McpEndpoint
from qorven_local.mcp.service import McpService
from qorven_local.web.io import paged_list, principal, read_body
from qorven_local.web.schemas import NULLABLE_STR, TIMESTAMP, list_of
from qorven_local.web.spec import PAGED, Route, operation

JSONRPC_MESSAGE = {
    "type": "object", "required": ["jsonrpc"],
    "description": "One JSON-RPC 2.0 message of the Model Context Protocol (initialize, ping, tools/list, "
                   "tools/call, notifications)",
    "properties": {"jsonrpc": {"const": "2.0"}, "id": {"type": ["string", "integer"]}, "method": {"type": "string"},
                   "params": {"type": "object"}},
}

JSONRPC_RESPONSE = {
    "type": "object", "required": ["jsonrpc", "id"],
    "properties": {"jsonrpc": {"const": "2.0"}, "id": {"type": ["string", "integer"]},
                   "result": {"type": "object"},
                   "error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}},
}

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 8192}, "maxProperties": 64}
_ARGS = {"type": "array", "items": {"type": "string", "maxLength": 4096}, "maxItems": 64}

MCP_SERVER = {
    "type": "object",
    "required": ["id", "object", "name", "transport", "command", "args", "cwd", "url", "enabled", "status", "error",
                 "tools", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "string", "description": "mcp_..."}, "object": {"const": "mcp_server"},
        "name": {"type": "string", "description": "slug; its tools are mcp.<name>.<tool> in /v1/tools"},
        "transport": {"enum": ["stdio", "http"]},
        "command": NULLABLE_STR, "args": {"type": "array", "items": {"type": "string"}}, "cwd": NULLABLE_STR,
        "url": NULLABLE_STR, "enabled": {"type": "boolean"},
        "status": {"enum": ["connected", "error", "disabled"], "description": "the last known state"},
        "error": {**NULLABLE_STR, "description": "why the last connection or call failed"},
        "tools": {"type": "array", "items": {"type": "string"}, "description": "tool names of the last listing"},
        "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
    },
}

_WRITABLE = {
    "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,31}$",
             "description": "1 to 32 lower-case letters, digits, - or _, starting with a letter or digit; the tools "
                            "become mcp.<name>.<tool>"},
    "command": {"type": ["string", "null"], "maxLength": 4096, "description": "stdio: the program to start"},
    "args": _ARGS,
    "cwd": {"type": ["string", "null"], "maxLength": 4096},
    "env": {**_STRING_MAP, "description": "stdio: extra environment variables (write-only, encrypted at rest)"},
    "url": {"type": ["string", "null"], "maxLength": 2048, "description": "http: the streamable-HTTP endpoint"},
    "headers": {**_STRING_MAP, "description": "http: headers sent with every request, e.g. Authorization "
                                              "(write-only, encrypted at rest)"},
    "enabled": {"type": "boolean"},
}

MCP_SERVER_CREATE = {"type": "object", "additionalProperties": False, "required": ["name", "transport"],
                     "properties": {**_WRITABLE, "transport": {"enum": ["stdio", "http"]}}}
MCP_SERVER_PATCH = {"type": "object", "additionalProperties": False, "properties": _WRITABLE}
MCP_SERVER_TEST = {"type": "object", "required": ["ok", "duration_ms", "server"],
                   "properties": {"ok": {"type": "boolean"}, "duration_ms": {"type": "integer"},
                                  "server": MCP_SERVER}}


class McpEndpointResource:
    """/mcp (and /api/mcp): the streamable-HTTP transport; JSON answers only, so GET is 405."""

    def __init__(self, endpoint: McpEndpoint) -> None:
        self.endpoint = endpoint

    @operation(summary="MCP server (streamable HTTP): one JSON-RPC message per POST", tag="mcp",
               request=JSONRPC_MESSAGE, response=JSONRPC_RESPONSE,
               extra_statuses={202: "A notification or response was accepted (no body)"},
               errors=("validation_error", "not_found"),
               description="initialize answers an Mcp-Session-Id header; send it on every later request "
                           "(400 without it, 404 once the session is unknown or ended). Tools: ask_agent, "
                           "memory_search, memory_save (admin tokens), list_agents, search_documents.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        reply = self.endpoint.post(principal(req), req.get_header(SESSION_HEADER),
                                   req.get_header("MCP-Protocol-Version"), read_body(req))
        resp.status = reply.status
        for name, value in reply.headers.items():
            resp.set_header(name, value)
        if reply.body is not None:
            resp.media = reply.body

    @operation(summary="End an MCP session (its Mcp-Session-Id header)", tag="mcp", status=204,
               errors=("validation_error", "not_found"))
    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.endpoint.end(principal(req), req.get_header(SESSION_HEADER))
        resp.status = 204


class McpServersResource:
    def __init__(self, mcp: McpService) -> None:
        self.mcp = mcp

    @operation(summary="List the MCP servers whose tools the agents may use", tag="mcp",
               response=list_of(MCP_SERVER), query=PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = paged_list(req, [s.to_dict() for s in self.mcp.list_all(principal(req).tenant_id)])

    @operation(summary="Add an MCP server (stdio command or HTTP URL); it is connected once to list its tools",
               tag="mcp", request=MCP_SERVER_CREATE, response=MCP_SERVER, status=201, admin=True,
               errors=("validation_error", "conflict"))
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, MCP_SERVER_CREATE)
        resp.status = 201
        resp.media = self.mcp.create(principal(req).tenant_id, body).to_dict()


class McpServerResource:
    def __init__(self, mcp: McpService) -> None:
        self.mcp = mcp

    @operation(summary="One MCP server: status, error and tools (env and headers are never shown)", tag="mcp",
               response=MCP_SERVER)
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        resp.media = self.mcp.get(principal(req).tenant_id, server_id).to_dict()

    @operation(summary="Change an MCP server (enable, disable, edit); a changed server reconnects", tag="mcp",
               request=MCP_SERVER_PATCH, response=MCP_SERVER, admin=True, errors=("validation_error", "conflict"))
    def on_patch(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        body = read_body(req, MCP_SERVER_PATCH)
        resp.media = self.mcp.update(principal(req).tenant_id, server_id, body).to_dict()

    @operation(summary="Delete an MCP server (its process stops)", tag="mcp", response=MCP_SERVER, admin=True)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        resp.media = self.mcp.delete(principal(req).tenant_id, server_id).to_dict()


class McpServerTestResource:
    def __init__(self, mcp: McpService) -> None:
        self.mcp = mcp

    @operation(summary="Connect to an MCP server now and list its tools; the outcome is stored as its status",
               tag="mcp", response=MCP_SERVER_TEST, admin=True, body_required=False)
    def on_post(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        resp.media = self.mcp.test(principal(req).tenant_id, server_id)


def mcp_routes(endpoint: McpEndpoint, mcp: McpService) -> list[Route]:
    """/mcp and the /v1/mcp/servers routes."""
    return [
        Route("/mcp", McpEndpointResource(endpoint)),
        Route("/v1/mcp/servers", McpServersResource(mcp)),
        Route("/v1/mcp/servers/{server_id}", McpServerResource(mcp)),
        Route("/v1/mcp/servers/{server_id}/test", McpServerTestResource(mcp)),
    ]
