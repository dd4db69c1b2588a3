"""MCP servers a tenant adds (Qorven as an MCP client): the records, their write-only secrets, testing
them, and their tools as ``mcp.<server>.<tool>`` in the tenant's tool registry.

A server's tools are known from its last listing (stored), so the catalogue and the agent form list
them without starting anything; a server starts on first use (adding it, ``test``, or a call) and
its state (``connected`` / ``error`` with why) is stored whenever it changes. ``env`` and
``headers`` are encrypted with the install's SecretBox and never answered back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import replace
from typing import Any

from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import Conflict, NotFound, ValidationError
from qorven_local.mcp.connections import Endpoint, McpCallTimeout, McpConnectionError, McpConnections
from qorven_local.mcp.types import McpServer, McpToolSpec
from qorven_local.security.secrets import SecretBox
from qorven_local.security.urlpolicy import BlockedURL, split_url
from qorven_local.storage.db import Database, IntegrityError
from qorven_local.storage.mcp import McpServerStore
from qorven_local.tools.registry import Tool, ToolError

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
WIRE_NAME_RE = re.compile(r"[^A-Za-z0-9_-]")
MAX_SERVERS_PER_TENANT = 50
MAX_RESULT_CHARS = 100_000     # what one MCP tool call hands back to a model, at most
WIRE_NAME_MAX = 64             # OpenAI's and Anthropic's limit on a function name


def wire_name(server: str, tool: str) -> str:
    """``mcp__<server>__<tool>``: the tool's name as models see it (they refuse dots in function names)."""
    name = WIRE_NAME_RE.sub("_", f"mcp__{server}__{tool}")
    if len(name) > WIRE_NAME_MAX:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
        name = f"{name[:WIRE_NAME_MAX - 9]}_{digest}"
    return name


def input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A server's inputSchema as our registry needs it: an object schema with ``properties``."""
    out = dict(schema) if isinstance(schema, dict) else {}
    out["type"] = "object"
    if not isinstance(out.get("properties"), dict):
        out["properties"] = {}
    return out


