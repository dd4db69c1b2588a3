"""Tool records as the domain sees them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolInvocation:
    """One audited direct invocation of a tool (``POST /v1/tools/{id}/invoke``)."""

    id: str
    tenant_id: str
    tool: str
    arguments: str            # JSON, truncated to ARGUMENTS_KEPT_CHARS
    arguments_sha256: str
    ok: bool
    error_code: str | None
    duration_ms: int
    invoked_by: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tool": self.tool, "arguments": self.arguments,
                "arguments_sha256": self.arguments_sha256, "ok": self.ok, "error_code": self.error_code,
                "duration_ms": self.duration_ms, "invoked_by": self.invoked_by, "created_at": self.created_at}
