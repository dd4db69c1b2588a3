"""read_file: one UTF-8 text file from inside the workspace."""

from __future__ import annotations

import os

import qorven_local.tools.builtin._workspace as ws
from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool


@tool(builtin=True)
def read_file(ctx: ToolContext, path: str) -> dict:
    """Read a UTF-8 text file from the workspace.

    Args:
        path: File path relative to the workspace root.
    """
    root, rel = ws.resolve(ctx, path)
    # O_NONBLOCK so that opening a FIFO cannot hang the call; fstat then refuses it.
    fd = ws.open_at(root, rel, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    limit = ctx.settings.file_max_bytes
    try:
        size = ws.require_regular(fd, rel).st_size
        if size > limit:
            raise ToolError("file_too_large", f"{ws.display(rel)!r} is {size} bytes; the limit is {limit}")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)  # the file may grow after fstat
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ToolError("file_too_large", f"{ws.display(rel)!r} is larger than {limit} bytes")
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError("not_text", f"{ws.display(rel)!r} is not UTF-8 text") from None
    return {"path": ws.display(rel), "content": content, "bytes": len(data)}
