"""/v1/tools over real HTTP: the catalogue, inspect, audited invoke of every built-in, and the rules."""

from __future__ import annotations

import pytest

BUILTINS = ["current_time", "calculator", "memory_search", "memory_save", "delegate", "list_files", "read_file",
            "write_file", "http_get"]


def invoke(api, tool, arguments, **extra):
    return api.post(f"/v1/tools/{tool}/invoke", json={"arguments": arguments, **extra})


def test_the_catalogue_lists_every_builtin_enabled_with_its_schema(api):
    listed = api.get("/v1/tools").json()
    assert [t["id"] for t in listed["data"]] == BUILTINS and listed["has_more"] is False
    for t in listed["data"]:
        assert t["object"] == "tool" and t["name"] == t["id"] and t["enabled"] is True and t["builtin"] is True
        assert t["parameters"]["type"] == "object" and t["permission"] in ("auto", "admin")
    first = api.get("/v1/tools", params={"limit": 4}).json()
    rest = api.get("/v1/tools", params={"limit": 200, "cursor": first["next_cursor"]}).json()
    assert [t["id"] for t in first["data"] + rest["data"]] == BUILTINS
    assert api.get("/v1/tools", params={"cursor": "garbage!"}).json()["error"]["code"] == "validation_error"


def test_inspect_shows_which_agents_use_a_tool(api):
    delegate = api.get("/v1/tools/delegate").json()
    assert delegate["parameters"]["required"] == ["agent", "task"]
    assert [a["name"] for a in delegate["used_by"]] == ["prime"]
    assert {a["name"] for a in api.get("/v1/tools/read_file").json()["used_by"]} == {
        "researcher", "writer", "developer", "analyst"}
    assert api.get("/v1/tools/nope").status_code == 404


def test_agents_accept_only_known_tools(api):
    bad = api.post("/v1/agents", json={"name": "tinkerer", "tools": ["calculator", "teleport"]})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "tools"
    agent = api.post("/v1/agents", json={"name": "tinkerer", "tools": ["calculator"]}).json()
    assert api.patch(f"/v1/agents/{agent['id']}", json={"tools": ["teleport"]}).status_code == 400
    assert api.get(f"/v1/agents/{agent['id']}").json()["tools"] == ["calculator"]


def test_offline_builtins_through_invoke(api, server):
    now = invoke(api, "current_time", {"timezone": "Europe/Paris"}).json()
    assert now["ok"] is True and isinstance(now["duration_ms"], int) and "Paris" in str(now["result"])
    assert invoke(api, "calculator", {"expression": "(2 + 3) * 7"}).json()["result"]["result"] == 35
    failed = invoke(api, "calculator", {"expression": "1/0"})
    assert failed.status_code == 200 and failed.json()["ok"] is False
    assert failed.json()["error"]["code"] == "math_error"

    written = invoke(api, "write_file", {"path": "notes/plan.md", "content": "step one"}).json()
    assert written["ok"] is True
    assert (server.ctx.config.workspace_dir / "default" / "notes" / "plan.md").read_text() == "step one"
    listing = invoke(api, "list_files", {"path": "notes"}).json()["result"]
    assert [e["name"] for e in listing["entries"]] == ["plan.md"]
    assert "step one" in str(invoke(api, "read_file", {"path": "notes/plan.md"}).json()["result"])


def test_memory_tools_through_invoke(api, server):
    saved = invoke(api, "memory_save", {"content": "The user prefers tea", "kind": "preference"},
                   agent_id="prime").json()
    found = invoke(api, "memory_search", {"query": "tea"}, agent_id="prime").json()
    if server.ctx.memory is None:  # the memory service is not part of this build yet
        assert saved["error"]["code"] == found["error"]["code"] == "memory_unavailable"
    else:
        assert saved["ok"] is True and found["ok"] is True
        assert any("tea" in str(m) for m in found["result"]["results"])


