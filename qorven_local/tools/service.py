"""The tools as the API shows them: the catalogue with who uses what, and audited direct invocation.

``POST /v1/tools/{id}/invoke`` runs a tool outside any agent run, so this module builds the
ToolContext an agent run would (the tenant's workspace, the outbound-URL setting, memory and
delegation) and records every attempt, refused arguments included, in the audit table with a
digest of the arguments rather than all of them.
"""

from __future__ import annotations

from typing import Any

from qorven_local.agents.delegation import Delegation
from qorven_local.agents.service import AgentService
from qorven_local.clock import Clock, IdFactory
from qorven_local.config import Config
from qorven_local.errors import InvalidArguments
from qorven_local.memory.service import MemoryService
from qorven_local.agents.types import Agent
from qorven_local.models import Page, Principal
from qorven_local.storage.db import Database
from qorven_local.storage.paging import page_items
from qorven_local.storage.tool_audit import ToolAuditStore, digest_arguments
from qorven_local.tools.context import ToolContext, ToolSettings
from qorven_local.tools.registry import Tool, ToolRegistry, ToolResult
from qorven_local.tools.types import ToolInvocation
from qorven_local.tools.workspaces import tenant_workspace


def tool_settings(config: Config) -> ToolSettings:
    """The app settings that shape the built-in tools."""
    return ToolSettings(allow_private=bool(config.http_allow_private),
                        allowed_hosts=tuple(config.http_allowed_hosts))


class ToolService:
    """List, inspect and invoke the registry's tools for a tenant."""

    def __init__(self, *, registry: ToolRegistry, agents: AgentService, memory: MemoryService,
                 delegation: Delegation, db: Database, config: Config, ids: IdFactory, clock: Clock) -> None:
        self.registry = registry
        self.agents = agents
        self.memory = memory
        self.delegation = delegation
        self.config = config
        self.ids = ids
        self.clock = clock
        self.audit = ToolAuditStore(db)

    def describe(self, tool: Tool, used_by: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """The API's Tool object; a listed tool is enabled (a disabled MCP server's tools are not listed)."""
        body = {**tool.to_dict(), "object": "tool", "enabled": True}
        if used_by is not None:
            body["used_by"] = used_by
        return body

    def list_page(self, tenant_id: str, *, limit: int | None, cursor: str | None) -> Page:
        """The tools in registry order; the cursor is the position of the last one shown."""
        page = page_items(self.registry.for_tenant(tenant_id).list(), limit=limit, cursor=cursor, key=lambda t: t.name)
        return Page(items=[self.describe(t) for t in page.items], has_more=page.has_more,
                    next_cursor=page.next_cursor)

    def inspect(self, tenant_id: str, name: str) -> dict[str, Any]:
        tool = self.registry.for_tenant(tenant_id).get(name)
        used_by = [{"id": a.id, "name": a.name} for a in self.agents.list_all(tenant_id) if name in a.tools]
        return self.describe(tool, used_by)

    def invoke(self, caller: Principal, name: str, arguments: Any, agent_ref: str | None = None) -> ToolResult:
        """Validate and run one tool for ``caller``'s tenant, audited; bad arguments raise 422."""
        tenant = caller.tenant_id
        registry = self.registry.for_tenant(tenant)
        registry.get(name)  # unknown tools are 404 and not audited
        agent = self.agents.require(tenant, agent_ref, param="agent_id") if agent_ref is not None else None
        try:
            result = registry.invoke(name, arguments, self.tool_context(tenant, agent), raise_invalid=True)
        except InvalidArguments as exc:
            self._record(caller, name, arguments, ok=False, error_code=exc.code, duration_ms=0)
            raise
        self._record(caller, name, arguments, ok=result.ok,
                     error_code=None if result.ok else (result.error or {}).get("code"),
                     duration_ms=result.duration_ms)
        return result

    def tool_context(self, tenant_id: str, agent: Agent | None = None) -> ToolContext:
        """What a direct invocation runs with: as ``agent`` when given, else as the tenant itself."""
        agent_id = agent.id if agent is not None else None
        # for_agent is typed for an agent id, but a call without an agent passes None, which the
        # MemoryService.search and .save it forwards to accept (their agent_id is str | None).
        memory = self.memory.for_agent(tenant_id, agent_id, None)  # type: ignore[arg-type]
        return ToolContext(tenant_id=tenant_id, workspace_dir=tenant_workspace(self.config.workspace_dir, tenant_id),
                           agent_id=agent_id,
                           agent_name=agent.name if agent is not None else None, settings=tool_settings(self.config),
                           memory=memory, delegate=self.delegation.delegate_for(tenant_id, agent, 0), depth=0)

    def invocations(self, tenant_id: str, name: str, *, limit: int | None, cursor: str | None) -> Page:
        """The audit trail of one tool's direct invocations, newest first."""
        self.registry.for_tenant(tenant_id).get(name)
        return self.audit.page(tenant_id, name, limit=limit, cursor=cursor)

    def _record(self, caller: Principal, name: str, arguments: Any, *, ok: bool, error_code: str | None,
                duration_ms: int) -> None:
        kept, sha = digest_arguments(arguments)
        self.audit.record(ToolInvocation(
            id=self.ids.new("tinv"), tenant_id=caller.tenant_id, tool=name, arguments=kept,
            arguments_sha256=sha, ok=ok, error_code=error_code, duration_ms=duration_ms,
            invoked_by=caller.token_id, created_at=self.clock.iso()))
