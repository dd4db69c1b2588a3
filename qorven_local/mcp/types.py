"""MCP server records as the domain sees them (Qorven as an MCP client)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TRANSPORTS = ("stdio", "http")
STATUSES = ("connected", "error", "disabled")
TOOL_PREFIX = "mcp."


@dataclass(frozen=True)
class McpToolSpec:
    """One tool a server offered in its last listing."""

    name: str
    description: str
    input_schema: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "inputSchema": self.input_schema}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> McpToolSpec:
        return cls(name=data["name"], description=data.get("description") or "",
                   input_schema=data.get("inputSchema") or {"type": "object", "properties": {}})


@dataclass(frozen=True)
class McpServer:
    """An MCP server a tenant added; ``secrets`` is the ciphertext of its write-only env and headers."""

    id: str
    tenant_id: str
    name: str
    transport: str
    command: str | None
    args: list[str]
    cwd: str | None
    url: str | None
    secrets: str | None
    enabled: bool
    status: str
    error: str | None
    tools: list[McpToolSpec] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""

    def tool_id(self, tool: str) -> str:
        """The catalogue id of one of this server's tools: ``mcp.<server>.<tool>``."""
        return f"{TOOL_PREFIX}{self.name}.{tool}"

    def to_dict(self) -> dict[str, Any]:
        """The API's MCP server object; env and headers are write-only and never shown."""
        return {"id": self.id, "object": "mcp_server", "name": self.name, "transport": self.transport,
                "command": self.command, "args": list(self.args), "cwd": self.cwd, "url": self.url,
                "enabled": self.enabled, "status": "disabled" if not self.enabled else self.status,
                "error": self.error, "tools": [t.name for t in self.tools],
                "created_at": self.created_at, "updated_at": self.updated_at}
