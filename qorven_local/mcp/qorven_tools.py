"""The tools Qorven offers as an MCP server: its agents and its memory, for other apps' models.

Each tool calls the domain services directly (not the HTTP API) as the caller's principal: its
tenant, and ``memory_save`` only for admin tokens. The descriptions and JSON Schemas are written for
another model to read: what the tool is for, what comes back, and what each argument means.
A failure the caller can act on (an unknown agent, a refused save) is a ``ToolFailure``, which the
protocol layer answers as a tool result with ``isError: true``.
"""

from __future__ import annotations

from typing import Any, Callable

from qorven_local.agents.runner import AgentRunner
from qorven_local.agents.runs import RunRequest
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.errors import QorvenError
from qorven_local.memory.service import MemoryService
from qorven_local.memory.types import KINDS
from qorven_local.models import Principal

MAX_RESULTS = 50
MCP_PEER = "mcp"     # ask_agent without a session continues the agent's canonical API session for MCP clients


class ToolFailure(Exception):
    """A tool call that failed in a way the calling model should read (answered with isError)."""


def _tool(name: str, title: str, description: str, required: tuple[str, ...] = (),
          **properties: dict[str, Any]) -> dict[str, Any]:
    """One MCP tool definition: an object schema that refuses arguments it does not name."""
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    return {"name": name, "title": title, "description": description, "inputSchema": schema}


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "description": description}


def _scope(description: str) -> dict[str, Any]:
    return {"enum": ["workspace", "agent"], "description": description}


def _agent(description: str) -> dict[str, Any]:
    return _text(100, description + " The agent's name (see list_agents) or its id (agt_...).")


_MAX_RESULTS = {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS, "default": 10,
                "description": "How many results at most."}
_QUERY = _text(2000, "What to look for, as words or a question.")

TOOLS: list[dict[str, Any]] = [
    _tool("ask_agent", "Ask a Qorven agent", (
        "Send a message to one of the user's Qorven agents and get its answer. The agent runs with its own "
        "instructions, model, tools and long-term memory, so ask it things it specialises in (see "
        "list_agents). Returns {answer, session_id, agent}. Pass the returned session_id on the next call to "
        "continue the same conversation; without it the agent continues its conversation with MCP clients."),
        ("agent", "message"),
        agent=_agent("The agent to ask."),
        message=_text(100_000, "What to ask or tell the agent, in plain language."),
        session_id=_text(100, "A session_id a previous ask_agent returned, to continue that conversation.")),
    _tool("memory_search", "Search Qorven's memory", (
        "Search the long-term memory the user's Qorven agents keep (facts, preferences, notes, skills, "
        "summaries) by meaning and keywords. Returns {results: [{id, content, kind, scope, agent_id, score, "
        "...}]}, best match first, score in [0, 1]. Use it before answering questions about the user, their "
        "projects or earlier decisions."),
        ("query",),
        query=_QUERY,
        scope=_scope("workspace (default without agent): every memory of the user; agent (default with "
                     "agent): that agent's memories plus the shared ones."),
        agent=_agent("Limit the search to this agent's memories."),
        max_results=_MAX_RESULTS),
    _tool("memory_save", "Save to Qorven's memory", (
        "Store one durable piece of knowledge in Qorven's long-term memory so its agents recall it later: a "
        "fact, a preference, a note. Keep it one self-contained statement. A near-duplicate of an existing "
        "memory updates that one instead. Needs an admin token (an error otherwise). Returns the saved memory "
        "and whether it was deduplicated."),
        ("content",),
        content=_text(20_000, "The statement to remember, e.g. 'The user prefers metric units.'"),
        scope=_scope("workspace (default without agent): shared by every agent; agent (default with agent): "
                     "only that agent recalls it."),
        agent=_agent("The agent that should own this memory."),
        kind={"enum": list(KINDS), "default": "note", "description": "What sort of memory it is."}),
    _tool("list_agents", "List Qorven's agents", (
        "List the user's Qorven agents with what each is for. Returns {agents: [{name, display_name, "
        "description, model, tools}]}; use a name with ask_agent.")),
    _tool("search_documents", "Search the user's documents", (
        "Search the documents the user added to Qorven (and its memory) by meaning and keywords. Returns "
        "{results: [{content, score, document?: {id, title, locator}}]}, best first: content is the matching "
        "passage and document, when present, says which document and where in it the passage is."),
        ("query",),
        query=_QUERY,
        max_results=_MAX_RESULTS),
]


class QorvenTools:
    """The five tools over the agent and memory services; ``call`` answers a JSON-ready dict."""

    def __init__(self, *, agents: AgentService, sessions: SessionService, runner: AgentRunner,
                 memory: MemoryService) -> None:
        self.agents = agents
        self.sessions = sessions
        self.runner = runner
        self.memory = memory
        self._handlers: dict[str, Callable[[Principal, dict[str, Any]], dict[str, Any]]] = {
            "ask_agent": self.ask_agent, "memory_search": self.memory_search, "memory_save": self.memory_save,
            "list_agents": self.list_agents, "search_documents": self.search_documents}

    def definitions(self) -> list[dict[str, Any]]:
        return TOOLS

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
                                     max_results=int(args.get("max_results", 10)))
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
        hits = self.memory.search(caller.tenant_id, query=args["query"], scope="workspace",
                                  max_results=int(args.get("max_results", 10)))
        results = []
        for hit in hits:
            item = {"content": hit["content"], "score": hit["score"], "memory_id": hit["id"]}
            if hit.get("document"):
                item["document"] = hit["document"]
            results.append(item)
        return {"results": results}