def test_delegate_through_invoke_runs_the_other_agent(api, fake):
    answer = invoke(api, "delegate", {"agent": "researcher", "task": "Find the capital of France"},
                    agent_id="prime").json()
    assert answer == {"ok": True, "result": {"agent": "researcher", "answer": "Find the capital of France"},
                      "duration_ms": answer["duration_ms"]}
    assert "Find the capital of France" in str(fake.chat_requests()[-1].body["messages"])
    sessions = api.get("/v1/sessions", params={"channel": "task"}).json()["data"]
    assert sessions and sessions[0]["title"] == "Task from prime"
    stored = api.get("/v1/messages", params={"session_id": sessions[0]["id"]}).json()["data"]
    assert [(m["role"], m["content"]) for m in stored] == [("user", "Find the capital of France"),
                                                          ("assistant", "Find the capital of France")]
    unknown = invoke(api, "delegate", {"agent": "nobody", "task": "x"}, agent_id="prime").json()
    assert unknown["ok"] is False and unknown["error"]["code"] == "not_found"
    itself = invoke(api, "delegate", {"agent": "prime", "task": "x"}, agent_id="prime").json()
    assert itself["error"]["code"] == "self_delegation"


@pytest.mark.parametrize("tool, arguments, param", [
    ("calculator", {}, "expression"),
    ("calculator", {"expression": 42}, "expression"),
    ("read_file", {"path": "a", "mode": "x"}, "mode"),
    ("memory_search", {"query": "q", "max_results": 0}, "max_results"),
])
def test_bad_arguments_are_422_naming_the_field(api, tool, arguments, param):
    r = invoke(api, tool, arguments)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_arguments" and r.json()["error"]["param"] == param


def test_invoke_body_rules(api):
    assert api.post("/v1/tools/calculator/invoke", json={"args": {}}).json()["error"]["code"] == "validation_error"
    assert api.post("/v1/tools/calculator/invoke", json={"arguments": []}).status_code == 400
    assert api.post("/v1/tools/nope/invoke", json={"arguments": {}}).status_code == 404
    assert invoke(api, "memory_search", {"query": "x"}, agent_id="ghost").status_code == 404


def test_a_user_token_may_look_but_not_invoke(server):
    user_token = server.ctx.tokens.issue("default", "user", label="user")
    with server.client(user_token) as user:
        assert user.get("/v1/tools").status_code == 200
        assert user.get("/v1/tools/calculator").status_code == 200
        r = user.post("/v1/tools/calculator/invoke", json={"arguments": {"expression": "1+1"}})
        assert r.status_code == 403 and r.json()["error"]["code"] == "admin_only"
        assert user.get("/v1/tools/calculator/invocations").status_code == 403


def test_every_invocation_is_audited_with_a_digest_not_the_whole_arguments(api, server):
    big = "x" * 10_000
    invoke(api, "write_file", {"path": "big.txt", "content": big})
    invoke(api, "write_file", {"path": "../out.txt", "content": "no"})
    invoke(api, "write_file", {"path": "a.txt"})  # 422
    rows = api.get("/v1/tools/write_file/invocations", params={"limit": 3}).json()["data"]
    assert [(r["ok"], r["error_code"]) for r in rows] == [(False, "invalid_arguments"), (False, "path_not_allowed"),
                                                           (True, None)]
    token_id = server.ctx.tokens.authenticate(server.admin_token).token_id
    assert {r["invoked_by"] for r in rows} == {token_id}
    assert len(rows[2]["arguments"]) < 2100 and len(rows[2]["arguments_sha256"]) == 64
    assert all(r["duration_ms"] >= 0 and r["created_at"] for r in rows)
    # another tenant sees none of them
    other = server.ctx.tokens.issue("other", "admin", label="other")
    with server.client(other) as them:
        assert them.get("/v1/tools/write_file/invocations").json()["data"] == []
