"""The tools Qorven offers as an MCP server: its agents and its memory, for other apps' models.

Each tool calls the domain services directly (not the HTTP API) as the caller's principal: its
tenant, and ``memory_save`` only for admin tokens; their descriptions and JSON Schemas are in
``definitions.py``. A failure the caller can act on (an unknown agent, a refused save) is a ``ToolFailure``, which the
protocol layer answers as a tool result with ``isError: true``.
"""

from __future__ import annotations

from typing import Any, Callable

from qorven_local.agents.runner import AgentRunner
from qorven_local.agents.runs import RunRequest
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.documents.service import DocumentService
from qorven_local.errors import QorvenError
from qorven_local.memory.service import MemoryService
from qorven_local.mcp.definitions import ADMIN_ONLY, TOOLS
from qorven_local.models import Principal

MIN_SCORE = 0.01     # a match with no semantic or keyword evidence (score 0) is noise to the calling model
PASSAGE_POOL = 200   # memories ranked to find the best document passages among them
MCP_PEER = "mcp"     # ask_agent without a session continues the agent's canonical API session for MCP clients


class ToolFailure(Exception):
    """A tool call that failed in a way the calling model should read (answered with isError)."""


class QorvenTools:
    """The five tools over the agent and memory services; ``call`` answers a JSON-ready dict."""

    def __init__(self, *, agents: AgentService, sessions: SessionService, runner: AgentRunner,
                 memory: MemoryService, documents: DocumentService) -> None:
        self.agents = agents
        self.sessions = sessions
        self.runner = runner
        self.memory = memory
        self.documents = documents
        self._handlers: dict[str, Callable[[Principal, dict[str, Any]], dict[str, Any]]] = {
            "ask_agent": self.ask_agent, "memory_search": self.memory_search, "memory_save": self.memory_save,
            "list_agents": self.list_agents, "search_documents": self.search_documents}

    def definitions(self, caller: Principal) -> list[dict[str, Any]]:
        """The tools this caller may use: memory_save is left out for a token that may only read."""
        return [t for t in TOOLS if caller.is_admin or t["name"] not in ADMIN_ONLY]

    def has(self, name: str) -> bool:
        return name in self._handlers

    def schema(self, name: str) -> dict[str, Any]:
        return next(t["inputSchema"] for t in TOOLS if t["name"] == name)

    def call(self, caller: Principal, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run tool ``name`` (arguments already checked against its schema); QorvenErrors become ToolFailures."""
        try:
            return self._handlers[name](caller, arguments)
        except QorvenError as exc:
            raise ToolFailure(exc.message) from None

    def _agent(self, caller: Principal, ref: str) -> Any:
        agent = self.agents.resolve(caller.tenant_id, ref)
        if agent is None:
            names = ", ".join(a.name for a in self.agents.list_all(caller.tenant_id))
            raise ToolFailure(f"no agent {ref!r}; the agents are: {names}")
        return agent

    def ask_agent(self, caller: Principal, args: dict[str, Any]) -> dict[str, Any]:
        agent = self._agent(caller, args["agent"])
        if args.get("session_id"):
            session = self.sessions.get(caller.tenant_id, args["session_id"])
            if session.agent_id != agent.id:
                raise ToolFailure(f"session {session.id} belongs to another agent")
        else:
            session = self.sessions.open(caller.tenant_id, agent.id, "api", peer=MCP_PEER)[0]
        result = self.runner.run(RunRequest(tenant_id=caller.tenant_id, agent=agent, session=session,
                                            user_message=args["message"], channel=session.channel))
        return {"answer": result.content, "session_id": result.session_id, "agent": agent.name,
                "finish_reason": result.finish_reason}

    def _scope(self, caller: Principal, args: dict[str, Any]) -> tuple[str, str | None]:
        agent_id = self._agent(caller, args["agent"]).id if args.get("agent") else None
        scope = args.get("scope") or ("agent" if agent_id else "workspace")
        if scope == "agent" and agent_id is None:
            raise ToolFailure("scope agent needs an agent")
        return scope, agent_id

    def memory_search(self, caller: Principal, args: dict[str, Any]) -> dict[str, Any]:
        scope, agent_id = self._scope(caller, args)
        results = self.memory.search(caller.tenant_id, query=args["query"], scope=scope, agent_id=agent_id,
                                     max_results=int(args.get("max_results", 10)), min_score=MIN_SCORE)
        return {"results": results}

    def memory_save(self, caller: Principal, args: dict[str, Any]) -> dict[str, Any]:
        if not caller.is_admin:
            raise ToolFailure("memory_save needs an admin token; this token may only read memory")
        scope, agent_id = self._scope(caller, args)
        memory, deduplicated = self.memory.save(caller.tenant_id, content=args["content"],
                                                kind=args.get("kind", "note"), scope=scope, agent_id=agent_id,
                                                source="admin")
        return {"memory": memory.to_dict(), "deduplicated": deduplicated}

    def list_agents(self, caller: Principal, args: dict[str, Any]) -> dict[str, Any]:
        return {"agents": [{"name": a.name, "display_name": a.display_name, "description": a.description,
                            "model": a.model, "tools": list(a.tools)}
                           for a in self.agents.list_all(caller.tenant_id)]}

    def search_documents(self, caller: Principal, args: dict[str, Any]) -> dict[str, Any]:
        """Passages of uploaded documents only, each with a citation.

        Passages are memories (``note`` ones) that carry their document; the best of a pool of ranked
        notes are kept, so memories saved by hand never crowd a document's passages out of the answer.
        """
        if not self.documents.list_page(caller.tenant_id, {}, limit=1, cursor=None).items:
            return {"results": [], "note": "No documents have been uploaded to Qorven yet (its Documents screen "
                                            "or POST /v1/documents); memory_search searches what it remembers."}
        limit = int(args.get("max_results", 10))
        hits = self.memory.search(caller.tenant_id, query=args["query"], scope="workspace", kinds=("note",),
                                  max_results=PASSAGE_POOL, min_score=MIN_SCORE)
        results = []
        for hit in hits:
            document = hit.get("document")
            if not document:
                continue
            results.append({"content": hit["content"], "score": hit["score"], "citation": citation(document),
                            "document": document})
            if len(results) == limit:
                break
        return {"results": results}


def citation(document: dict[str, Any]) -> str:
    """``<title>, <locator>`` (the locator alone says page, heading path or lines), or the title."""
    return f"{document['title']}, {document['locator']}" if document.get("locator") else str(document["title"])
