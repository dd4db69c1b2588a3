"""The memory tools' view of memory: one agent's search and save in one session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the service hands out these views (MemoryService.for_agent)
    from qorven_local.memory.service import MemoryService


class AgentMemory:
    """``memory_search`` / ``memory_save`` on behalf of one agent (tools.context.MemoryService)."""

    def __init__(self, service: MemoryService, tenant_id: str, agent_id: str, session_id: str | None) -> None:
        self.service = service
        self.tenant_id = tenant_id
        self.agent_id = agent_id
        self.session_id = session_id

    def search(self, query: str, max_results: int) -> list[dict[str, Any]]:
        """The agent's memories (and the workspace's and the session's) for ``query``, marked recalled."""
        results = self.service.search(self.tenant_id, query=query, scope="agent", agent_id=self.agent_id,
                                      session_id=self.session_id, max_results=max_results)
        self.service.mark_recalled(results)
        return results

    def save(self, content: str, kind: str) -> dict[str, Any]:
        """Save an agent-scoped memory (deduplicated); the memory dict with ``deduplicated``."""
        memory, deduplicated = self.service.save(self.tenant_id, content=content, kind=kind, scope="agent",
                                                 agent_id=self.agent_id, session_id=self.session_id,
                                                 source="agent")
        return {**memory.to_dict(), "deduplicated": deduplicated}