class McpService:
    """CRUD of a tenant's MCP servers, their test, and their tools (a ``ToolSource`` for the registry)."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, secrets: SecretBox,
                 connections: McpConnections, timeout_s: float) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.secrets = secrets
        self.connections = connections
        self.connections.on_tools = self._listed  # a server's changed tools are stored as they are learnt
        self.timeout_s = float(timeout_s)
        self.store = McpServerStore(db)

    # -- records --------------------------------------------------------------------------------
    def list_all(self, tenant_id: str) -> list[McpServer]:
        return self.store.list_all(tenant_id)

    def get(self, tenant_id: str, server_id: str) -> McpServer:
        server = self.store.get(tenant_id, server_id)
        if server is None:
            raise NotFound(f"MCP server {server_id} not found")
        return server

    def create(self, tenant_id: str, fields: dict[str, Any]) -> McpServer:
        """Add a server and connect to it once to learn its tools (its state tells how that went)."""
        if self.store.count(tenant_id) >= MAX_SERVERS_PER_TENANT:
            raise Conflict(f"a tenant may add at most {MAX_SERVERS_PER_TENANT} MCP servers")
        now = self.clock.iso()
        transport = fields["transport"]
        server = McpServer(
            id=self.ids.new("mcp"), tenant_id=tenant_id, name=_check_name(fields["name"]), transport=transport,
            command=fields.get("command"), args=list(fields.get("args") or []), cwd=fields.get("cwd"),
            url=fields.get("url"), secrets=self._seal(tenant_id, fields.get("env") or {}, fields.get("headers") or {}),
            enabled=fields.get("enabled", True), status="error", error="not connected yet",
            created_at=now, updated_at=now)
        _check_shape(server)
        try:
            with self.db.write() as conn:
                self.store.insert(conn, server)
        except IntegrityError:
            raise Conflict(f"an MCP server named {server.name!r} already exists", param="name") from None
        return self.refresh(server) if server.enabled else server

    def update(self, tenant_id: str, server_id: str, fields: dict[str, Any]) -> McpServer:
        """Change a server; env/headers given replace the stored ones. A changed server reconnects."""
        server = self.get(tenant_id, server_id)
        changes: dict[str, Any] = {k: fields[k] for k in ("command", "cwd", "url", "enabled") if k in fields}
        if "name" in fields:
            changes["name"] = _check_name(fields["name"])
            other = self.store.by_name(tenant_id, changes["name"])
            if other is not None and other.id != server.id:
                raise Conflict(f"an MCP server named {changes['name']!r} already exists", param="name")
        if "args" in fields:
            changes["args"] = list(fields["args"] or [])
        if "env" in fields or "headers" in fields:
            env, headers = self._opened(server)
            changes["secrets"] = self._seal(tenant_id, fields["env"] if "env" in fields else env,
                                            fields["headers"] if "headers" in fields else headers)
        updated = replace(server, **changes, updated_at=self.clock.iso())
        _check_shape(updated)
        with self.db.write() as conn:
            self.store.update(conn, updated)
        self.connections.close(server.id)
        return self.refresh(updated) if updated.enabled else self.get(tenant_id, server_id)

    def delete(self, tenant_id: str, server_id: str) -> McpServer:
        server = self.get(tenant_id, server_id)
        self.connections.close(server.id)
        with self.db.write() as conn:
            self.store.delete(conn, tenant_id, server_id)
        return server

    # -- connecting -----------------------------------------------------------------------------
    def test(self, tenant_id: str, server_id: str) -> dict[str, Any]:
        """Connect (starting a stdio server), list its tools, store the outcome and answer it."""
        server = self.get(tenant_id, server_id)
        started = time.perf_counter()
        refreshed = self.refresh(server)
        return {"ok": refreshed.status == "connected", "duration_ms": round((time.perf_counter() - started) * 1000),
                "server": refreshed.to_dict()}

    def refresh(self, server: McpServer) -> McpServer:
        """List the server's tools now (connecting if needed), store its state and answer the stored record."""
        if not server.enabled:
            return server
        try:
            tools = self.connections.list_tools(self.endpoint(server), self.timeout_s)
        except McpConnectionError as exc:
            self._set_state(server, "error", str(exc), None)
            return self.get(server.tenant_id, server.id)
        self._set_state(server, "connected", None, tools)
        return self.get(server.tenant_id, server.id)

    def endpoint(self, server: McpServer) -> Endpoint:
        env, headers = self._opened(server)
        return Endpoint(key=server.id, transport=server.transport, command=server.command, args=tuple(server.args),
                        cwd=server.cwd, env=env, url=server.url, headers=headers)

    def close(self) -> None:
        """Stop every server's session and child process (the app is stopping)."""
        self.connections.close_all()

    # -- the tools ------------------------------------------------------------------------------
    def tools(self, tenant_id: str) -> list[Tool]:
        """The tenant's enabled servers' tools, from their last listing (a ``ToolSource``)."""
        out: list[Tool] = []
        for server in self.store.list_all(tenant_id):
            if server.enabled:
                out.extend(self._tool(server, spec) for spec in server.tools)
        return out

    def tool_ids(self, tenant_id: str) -> list[str]:
        """Every server's tool ids, a disabled server's too: an agent keeps them while its server is off
        (its runs do not offer them), so disabling a server does not make its agents uneditable."""
        return [server.tool_id(spec.name) for server in self.store.list_all(tenant_id) for spec in server.tools]

    def _tool(self, server: McpServer, spec: McpToolSpec) -> Tool:
        def call(**arguments: Any) -> Any:
            return self.call(server.tenant_id, server.id, spec.name, arguments)

        description = spec.description or f"{spec.name} (from the MCP server {server.name})"
        return Tool(name=server.tool_id(spec.name), description=description,
                    parameters=input_schema(spec.input_schema), fn=call, permission="auto", builtin=False,
                    timeout_s=self.timeout_s + 2, wire_name=wire_name(server.name, spec.name))

    def call(self, tenant_id: str, server_id: str, tool: str, arguments: dict[str, Any]) -> Any:
        """Call one tool (starting or restarting the server as needed); failures are ToolErrors."""
        server = self.get(tenant_id, server_id)
        if not server.enabled:
            raise ToolError("mcp_unavailable", f"the MCP server {server.name} is disabled")
        try:
            result = self.connections.call_tool(self.endpoint(server), tool, arguments, self.timeout_s)
        except McpCallTimeout as exc:  # a slow tool, not a broken server: its status stays as it is
            raise ToolError("tool_timeout", f"MCP server {server.name}: {exc}") from None
        except McpConnectionError as exc:
            self._set_state(server, "error", str(exc), None)
            raise ToolError("mcp_unavailable", f"MCP server {server.name}: {exc}") from None
        if server.status != "connected":
            self._set_state(server, "connected", None, None)
        return tool_result(result)

    # -- helpers --------------------------------------------------------------------------------
    def _listed(self, server_id: str, tools: list[McpToolSpec]) -> None:
        """A server's tools as it listed them again (it said they changed, or it was restarted)."""
        with self.db.write() as conn:
            self.store.set_state(conn, server_id, "connected", None, tools)

    def _set_state(self, server: McpServer, status: str, error: str | None, tools: list[McpToolSpec] | None) -> None:
        with self.db.write() as conn:
            self.store.set_state(conn, server.id, status, error, tools)

    def _seal(self, tenant_id: str, env: dict[str, str], headers: dict[str, str]) -> str | None:
        if not env and not headers:
            return None
        return self.secrets.encrypt(json.dumps({"env": env, "headers": headers}), aad=f"mcp:{tenant_id}")

    def _opened(self, server: McpServer) -> tuple[dict[str, str], dict[str, str]]:
        if not server.secrets:
            return {}, {}
        data = json.loads(self.secrets.decrypt(server.secrets, aad=f"mcp:{server.tenant_id}"))
        return dict(data.get("env") or {}), dict(data.get("headers") or {})


