"""The definitions of the tools Qorven offers as an MCP server: names, descriptions, JSON Schemas.

Written for another model to read: what each tool is for, what comes back, and what each argument
means. Kept apart from their implementation (``qorven_tools.py``) so ``qorven mcp`` can list them
without loading the app (while the app is not running yet).
"""

from __future__ import annotations

from typing import Any

from qorven_local.memory.types import KINDS

MAX_RESULTS = 50
ADMIN_ONLY = ("memory_save",)   # listed to admin tokens only; refused to the others


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
        "Search the documents the user uploaded to Qorven (PDF, Word, Markdown, HTML, text and source files) "
        "by meaning and keywords, and get the matching passages with where they come from. Returns {results: "
        "[{content, score, citation, document: {id, title, locator}}]}, best first, score in [0, 1]: content "
        "is the passage's text, citation names the document and the place in it (page, heading or lines) "
        "for you to cite, e.g. 'handbook.pdf, p. 3'. Only uploaded documents are searched; memory_search "
        "searches what Qorven remembers. With no documents uploaded yet the results are empty and a note "
        "says so."),
        ("query",),
        query=_QUERY,
        max_results=_MAX_RESULTS),
]
