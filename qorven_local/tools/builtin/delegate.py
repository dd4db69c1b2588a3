"""delegate: hand a task to another agent and return its answer."""

from __future__ import annotations

from typing import Annotated

from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool


# A sub-agent runs a whole agent loop (model calls, its own tools), so it gets minutes, not seconds.
@tool(builtin=True, timeout_s=300)
def delegate(ctx: ToolContext, agent: Annotated[str, {"minLength": 1}],
             task: Annotated[str, {"minLength": 1, "maxLength": 20000}]) -> dict:
    """Ask another agent to do a task and return its answer.

    Args:
        agent: Name of the agent to ask, e.g. "researcher".
        task: The task, with all the context the other agent needs.
    """
    if ctx.delegate is None:
        raise ToolError("delegation_unavailable", "delegation is not available in this context")
    if agent in {ctx.agent_name, ctx.agent_id} - {None}:
        raise ToolError("self_delegation", "an agent cannot delegate to itself; do the task directly")
    limit = ctx.settings.max_delegation_depth
    if ctx.depth >= limit:
        raise ToolError("delegation_too_deep",
                        f"delegation depth limit ({limit}) reached; answer with what you have")
    return {"agent": agent, "answer": ctx.delegate(agent, task)}
