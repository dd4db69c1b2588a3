"""write_file: create or replace one text file inside the workspace."""

from __future__ import annotations

import os

import qorven_local.tools.builtin._workspace as ws
from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool


@tool("admin", builtin=True)  # it changes stored state: an admin grants it (agents/service.py)
def write_file(ctx: ToolContext, path: str, content: str) -> dict:
    """Write a UTF-8 text file in the workspace, replacing it if it exists; missing folders are created.

    Args:
        path: File path relative to the workspace root.
        content: The complete text of the file.
    """
    data = content.encode("utf-8")
    limit = ctx.settings.file_max_bytes
    if len(data) > limit:
        raise ToolError("content_too_large", f"content is {len(data)} bytes; the limit is {limit}")
    root, rel = ws.resolve(ctx, path)
    if str(rel) == ".":
        raise ToolError("is_a_directory", "the workspace root is a directory; name a file")
    existed = root.joinpath(*rel.parts).exists()
    # No O_TRUNC here: truncate only after fstat proved this is a regular file.
    fd = ws.open_at(root, rel, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NONBLOCK", 0),
                    make_parents=True)
    try:
        ws.require_regular(fd, rel)
        os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return {"path": ws.display(rel), "bytes": len(data), "created": not existed}
