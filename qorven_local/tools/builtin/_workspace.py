"""Confinement of the file tools to ``ctx.workspace_dir`` (the calling tenant's folder, ``tools/workspaces.py``).

Errors name paths relative to that folder, never the absolute path of the data root.

Two layers, because either alone has a gap:
1. ``resolve`` rejects absolute paths and any ``..`` component, then resolves symlinks and requires
   the real path to be inside the real workspace root: this gives a clear error for links that
   point outside.
2. ``open_at`` walks that real path from the root one component at a time with ``O_NOFOLLOW`` (and
   ``dir_fd``), so a symlink swapped in after the check fails to open instead of being followed.
   Platforms without ``dir_fd`` (Windows) fall back to opening the checked real path.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Callable

from qorven_local.tools.context import ToolContext
from qorven_local.tools.registry import ToolError

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_HAS_DIR_FD = os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd and bool(_O_NOFOLLOW)


def root_of(ctx: ToolContext) -> Path:
    """The real path of the workspace, created on first use."""
    try:
        ctx.workspace_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # its message would name the absolute path of the data root
        raise ToolError("io_error", f"the workspace folder is not usable: {exc.strerror}") from None
    return Path(os.path.realpath(ctx.workspace_dir))


def resolve(ctx: ToolContext, path: str) -> tuple[Path, PurePosixPath]:
    """The workspace root and ``path`` as a real path relative to it; refuses anything outside."""
    if "\x00" in path:
        raise ToolError("path_not_allowed", "the path contains a NUL byte")
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute() \
            or PureWindowsPath(path).drive or path.startswith(("\\", "/")):
        raise ToolError("path_not_allowed",
                        f"{path!r} is absolute; use a path relative to the workspace folder")
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ToolError("path_not_allowed", f"{path!r} uses '..'; paths must stay inside the workspace")
    root = root_of(ctx)
    real = Path(os.path.realpath(root.joinpath(*parts)))
    if real != root and root not in real.parents:
        raise ToolError("path_not_allowed",
                        f"{path!r} resolves outside the workspace (through a symbolic link)")
    return root, PurePosixPath(real.relative_to(root).as_posix())


def display(rel: PurePosixPath) -> str:
    return str(rel) if str(rel) != "." else "."


def open_at(root: Path, rel: PurePosixPath, flags: int, *, make_parents: bool = False,
            mode: int = 0o644) -> int:
    """Open ``rel`` under ``root`` without following any symlink on the way; returns an fd."""
    if not _HAS_DIR_FD:
        if make_parents:
            root.joinpath(*rel.parent.parts).mkdir(parents=True, exist_ok=True)
        return _checked_open(lambda: os.open(root.joinpath(*rel.parts), flags | _O_CLOEXEC, mode), rel)
    parts = [p for p in rel.parts if p != "."]
    dir_fd = _checked_open(lambda: os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC), PurePosixPath("."))
    try:
        for name in parts[:-1]:
            child = _enter(dir_fd, name, make_parents, rel)
            os.close(dir_fd)
            dir_fd = child
        if not parts:
            return os.dup(dir_fd)
        name = parts[-1]
        return _checked_open(
            lambda: os.open(name, flags | _O_NOFOLLOW | _O_CLOEXEC, mode, dir_fd=dir_fd), rel)
    finally:
        os.close(dir_fd)


def _enter(dir_fd: int, name: str, make: bool, rel: PurePosixPath) -> int:
    """Open the sub-directory ``name`` of ``dir_fd``, creating it if asked; never through a link."""
    if make:
        try:
            os.mkdir(name, 0o755, dir_fd=dir_fd)
        except FileExistsError:
            pass
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise ToolError("path_not_allowed",
                        f"{display(rel)!r} goes through a symbolic link that changed; refusing to follow it")
    return _checked_open(lambda: os.open(
        name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=dir_fd), rel)


def _checked_open(opener: Callable[[], int], rel: PurePosixPath) -> int:
    """Run ``opener`` (an ``os.open``), turning each way it can fail into the tool error that says why."""
    try:
        return opener()
    except FileNotFoundError:
        raise ToolError("not_found", f"{display(rel)!r} does not exist in the workspace") from None
    except NotADirectoryError:
        raise ToolError("not_a_directory", f"a parent of {display(rel)!r} is not a directory") from None
    except IsADirectoryError:
        raise ToolError("is_a_directory", f"{display(rel)!r} is a directory") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise ToolError("path_not_allowed",
                            f"{display(rel)!r} changed into a symbolic link; refusing to follow it") from None
        raise ToolError("io_error", f"{display(rel)!r}: {exc.strerror}") from None


def require_regular(fd: int, rel: PurePosixPath) -> os.stat_result:
    """Refuse directories, devices and FIFOs once opened (fstat sees what was really opened)."""
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise ToolError("is_a_directory", f"{display(rel)!r} is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ToolError("not_a_file", f"{display(rel)!r} is not a regular file")
    return info
