"""list_files: the entries of one folder inside the workspace."""

from __future__ import annotations

import os
import stat

import qorven_local.tools.builtin._workspace as ws
from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError, tool


@tool(builtin=True)
def list_files(ctx: ToolContext, path: str = ".") -> dict:
    """List the files and folders in a folder of the workspace (not recursive).

    Args:
        path: Folder relative to the workspace root; "." (the default) is the root itself.
    """
    root, rel = ws.resolve(ctx, path)
    fd = ws.open_at(root, rel, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            raise ToolError("not_a_directory", f"{ws.display(rel)!r} is a file; use read_file")
        # scandir on the fd lists exactly the directory we opened, not whatever the path is now.
        source = fd if os.scandir in os.supports_fd else root.joinpath(*rel.parts)
        with os.scandir(source) as it:
            entries = sorted(it, key=lambda e: e.name)
        limit = ctx.settings.list_max_entries
        listed = [_describe(entry) for entry in entries[:limit]]  # stat needs the fd still open
    finally:
        os.close(fd)
    return {"path": ws.display(rel), "entries": listed, "truncated": len(entries) > limit}


def _describe(entry: os.DirEntry) -> dict:
    info = entry.stat(follow_symlinks=False)
    kind = "symlink" if stat.S_ISLNK(info.st_mode) else "dir" if stat.S_ISDIR(info.st_mode) else \
        "file" if stat.S_ISREG(info.st_mode) else "other"
    item = {"name": entry.name, "type": kind}
    if kind == "file":
        item["size"] = info.st_size
    return item
