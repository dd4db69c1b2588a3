"""An agent answering as a model (OpenAI form, ``qor:<name>``): the client's options and tools on its model calls.

The client's options (``temperature``, ``top_p``, ``max_tokens``/``max_completion_tokens``, ``stop``,
``seed``, ``response_format``, ``reasoning_effort`` and the other passthrough params of
``ChatRequest.from_openai``) apply to every model call of the run; the agent's temperature stays when
the client sends none. Client function tools are offered beside the agent's own. On a name clash the
client's tool wins and the agent's is not offered for that request: the client declared the tool and
expects its calls, exactly as from a plain model. A model turn that calls a client tool ends the run
and its client calls go back to the client (``finish_reason: "tool_calls"``); agent tools asked for in
that same turn are not run, so the conversation the client carries on stays whole (the model asks
again in the next request if it still needs them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qorven_local.providers.events import ChatRequest

# These choices force a tool call: kept on every step they would make the model call tools until the
# run's budget is spent, so only the run's first model call gets them.
_FIRST_STEP_ONLY = ("required",)


def client_tool_names(client: ChatRequest | None) -> frozenset[str]:
    """The names of the client's function tools (empty for a run without a client request)."""
    if client is None or not client.tools:
        return frozenset()
    return frozenset(name for tool in client.tools if isinstance(name := _name(tool), str) and name)


def offered_tools(agent_tools: list[dict[str, Any]] | None, client: ChatRequest | None) -> list[dict[str, Any]] | None:
    """The agent's tool schemas without those a client tool shadows, then the client's tools; None when none."""
    shadowed = client_tool_names(client)
    kept = [tool for tool in agent_tools or [] if _name(tool) not in shadowed]
    return kept + list(client.tools or [] if client is not None else []) or None


def step_request(client: ChatRequest | None, *, model: str, messages: list[dict[str, Any]],
                 tools: list[dict[str, Any]] | None, temperature: float | None, first: bool) -> ChatRequest:
    """One model call of a run: the client's options (if any) on the run's model, messages and tools."""
    if client is None:
        return ChatRequest(model=model, messages=messages, tools=tools, temperature=temperature)
    choice = client.tool_choice
    if not tools or (not first and (choice in _FIRST_STEP_ONLY or isinstance(choice, dict))):
        choice = None
    return replace(client, model=model, messages=messages, tools=tools, tool_choice=choice,
                   temperature=client.temperature if client.temperature is not None else temperature,
                   extra=dict(client.extra))


def _name(tool: dict[str, Any]) -> Any:
    function = tool.get("function")
    return function.get("name") if isinstance(function, dict) else None
