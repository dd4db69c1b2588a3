"""Qorven as an MCP server: the streamable-HTTP transport's JSON-RPC side, without a web framework.

``web/resources/mcp.py`` hands each POST's parsed body here with the caller's principal and the
``Mcp-Session-Id`` / ``MCP-Protocol-Version`` headers and writes back what ``post`` answers. The
SDK's own server is ASGI and does not fit the WSGI app, so the protocol is spoken here: it is small
(initialize, ping, tools/list, tools/call, notifications) and every answer is ``application/json``
(no server-to-client stream: ``GET`` is 405).

Sessions are created by ``initialize`` and belong to the token that created it: another token (or
an unknown or ended session id) gets 404, as the transport asks, and the client starts over. At
most ``MAX_SESSIONS`` are kept; the least recently used one is forgotten first.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from qorven_local import __version__
from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import NotFound, ValidationError
from qorven_local.mcp.qorven_tools import QorvenTools, ToolFailure
from qorven_local.models import Principal

PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")   # newest first
MAX_SESSIONS = 1000
SESSION_HEADER = "Mcp-Session-Id"
INSTRUCTIONS = ("Qorven Local: the user's own agents and long-term memory on this machine. Use list_agents and "
                "ask_agent to hand a question to one of the user's agents, memory_search / search_documents to "
                "look up what the user told Qorven before, and memory_save to remember something durable.")

# JSON-RPC error codes
INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32600, -32601, -32602


@dataclass
class McpReply:
    """What the HTTP side sends: a status, a JSON body (None: no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Session:
    id: str
    tenant_id: str
    token_id: str | None
    protocol_version: str
    client: dict[str, Any]


class _RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class McpEndpoint:
    """The JSON-RPC methods of an MCP server over Qorven's tools, and the transport's sessions."""

    def __init__(self, tools: QorvenTools, ids: IdFactory, clock: Clock) -> None:
        self.tools = tools
        self.ids = ids
        self.clock = clock
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    # -- the transport --------------------------------------------------------------------------
    def post(self, caller: Principal, session_id: str | None, version: str | None, message: Any) -> McpReply:
        """One POSTed JSON-RPC message: a request gets its response (200), anything else 202."""
        if isinstance(message, list):
            raise ValidationError("JSON-RPC batches are not supported; send one message per POST")
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            raise ValidationError('the body must be one JSON-RPC 2.0 message ({"jsonrpc": "2.0", ...})')
        method = message.get("method")
        if method == "initialize" and "id" in message:
            return self._initialize(caller, message)
        session = self._session(caller, session_id)
        if version is not None and version not in PROTOCOL_VERSIONS:
            raise ValidationError(f"unsupported MCP-Protocol-Version {version!r}; this server speaks "
                                  f"{', '.join(PROTOCOL_VERSIONS)}")
        if not isinstance(method, str) or "id" not in message:
            return McpReply(202)  # a notification or a response to us: nothing to answer
        try:
            result = self._dispatch(caller, session, method, message.get("params") or {})
        except _RpcError as exc:
            return McpReply(200, _error(message["id"], exc.code, exc.message))
        return McpReply(200, {"jsonrpc": "2.0", "id": message["id"], "result": result})

    def end(self, caller: Principal, session_id: str | None) -> None:
        """DELETE: forget the session (404 when it is unknown or not the caller's)."""
        session = self._session(caller, session_id)
        with self._lock:
            self._sessions.pop(session.id, None)

    def _session(self, caller: Principal, session_id: str | None) -> _Session:
        if not session_id:
            raise ValidationError(f"missing {SESSION_HEADER} header: send initialize first")
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.token_id != caller.token_id or session.tenant_id != caller.tenant_id:
                raise NotFound("unknown or ended MCP session; initialize a new one")
            self._sessions.move_to_end(session_id)
            return session

    def _initialize(self, caller: Principal, message: dict[str, Any]) -> McpReply:
        params = message.get("params") or {}
        asked = params.get("protocolVersion") if isinstance(params, dict) else None
        version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0]
        session = _Session(id=self.ids.new("mcps"), tenant_id=caller.tenant_id, token_id=caller.token_id,
                           protocol_version=version,
                           client=params.get("clientInfo") or {} if isinstance(params, dict) else {})
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        result = {"protocolVersion": version, "capabilities": {"tools": {"listChanged": False}},
                  "serverInfo": {"name": "qorven", "title": "Qorven Local", "version": __version__},
                  "instructions": INSTRUCTIONS}
        return McpReply(200, {"jsonrpc": "2.0", "id": message["id"], "result": result},
                        {SESSION_HEADER: session.id})

    # -- the methods ----------------------------------------------------------------------------
    def _dispatch(self, caller: Principal, session: _Session, method: str, params: Any) -> dict[str, Any]:
        if method == "ping":
            return {}
        if method == "tools/list":
            return {"tools": self.tools.definitions(caller)}
        if method == "tools/call":
            return self._call(caller, params)
        raise _RpcError(METHOD_NOT_FOUND, f"method {method!r} is not offered (tools only)")

    def _call(self, caller: Principal, params: Any) -> dict[str, Any]:
        import jsonschema

        if not isinstance(params, dict) or not isinstance(params.get("name"), str):
            raise _RpcError(INVALID_PARAMS, "tools/call needs params.name")
        name = params["name"]
        if not self.tools.has(name):
            raise _RpcError(INVALID_PARAMS, f"unknown tool {name!r}")
        arguments = params.get("arguments") or {}
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(self.tools.schema(name)).iter_errors(arguments))
        if error is not None:
            where = "/".join(str(p) for p in error.path)
            return _tool_error(f"invalid arguments{' at ' + where if where else ''}: {error.message}")
        try:
            value = self.tools.call(caller, name, arguments)
        except ToolFailure as exc:
            return _tool_error(str(exc))
        return {"content": [{"type": "text", "text": json.dumps(value, ensure_ascii=False, default=str)}],
                "structuredContent": value, "isError": False}


def _tool_error(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
