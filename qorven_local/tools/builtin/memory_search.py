"""memory_search: recall what the agent has stored before."""

from __future__ import annotations

from typing import Annotated

from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool


@tool(builtin=True)
def memory_search(ctx: ToolContext, query: Annotated[str, {"minLength": 1, "maxLength": 2000}],
                  max_results: Annotated[int, {"minimum": 1, "maximum": 50}] = 5) -> dict:
    """Search the agent's long-term memory for facts, preferences and notes relevant to a query.

    Args:
        query: What to look for, in natural language.
        max_results: How many memories to return at most.
    """
    if ctx.memory is None:
        raise ToolError("memory_unavailable", "memory is not available in this context")
    return {"query": query, "results": list(ctx.memory.search(query, max_results))}
