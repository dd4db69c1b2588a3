"""list_files / read_file / write_file stay inside the workspace, whatever the path says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the workspace with a secret the tools must never read or overwrite."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("top secret")
    return path


def call(registry, ctx, name, **arguments):
    return registry.invoke(name, arguments, ctx)


def test_write_read_and_list_round_trip(registry, ctx, workspace):
    written = call(registry, ctx, "write_file", path="notes/2026/plan.md", content="# Plan\nshipé\n")
    assert written.ok and written.result == {"path": "notes/2026/plan.md", "bytes": 14, "created": True}
    assert (workspace / "notes/2026/plan.md").read_text(encoding="utf-8") == "# Plan\nshipé\n"
    again = call(registry, ctx, "write_file", path="./notes/2026/plan.md", content="v2")
    assert again.result["created"] is False and (workspace / "notes/2026/plan.md").read_text() == "v2"
    read = call(registry, ctx, "read_file", path="notes/2026/plan.md")
    assert read.result == {"path": "notes/2026/plan.md", "content": "v2", "bytes": 2}
    root = call(registry, ctx, "list_files")
    assert root.result == {"path": ".", "entries": [{"name": "notes", "type": "dir"}], "truncated": False}
    sub = call(registry, ctx, "list_files", path="notes/2026")
    assert sub.result["entries"] == [{"name": "plan.md", "type": "file", "size": 2}]


def test_workspace_folder_is_created_on_first_use(registry, make_ctx, tmp_path):
    ctx = make_ctx(workspace_dir=tmp_path / "fresh" / "ws")
    assert call(registry, ctx, "list_files").result["entries"] == []
    assert (tmp_path / "fresh" / "ws").is_dir()


@pytest.mark.parametrize("path", ["../../etc/passwd", "../outside/secret.txt", "a/../../outside/secret.txt",
                                  "..", "/etc/passwd", "C:\\Windows\\win.ini", "\\\\server\\share\\x"])
def test_escaping_paths_are_refused_for_every_file_tool(registry, ctx, outside, workspace, path):
    for name, extra in (("read_file", {}), ("list_files", {}), ("write_file", {"content": "pwned"})):
        result = call(registry, ctx, name, path=path, **extra)
        assert not result.ok and result.error["code"] == "path_not_allowed", (name, result.error)
    assert (outside / "secret.txt").read_text() == "top secret"
    assert list(workspace.iterdir()) == []


def test_absolute_path_to_the_workspace_itself_is_refused(registry, ctx, workspace):
    result = call(registry, ctx, "read_file", path=str(workspace / "x.txt"))
    assert result.error["code"] == "path_not_allowed" and "relative" in result.error["message"]


def test_symlink_to_a_file_outside_is_refused(registry, ctx, outside, workspace):
    (workspace / "link.txt").symlink_to(outside / "secret.txt")
    read = call(registry, ctx, "read_file", path="link.txt")
    assert read.error["code"] == "path_not_allowed" and "outside" in read.error["message"]
    write = call(registry, ctx, "write_file", path="link.txt", content="pwned")
    assert write.error["code"] == "path_not_allowed"
    assert (outside / "secret.txt").read_text() == "top secret"


def test_symlinked_directory_pointing_outside_is_refused(registry, ctx, outside, workspace):
    (workspace / "linked").symlink_to(outside, target_is_directory=True)
    assert call(registry, ctx, "list_files", path="linked").error["code"] == "path_not_allowed"
    assert call(registry, ctx, "read_file", path="linked/secret.txt").error["code"] == "path_not_allowed"
    write = call(registry, ctx, "write_file", path="linked/new/planted.txt", content="pwned")
    assert write.error["code"] == "path_not_allowed"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    # Listing the root shows the link as a link, without following it.
    assert call(registry, ctx, "list_files").result["entries"] == [{"name": "linked", "type": "symlink"}]


def test_symlinked_workspace_root_still_works(registry, make_ctx, workspace, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(workspace, target_is_directory=True)
    ctx = make_ctx(workspace_dir=alias)
    assert call(registry, ctx, "write_file", path="a.txt", content="hi").ok
    assert (workspace / "a.txt").read_text() == "hi"


def test_symlink_swapped_in_after_the_check_is_not_followed(ctx, outside, workspace):
    """The race the O_NOFOLLOW walk exists for: the checked path later becomes a link."""
    from qorven_local.tools.builtin import _workspace as ws
    from qorven_local.tools.registry import ToolError

    (workspace / "d").mkdir()
    root, rel = ws.resolve(ctx, "d/file.txt")
    (workspace / "d").rmdir()
    (workspace / "d").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ToolError) as caught:
        ws.open_at(root, rel, os.O_WRONLY | os.O_CREAT)
    assert caught.value.code in ("path_not_allowed", "not_a_directory")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_read_errors_are_clear(registry, make_ctx, workspace):
    ctx = make_ctx(settings={"file_max_bytes": 10})
    (workspace / "big.txt").write_text("x" * 11)
    (workspace / "bin.dat").write_bytes(b"\xff\xfe\x00\x01")
    (workspace / "dir").mkdir()
    assert call(registry, ctx, "read_file", path="missing.txt").error["code"] == "not_found"
    assert call(registry, ctx, "read_file", path="big.txt").error["code"] == "file_too_large"
    assert call(registry, ctx, "read_file", path="bin.dat").error["code"] == "not_text"
    assert call(registry, ctx, "read_file", path="dir").error["code"] == "is_a_directory"
    assert call(registry, ctx, "list_files", path="big.txt").error["code"] == "not_a_directory"
    assert call(registry, ctx, "list_files", path="nope").error["code"] == "not_found"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_hanging(registry, ctx, workspace):
    os.mkfifo(workspace / "pipe")
    assert call(registry, ctx, "read_file", path="pipe").error["code"] == "not_a_file"


def test_write_errors_are_clear(registry, make_ctx, workspace):
    ctx = make_ctx(settings={"file_max_bytes": 10})
    big = call(registry, ctx, "write_file", path="big.txt", content="é" * 6)  # 12 bytes in UTF-8
    assert big.error["code"] == "content_too_large" and not (workspace / "big.txt").exists()
    (workspace / "dir").mkdir()
    assert call(registry, ctx, "write_file", path="dir", content="x").error["code"] == "is_a_directory"
    assert call(registry, ctx, "write_file", path=".", content="x").error["code"] == "is_a_directory"
    (workspace / "file").write_text("keep")
    under_file = call(registry, ctx, "write_file", path="file/child.txt", content="x")
    assert under_file.error["code"] == "not_a_directory" and (workspace / "file").read_text() == "keep"


def test_listing_is_capped(registry, make_ctx, workspace):
    for i in range(5):
        (workspace / f"f{i}.txt").write_text("x")
    result = call(registry, make_ctx(settings={"list_max_entries": 3}), "list_files")
    assert [e["name"] for e in result.result["entries"]] == ["f0.txt", "f1.txt", "f2.txt"]
    assert result.result["truncated"] is True