def tool_result(result: Any) -> Any:
    """An MCP ``CallToolResult`` as a JSON value for the model, at most MAX_RESULT_CHARS of it.

    Structured content wins; else the text blocks joined; other blocks (images, resources) are
    described by type. A result flagged ``isError`` is a tool error carrying the server's text.
    """
    texts, others = [], []
    for block in result.content or ():
        if getattr(block, "type", None) == "text":
            texts.append(block.text)
        else:
            others.append({"type": getattr(block, "type", "unknown"),
                           "mimeType": getattr(block, "mimeType", None)})
    if result.isError:
        raise ToolError("mcp_tool_error", ("\n".join(texts) or "the MCP tool reported an error")[:2000])
    value: Any
    if result.structuredContent is not None:
        value = result.structuredContent
    elif not others:
        value = "\n".join(texts)
    else:
        value = {"text": "\n".join(texts), "other_content": others}
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        return {"truncated": True, "text": text[:MAX_RESULT_CHARS]}
    return value


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError("name must be 1-32 lower-case letters, digits, - or _ (it becomes part of the "
                              "tool names mcp.<name>.<tool>)", param="name")
    return name


def _check_shape(server: McpServer) -> None:
    """A stdio server needs a command, an HTTP one an http(s) URL without credentials."""
    if server.transport == "stdio":
        if not server.command or not server.command.strip():
            raise ValidationError("a stdio server needs a command", param="command")
        if server.url:
            raise ValidationError("url is for http servers; a stdio server has a command", param="url")
        return
    if server.command:
        raise ValidationError("command is for stdio servers; an http server has a url", param="command")
    if not server.url:
        raise ValidationError("an http server needs a url", param="url")
    try:
        split_url(server.url)
    except BlockedURL as exc:
        raise ValidationError(f"url: {exc}", param="url") from None
