"""memory_save: keep something for later conversations."""

from __future__ import annotations

from typing import Annotated, Literal

from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool


@tool("admin", builtin=True)  # it changes stored state: an admin grants it (agents/service.py)
def memory_save(ctx: ToolContext, content: Annotated[str, {"minLength": 1, "maxLength": 8000}],
                kind: Literal["fact", "preference", "note", "skill", "summary"] = "note") -> dict:
    """Save a memory the agent should recall in later conversations.

    Args:
        content: The memory, written so it makes sense on its own later.
        kind: What sort of memory this is.
    """
    if ctx.memory is None:
        raise ToolError("memory_unavailable", "memory is not available in this context")
    return {"saved": ctx.memory.save(content, kind)}
