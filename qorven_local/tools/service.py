"""The tools as the API shows them: the catalogue with who uses what, and audited direct invocation.

``POST /v1/tools/{id}/invoke`` runs a tool outside any agent run, so this module builds the
ToolContext an agent run would (the tenant's workspace, the outbound-URL setting, memory and
delegation when the app has them) and records every attempt, refused arguments included, in the
audit table with a digest of the arguments rather than all of them.
"""

from __future__ import annotations

from typing import Any

from qorven_local.errors import InvalidArguments, NotFound
from qorven_local.models import Page, Principal
from qorven_local.storage.paging import check_limit, decode_cursor, encode_cursor
from qorven_local.storage.tool_audit import ToolAuditStore, ToolInvocation, digest_arguments
from qorven_local.tools.context import ToolContext, ToolSettings
from qorven_local.tools.registry import Tool, ToolResult


def tool_settings(config) -> ToolSettings:
    """The app settings that shape the built-in tools."""
    return ToolSettings(allow_private=bool(config.http_allow_private),
                        allowed_hosts=tuple(config.http_allowed_hosts))


class ToolService:
    """``ctx.tool_service``: list, inspect and invoke the registry's tools for a tenant."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.audit = ToolAuditStore(ctx.db)

    @property
    def registry(self):
        return self.ctx.tools

    def names(self) -> list[str]:
        return [t.name for t in self.registry.list()]

    def describe(self, tool: Tool, used_by: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """The API's Tool object; built-ins are always enabled (no per-tenant switch exists yet)."""
        body = {**tool.to_dict(), "object": "tool", "enabled": True}
        if used_by is not None:
            body["used_by"] = used_by
        return body

    def list_page(self, tenant_id: str, *, limit: int | None, cursor: str | None) -> Page:
        """The tools in registry order; the cursor is the position of the last one shown."""
        limit = check_limit(limit)
        start = decode_cursor(cursor) + 1 if cursor else 0
        tools = self.registry.list()
        shown = tools[start:start + limit]
        has_more = start + limit < len(tools)
        return Page(items=[self.describe(t) for t in shown], has_more=has_more,
                    next_cursor=encode_cursor(start + len(shown) - 1, shown[-1].name) if has_more else None)

    def inspect(self, tenant_id: str, name: str) -> dict[str, Any]:
        tool = self.registry.get(name)
        used_by = [{"id": a.id, "name": a.name} for a in self.ctx.agents.list_all(tenant_id) if name in a.tools]
        return self.describe(tool, used_by)

    def invoke(self, caller: Principal, name: str, arguments: Any, agent_ref: str | None = None) -> ToolResult:
        """Validate and run one tool for ``caller``'s tenant, audited; bad arguments raise 422."""
        tenant = caller.tenant_id
        self.registry.get(name)  # unknown tools are 404 and not audited
        agent = None
        if agent_ref is not None:
            agent = self.ctx.agents.resolve(tenant, agent_ref)
            if agent is None:
                raise NotFound(f"agent {agent_ref} not found", param="agent_id")
        try:
            result = self.registry.invoke(name, arguments, self.tool_context(tenant, agent), raise_invalid=True)
        except InvalidArguments as exc:
            self._record(caller, name, arguments, ok=False, error_code=exc.code, duration_ms=0)
            raise
        self._record(caller, name, arguments, ok=result.ok,
                     error_code=None if result.ok else (result.error or {}).get("code"),
                     duration_ms=result.duration_ms)
        return result

    def tool_context(self, tenant_id: str, agent=None) -> ToolContext:
        """What a direct invocation runs with: as ``agent`` when given, else as the tenant itself."""
        ctx = self.ctx
        agent_id = agent.id if agent is not None else None
        memory = ctx.memory.for_agent(tenant_id, agent_id, None) if ctx.memory is not None else None
        delegate = (ctx.delegate_for(tenant_id=tenant_id, agent=agent, session_id=None, depth=0)
                    if ctx.delegate_for is not None else None)
        return ToolContext(tenant_id=tenant_id, workspace_dir=ctx.config.workspace_dir, agent_id=agent_id,
                           agent_name=agent.name if agent is not None else None, settings=tool_settings(ctx.config),
                           memory=memory, delegate=delegate, depth=0)

    def invocations(self, tenant_id: str, name: str, *, limit: int | None, cursor: str | None) -> Page:
        """The audit trail of one tool's direct invocations, newest first."""
        self.registry.get(name)
        return self.audit.page(tenant_id, name, limit=limit, cursor=cursor)

    def _record(self, caller: Principal, name: str, arguments: Any, *, ok: bool, error_code: str | None,
                duration_ms: int) -> None:
        kept, sha = digest_arguments(arguments)
        self.audit.record(ToolInvocation(
            id=self.ctx.ids.new("tinv"), tenant_id=caller.tenant_id, tool=name, arguments=kept,
            arguments_sha256=sha, ok=ok, error_code=error_code, duration_ms=duration_ms,
            invoked_by=caller.token_id, created_at=self.ctx.clock.iso()))
