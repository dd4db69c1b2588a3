"""Each tenant's file tools work in a folder of their own; files of the shared layout move to the default tenant.

Through the real server: direct invocation (``POST /v1/tools/{id}/invoke``) and agent runs whose model (the
fake upstream) calls the file tools.
"""

from __future__ import annotations

import json
import shutil

import httpx
import pytest

from qorven_local.tools.workspaces import folder_name
from tests.fakes import Reply
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream


def invoke(api: httpx.Client, tool: str, **arguments: str) -> dict:
    r = api.post(f"/v1/tools/{tool}/invoke", json={"arguments": arguments})
    assert r.status_code == 200, r.text
    return r.json()


def test_another_tenant_cannot_list_read_or_overwrite_a_file_through_invoke(server, admin):
    assert invoke(admin, "write_file", path="plans/secret.txt", content="tenant A only")["ok"]
    with server.client(server.ctx.tokens.issue("acme", "admin")) as other:
        listed = invoke(other, "list_files")
        assert listed["ok"] and listed["result"]["entries"] == []
        assert invoke(other, "list_files", path="plans")["error"]["code"] == "not_found"
        assert invoke(other, "read_file", path="plans/secret.txt")["error"]["code"] == "not_found"
        written = invoke(other, "write_file", path="plans/secret.txt", content="overwritten by B")
        assert written["ok"] and written["result"]["created"] is True
        assert invoke(other, "read_file", path="plans/secret.txt")["result"]["content"] == "overwritten by B"
    assert invoke(admin, "read_file", path="plans/secret.txt")["result"]["content"] == "tenant A only"
    assert (server.home / "workspace" / "default" / "plans" / "secret.txt").read_text() == "tenant A only"
    assert (server.home / "workspace" / "acme" / "plans" / "secret.txt").read_text() == "overwritten by B"


def test_an_agent_run_of_another_tenant_cannot_see_or_touch_a_file(server, admin, fake):
    assert invoke(admin, "write_file", path="secret.txt", content="tenant A only")["ok"]
    with server.client(server.ctx.tokens.issue("acme", "admin")) as other_admin:
        configure_upstream(other_admin, fake)
    fake.enqueue(
        Reply.tool_calls([{"id": "call_ls", "name": "list_files", "arguments": {}},
                          {"id": "call_read", "name": "read_file", "arguments": {"path": "secret.txt"}},
                          {"id": "call_write", "name": "write_file",
                           "arguments": {"path": "secret.txt", "content": "overwritten by B"}}]),
        Reply.text("done"))
    with server.client(server.ctx.tokens.issue("acme", "user")) as user:
        r = user.post("/v1/chat/completions", json={"agent_id": "developer", "message": "look around"})
    assert r.status_code == 200, r.text
    calls = {c["call_id"]: c for c in r.json()["qorven"]["tool_calls"]}
    assert calls["call_ls"]["ok"] and calls["call_ls"]["result"]["entries"] == []
    assert calls["call_read"]["error"]["code"] == "not_found"
    assert calls["call_write"]["ok"] and calls["call_write"]["result"]["created"] is True
    assert invoke(admin, "read_file", path="secret.txt")["result"]["content"] == "tenant A only"


def test_files_of_the_shared_layout_move_into_the_default_tenants_folder_once(tmp_path):
    home = tmp_path / "home"
    old = home / "workspace"
    (old / "notes").mkdir(parents=True)
    (old / "notes" / "todo.md").write_text("- ship it")
    (old / "report.txt").write_text("q3 numbers")
    (old / "default").mkdir()  # a user folder that happens to share the default tenant's name
    (old / "default" / "kept.txt").write_text("mine")
    for _ in range(2):  # a second start must leave the moved files where they are
        with InProcessServer(home) as server, server.client() as admin:
            assert invoke(admin, "read_file", path="notes/todo.md")["result"]["content"] == "- ship it"
            assert invoke(admin, "read_file", path="report.txt")["result"]["content"] == "q3 numbers"
            assert invoke(admin, "read_file", path="default/kept.txt")["result"]["content"] == "mine"
            listed = invoke(admin, "list_files")["result"]["entries"]
            assert sorted(e["name"] for e in listed) == ["default", "notes", "report.txt"]
    assert (old / "default" / "report.txt").read_text() == "q3 numbers"
    assert sorted(p.name for p in old.iterdir() if not p.name.startswith(".")) == ["default"]


def test_a_tool_result_never_names_the_data_root(server, admin):
    shutil.rmtree(server.home / "workspace")  # a file in its place makes every file tool fail on the folder
    (server.home / "workspace").write_text("not a folder")
    outcome = invoke(admin, "list_files")
    assert not outcome["ok"]
    assert outcome["error"]["code"] == "io_error", outcome
    assert str(server.home) not in json.dumps(outcome) and "qorven-home" not in json.dumps(outcome)


def test_a_move_cut_short_by_a_crash_finishes_on_the_next_start_without_overwriting(tmp_path):
    root = tmp_path / "home" / "workspace"
    (root / ".moving-to-default").mkdir(parents=True)  # a start that died after marking the move
    (root / ".moving-to-default" / "a.txt").write_text("from the old layout")
    (root / ".per-tenant").write_text("")
    (root / "default").mkdir()
    (root / "default" / "a.txt").write_text("already the default tenant's")
    with InProcessServer(tmp_path / "home") as server, server.client() as admin:
        assert invoke(admin, "read_file", path="a.txt")["result"]["content"] == "already the default tenant's"
        assert invoke(admin, "read_file", path="a.txt.moved-1")["result"]["content"] == "from the old layout"
    assert not (root / ".moving-to-default").exists()


def test_tenant_folder_names_are_single_safe_components():
    assert folder_name("acme") == "acme" and folder_name("nul") == "_nul" and folder_name("com1") == "_com1"
    for bad in ("../x", "a/b", "", ".hidden", "Upper", "x" * 64):
        with pytest.raises(ValueError):
            folder_name(bad)
