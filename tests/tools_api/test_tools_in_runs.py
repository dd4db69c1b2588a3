"""Every built-in tool called by an agent run that the fake provider drives, and per-agent tool lists."""

from __future__ import annotations

import json

import pytest

from tests.fakes import Reply
from tests.tools_api.stack import LocalSite, agent_requests

ALL_BUT_DELEGATE = ["current_time", "calculator", "memory_search", "memory_save", "list_files", "read_file",
                    "write_file", "http_get"]


@pytest.fixture(scope="module")
def toolbox(stack):
    with stack[0].client() as api:
        r = api.post("/v1/agents", json={"name": "toolbox", "instructions": "You are Toolbox.", "memory": {"enabled": False},
                                         "tools": ALL_BUT_DELEGATE})
        assert r.status_code == 201, r.text
        return r.json()


def run_with_tool_call(api, fake, agent: str, tool: str, arguments: dict) -> dict:
    """One Qorven-form chat turn in which the model calls ``tool`` once, then answers 'done'."""
    fake.enqueue(Reply.tool_calls([{"id": "call_1", "name": tool, "arguments": arguments}]), Reply.text("done"))
    r = api.post("/v1/chat/completions", json={"agent_id": agent, "message": f"use {tool}", "stream": False})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "done"
    calls = r.json()["qorven"]["tool_calls"]
    assert [c["tool"] for c in calls] == [tool]
    # the model saw the result as a tool message answering its call
    tool_message = fake.chat_requests()[-1].body["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"
    return calls[0]


def test_offline_tools_in_a_run(api, fake, toolbox, server):
    assert run_with_tool_call(api, fake, "toolbox", "current_time", {})["ok"] is True
    assert run_with_tool_call(api, fake, "toolbox", "calculator", {"expression": "6*7"})["result"]["result"] == 42
    assert run_with_tool_call(api, fake, "toolbox", "write_file", {"path": "run/a.txt", "content": "hi"})["ok"]
    assert (server.ctx.config.workspace_dir / "default" / "run" / "a.txt").read_text() == "hi"
    listed = run_with_tool_call(api, fake, "toolbox", "list_files", {"path": "run"})
    assert [e["name"] for e in listed["result"]["entries"]] == ["a.txt"]
    assert "hi" in str(run_with_tool_call(api, fake, "toolbox", "read_file", {"path": "run/a.txt"})["result"])


def test_memory_tools_in_a_run(api, fake, toolbox, server):
    saved = run_with_tool_call(api, fake, "toolbox", "memory_save", {"content": "Likes green", "kind": "preference"})
    found = run_with_tool_call(api, fake, "toolbox", "memory_search", {"query": "green"})
    if server.ctx.memory is None:
        assert saved["error"]["code"] == found["error"]["code"] == "memory_unavailable"
    else:
        assert saved["ok"] and found["ok"]


def test_http_get_in_a_run_is_refused_for_loopback(api, fake, toolbox):
    site = LocalSite()
    try:
        call = run_with_tool_call(api, fake, "toolbox", "http_get", {"url": site.url("/page")})
    finally:
        site.close()
    assert call["ok"] is False and call["error"]["code"] == "url_blocked" and site.hits == []


def test_failures_are_results_the_model_sees_not_crashed_runs(api, fake, toolbox):
    bad = run_with_tool_call(api, fake, "toolbox", "read_file", {"path": "../../etc/passwd"})
    assert bad["ok"] is False and bad["error"]["code"] == "path_not_allowed"
    wrong = run_with_tool_call(api, fake, "toolbox", "calculator", {"expr": "1"})
    assert wrong["ok"] is False and wrong["error"]["code"] == "invalid_arguments"
    assert "path_not_allowed" in json.dumps(fake.chat_requests()[-3].body["messages"][-1])


def test_an_agent_uses_only_its_listed_tools(api, fake):
    api.post("/v1/agents", json={"name": "counter", "instructions": "You are Counter.", "tools": ["calculator"],
                                 "memory": {"enabled": False}})
    call = run_with_tool_call(api, fake, "counter", "read_file", {"path": "run/a.txt"})
    assert call["ok"] is False and call["error"]["code"] == "unknown_tool"
    offered = [t["function"]["name"] for t in fake.chat_requests()[0].body["tools"]]
    assert offered == ["calculator"]
    assert "hi" not in json.dumps(call)


def test_prime_is_offered_delegate_and_memory_by_default(api, fake):
    fake.enqueue(Reply.text("hello"))
    api.post("/v1/chat/completions", json={"agent_id": "prime", "message": "hi", "stream": False})
    offered = {t["function"]["name"] for t in agent_requests(fake, "Prime")[-1]["tools"]}
    assert {"delegate", "memory_search", "memory_save"} <= offered
    assert "write_file" not in offered
