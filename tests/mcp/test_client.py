"""Qorven as an MCP client: a tiny FastMCP stdio server (tests/mcp/tiny_server.py) and Qorven's own
/mcp over HTTP, registered through the API, listed, invoked directly and by an agent in a run,
restarted after a crash, stopped with the app."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes import Reply
from tests.support.servers import InProcessServer
from tests.support.wait import wait_until

TINY = str(Path(__file__).with_name("tiny_server.py"))


def tiny_spec(name: str = "tiny", **extra) -> dict:
    return {"name": name, "transport": "stdio", "command": sys.executable, "args": [TINY], **extra}


@pytest.fixture(scope="module")
def tiny(stack):
    """The tiny server, added once for the module (adding it connects and lists its tools)."""
    with stack[0].client() as api:
        r = api.post("/v1/mcp/servers", json=tiny_spec(env={"TINY_SECRET": "s3cret-value-42"}))
        assert r.status_code == 201, r.text
        yield r.json()
        api.delete(f"/v1/mcp/servers/{r.json()['id']}")


def whoami(api) -> int:
    """The tiny server's pid (its dict answer arrives as JSON text: FastMCP gives no schema for a bare dict)."""
    r = api.post("/v1/tools/mcp.tiny.whoami/invoke", json={"arguments": {}})
    assert r.status_code == 200 and r.json()["ok"], r.text
    return json.loads(r.json()["result"])["pid"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_added_server_is_connected_and_its_tools_are_in_the_catalogue(api, tiny, server):
    assert tiny["status"] == "connected" and tiny["error"] is None
    assert sorted(tiny["tools"]) == ["add", "crash", "shout", "whoami"]
    assert "env" not in tiny and "s3cret" not in api.get(f"/v1/mcp/servers/{tiny['id']}").text
    stored = server.ctx.db.scalar("SELECT secrets FROM mcp_servers WHERE id = ?", (tiny["id"],))
    assert stored and "s3cret" not in stored  # encrypted at rest
    tools = {t["id"]: t for t in api.get("/v1/tools", params={"limit": 200}).json()["data"]}
    add = tools["mcp.tiny.add"]
    assert add["description"] == "Add two integers and return their sum." and add["builtin"] is False
    assert add["parameters"]["required"] == ["a", "b"]
    assert api.get("/v1/tools/mcp.tiny.add").json()["used_by"] == []


def test_invoked_directly_validated_and_audited(api, tiny):
    r = api.post("/v1/tools/mcp.tiny.add/invoke", json={"arguments": {"a": 2, "b": 40}})
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["result"] == {"result": 42}
    bad = api.post("/v1/tools/mcp.tiny.add/invoke", json={"arguments": {"a": "two"}})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_arguments"
    trail = api.get("/v1/tools/mcp.tiny.add/invocations").json()["data"]
    assert [(t["ok"], t["error_code"]) for t in trail[:2]] == [(False, "invalid_arguments"), (True, None)]


def test_results_are_size_capped(api, tiny):
    from qorven_local.mcp.service import MAX_RESULT_CHARS

    r = api.post("/v1/tools/mcp.tiny.shout/invoke", json={"arguments": {"text": "a" * (MAX_RESULT_CHARS + 10)}})
    result = r.json()["result"]
    assert result["truncated"] is True and len(result["text"]) == MAX_RESULT_CHARS


def test_an_agent_calls_the_tool_inside_a_run(api, fake, tiny):
    r = api.post("/v1/agents", json={"name": "mathy", "instructions": "You are Mathy.", "tools": ["mcp.tiny.add"],
                                     "memory": {"enabled": False}})
    assert r.status_code == 201, r.text
    fake.enqueue(Reply.tool_calls([{"id": "call_1", "name": "mcp__tiny__add", "arguments": {"a": 20, "b": 22}}]),
                 Reply.text("It is 42."))
    chat = api.post("/v1/chat/completions", json={"agent_id": "mathy", "message": "20+22?", "stream": False})
    assert chat.status_code == 200, chat.text
    assert chat.json()["choices"][0]["message"]["content"] == "It is 42."
    [call] = chat.json()["qorven"]["tool_calls"]
    assert call["tool"] == "mcp.tiny.add" and call["ok"] and call["result"] == {"result": 42}
    first, second = (req.body for req in fake.chat_requests()[-2:])
    offered = next(t["function"] for t in first["tools"] if t["function"]["name"] == "mcp__tiny__add")
    assert offered["description"] == "Add two integers and return their sum."
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": '{"result": 42}'}
    assert api.get("/v1/tools/mcp.tiny.add").json()["used_by"][0]["name"] == "mathy"


def test_a_killed_server_is_restarted_on_the_next_call(api, tiny):
    before = whoami(api)
    os.kill(before, signal.SIGKILL)  # only the tiny server's own process
    wait_until(lambda: not alive(before) or _reaped(before), timeout=10, message="the killed server still runs")
    assert whoami(api) != before
    assert api.get(f"/v1/mcp/servers/{tiny['id']}").json()["status"] == "connected"


def test_a_crash_during_a_call_is_a_tool_error_shown_in_status_then_restarted(api, tiny):
    crashed = api.post("/v1/tools/mcp.tiny.crash/invoke", json={"arguments": {}})
    assert crashed.status_code == 200 and crashed.json()["ok"] is False
    assert crashed.json()["error"]["code"] == "mcp_unavailable"
    state = api.get(f"/v1/mcp/servers/{tiny['id']}").json()
    assert state["status"] == "error" and "tiny: crashing on purpose" in state["error"]
    assert whoami(api) > 0
    assert api.get(f"/v1/mcp/servers/{tiny['id']}").json()["status"] == "connected"


def _reaped(pid: int) -> bool:
    """A killed child stays a zombie until its parent waits; /proc says so on Linux."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_errors_show_in_status_and_error(api):
    r = api.post("/v1/mcp/servers", json={"name": "broken", "transport": "stdio",
                                         "command": "/nonexistent/mcp-server-binary"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "error" and "not found" in r.json()["error"].lower()
    crash = api.post("/v1/mcp/servers", json={"name": "crashy", "transport": "stdio", "command": sys.executable,
                                             "args": ["-c", "import sys; sys.stderr.write('boom: no config\\n'); "
                                                            "sys.exit(3)"]})
    assert crash.json()["status"] == "error" and "boom: no config" in crash.json()["error"]
    disabled = api.patch(f"/v1/mcp/servers/{crash.json()['id']}", json={"enabled": False}).json()
    assert disabled["status"] == "disabled"
    for s in (r.json(), crash.json()):
        assert api.delete(f"/v1/mcp/servers/{s['id']}").status_code == 200


def test_bad_input_is_a_clear_4xx(api, tiny):
    cases = [({"name": "Bad Name", "transport": "stdio", "command": "x"}, 400, "validation_error"),
             ({"name": "nocmd", "transport": "stdio"}, 400, "validation_error"),
             ({"name": "nourl", "transport": "http"}, 400, "validation_error"),
             ({"name": "ftp", "transport": "http", "url": "ftp://example.com/mcp"}, 400, "validation_error"),
             ({"name": "tiny", "transport": "stdio", "command": "x"}, 409, "conflict")]
    for body, status, code in cases:
        r = api.post("/v1/mcp/servers", json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
    assert api.get("/v1/mcp/servers/mcp_nope").status_code == 404
    assert api.post("/v1/agents", json={"name": "ghost", "tools": ["mcp.tiny.nope"]}).status_code == 400


def test_user_tokens_read_but_do_not_write(server, tiny):
    user = server.ctx.tokens.issue("default", "user", label="mcp reader")
    with server.client(token=user) as api:
        assert [s["name"] for s in api.get("/v1/mcp/servers").json()["data"]] == ["tiny"]
        assert api.post("/v1/mcp/servers", json=tiny_spec("mine")).status_code == 403
        assert api.post(f"/v1/mcp/servers/{tiny['id']}/test").status_code == 403


def test_an_http_server_with_write_only_headers(api, server, fake):
    """Qorven's own /mcp registered as an HTTP MCP server: the SDK's streamable-HTTP client path."""
    r = api.post("/v1/mcp/servers", json={"name": "self", "transport": "http", "url": server.url + "/mcp",
                                         "headers": {"Authorization": f"Bearer {server.admin_token}"}})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "connected" and "list_agents" in r.json()["tools"]
    assert server.admin_token not in api.get(f"/v1/mcp/servers/{r.json()['id']}").text
    agents = api.post("/v1/tools/mcp.self.list_agents/invoke", json={"arguments": {}}).json()
    assert "prime" in {a["name"] for a in agents["result"]["agents"]}
    # an agent calls it inside a run, through the same headers
    made = api.post("/v1/agents", json={"name": "selfish", "tools": ["mcp.self.memory_search"],
                                        "memory": {"enabled": False}})
    assert made.status_code == 201, made.text
    api.post("/v1/memory/save", json={"content": "The boiler is serviced every October.", "scope": "workspace"})
    fake.enqueue(Reply.tool_calls([{"id": "call_s", "name": "mcp__self__memory_search",
                                    "arguments": {"query": "when is the boiler serviced"}}]),
                 Reply.text("Every October."))
    chat = api.post("/v1/chat/completions", json={"agent_id": "selfish", "message": "Boiler?", "stream": False})
    assert chat.status_code == 200, chat.text
    [call] = chat.json()["qorven"]["tool_calls"]
    assert call["tool"] == "mcp.self.memory_search" and call["ok"], call
    assert call["result"]["results"][0]["content"] == "The boiler is serviced every October."
    assert "The boiler is serviced every October." in fake.chat_requests()[-1].body["messages"][-1]["content"]
    wrong = api.patch(f"/v1/mcp/servers/{r.json()['id']}", json={"headers": {"Authorization": "Bearer qvn_wrong"}})
    assert wrong.json()["status"] == "error"
    assert wrong.json()["error"] == "the server refused the credentials (HTTP 401): check the headers (Authorization)"
    tested = api.post(f"/v1/mcp/servers/{r.json()['id']}/test").json()
    assert tested["ok"] is False and tested["server"]["status"] == "error"
    assert api.delete(f"/v1/mcp/servers/{r.json()['id']}").status_code == 200
    assert "mcp.self.list_agents" not in {t["id"] for t in api.get("/v1/tools", params={"limit": 200}).json()["data"]}


def test_an_http_url_that_is_no_mcp_server_or_where_nothing_answers_says_so(api, server):
    cases = {"notmcp": (server.url + "/v1/nothing-here", "the server answered HTTP 404 Not Found at "),
             "nowhere": ("http://127.0.0.1:9/mcp", "nothing answers there")}
    for name, (url, expected) in cases.items():
        r = api.post("/v1/mcp/servers", json={"name": name, "transport": "http", "url": url,
                                             "headers": {"Authorization": f"Bearer {server.admin_token}"}})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "error" and r.json()["error"].startswith(expected), r.json()
        assert api.delete(f"/v1/mcp/servers/{r.json()['id']}").status_code == 200


def test_servers_are_per_tenant_and_stop_with_the_app(tmp_path):
    with InProcessServer(tmp_path / "home") as srv:
        with srv.client() as api:
            assert api.post("/v1/mcp/servers", json=tiny_spec()).json()["status"] == "connected"
            pid = whoami(api)
        other = srv.ctx.tokens.issue("other", "admin", label="tenant two")
        with srv.client(token=other) as api:
            assert api.get("/v1/mcp/servers").json()["data"] == []
            assert api.post("/v1/tools/mcp.tiny.whoami/invoke", json={"arguments": {}}).status_code == 404
        assert alive(pid)
    wait_until(lambda: not alive(pid) or _reaped(pid), timeout=10, message="the MCP child outlived the app")
