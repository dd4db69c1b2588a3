"""Delegation prime → researcher on the full stack: nested tool events in the stream, messages in both sessions.

Child runs are plan-runs: the server allows three concurrent ones, so the two-level chain (three runs)
fits. A child that finds no free slot fails its ``delegate`` call instead of waiting
(``tests/security/test_run_budgets.py``).
"""

from __future__ import annotations

import json

import pytest

from tests.fakes import Reply
from tests.tools_api.stack import agent_requests, agent_stack, last_user_text, sse


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with agent_stack(tmp_path_factory.mktemp("delegation") / "home", {"max_runs_per_tenant": "3"}) as pair:
        yield pair


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory):
    with agent_stack(tmp_path_factory.mktemp("one-slot") / "home", {"max_runs_per_tenant": "1"}) as pair:
        yield pair


def script_chain(fake, task="Find the boiling point of water"):
    fake.enqueue(
        Reply.tool_calls([{"id": "call_prime_1", "name": "delegate", "arguments": {"agent": "researcher", "task": task}}]),
        Reply.tool_calls([{"id": "call_res_1", "name": "current_time", "arguments": {"timezone": "UTC"}},
                          {"id": "call_res_2", "name": "read_file", "arguments": {"path": "../../etc/passwd"}}]),
        Reply.text("Water boils at 100 C at sea level."),
        Reply.text("The researcher says: 100 C."))


def test_a_delegation_chain_streams_nested_tool_events_and_stores_both_sessions(stack, fake):
    server, _ = stack
    script_chain(fake)
    with server.client() as api:
        with api.stream("POST", "/v1/chat/completions",
                        json={"agent_id": "prime", "message": "How hot does water boil?", "stream": True}) as r:
            assert r.status_code == 200
            events = sse(r)
        named = [(name, data) for name, data in events if name in ("tool_call", "tool_result")]
        assert [(n, d["call_id"], d.get("parent_call_id"), d.get("depth")) for n, d in named] == [
            ("tool_call", "call_prime_1", None, None),
            ("tool_call", "call_res_1", "call_prime_1", 1),
            ("tool_result", "call_res_1", "call_prime_1", 1),
            ("tool_call", "call_res_2", "call_prime_1", 1),
            ("tool_result", "call_res_2", "call_prime_1", 1),
            ("tool_result", "call_prime_1", None, None)]
        nested = named[1][1]
        assert nested["agent"] == "researcher" and nested["tool"] == "current_time"
        assert named[2][1]["ok"] is True and named[2][1]["agent"] == "researcher"
        assert named[4][1]["ok"] is False and named[4][1]["error"]["code"] == "path_not_allowed"
        assert named[5][1]["ok"] is True
        assert named[5][1]["result"] == {"agent": "researcher", "answer": "Water boils at 100 C at sea level."}
        # only the parent's own answer is streamed as text; the child's text stays in its session
        text = "".join(json.loads(data)["choices"][0]["delta"].get("content") or "" if isinstance(data, str) else
                       "".join(c["delta"].get("content") or "" for c in data.get("choices", []))
                       for name, data in events if name == "message" and data != "[DONE]")
        assert text == "The researcher says: 100 C." and events[-1] == ("message", "[DONE]")

        # the researcher was asked the task, at depth 1, in a task session of its own
        assert last_user_text(agent_requests(fake, "Researcher")[0]) == "Find the boiling point of water"
        session_id = nested["session_id"]
        task_session = api.get(f"/v1/sessions/{session_id}").json()
        assert task_session["channel"] == "task" and task_session["title"] == "Task from prime"
        child = api.get("/v1/messages", params={"session_id": session_id}).json()["data"]
        assert [m["role"] for m in child] == ["user", "assistant", "tool", "tool", "assistant"]
        assert child[-1]["content"] == "Water boils at 100 C at sea level."
        assert [c["id"] for c in child[1]["tool_calls"]] == ["call_res_1", "call_res_2"]

        # the parent's web session: the delegate call, its result (the child's answer), the final answer
        parent_session = next(d for n, d in events if n == "session")["session_id"]
        parent = api.get("/v1/messages", params={"session_id": parent_session}).json()["data"][-4:]
        assert [m["role"] for m in parent] == ["user", "assistant", "tool", "assistant"]
        assert parent[1]["tool_calls"][0]["function"]["name"] == "delegate"
        assert parent[2]["tool_call_id"] == "call_prime_1" and "Water boils at 100 C" in parent[2]["content"]
        assert parent[3]["content"] == "The researcher says: 100 C."
        assert server.ctx.runner.active_runs("default") == 0


def test_the_non_streamed_answer_lists_the_delegation(stack, fake):
    server, _ = stack
    script_chain(fake, task="Check the date")
    with server.client() as api:
        r = api.post("/v1/chat/completions", json={"agent_id": "prime", "message": "When?", "stream": False})
    assert r.status_code == 200, r.text
    calls = r.json()["qorven"]["tool_calls"]
    assert [c["tool"] for c in calls] == ["delegate"] and calls[0]["result"]["agent"] == "researcher"


def test_a_run_at_the_limit_still_refuses_a_second_plan_run(one_slot):
    """A run holding the only slot: another chat run and a room turn are refused at once."""
    server, fake = one_slot
    fake.enqueue(Reply.text("slow answer", chunks=4, delay=0.3))
    with server.client() as api, server.client() as other:
        with api.stream("POST", "/v1/chat/completions",
                        json={"agent_id": "prime", "message": "hi", "stream": True}) as r:
            lines = r.iter_lines()
            next(lines)  # the run has started and holds the only slot
            refused = other.post("/v1/chat/completions", json={"agent_id": "writer", "message": "hi"})
            room = other.post("/v1/rooms", json={"name": "busy", "members": ["writer"]}).json()
            busy = other.post(f"/v1/rooms/{room['id']}/messages", json={"content": "hello"})
            assert "data: [DONE]" in list(lines)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "too_many_runs"
    assert busy.status_code == 503 and busy.headers["retry-after"]
    with server.client() as api:
        assert api.get(f"/v1/rooms/{room['id']}/messages").json()["data"] == []


def test_a_two_level_chain_names_each_events_own_parent(stack, fake):
    server, _ = stack
    with server.client() as api:
        api.post("/v1/agents", json={"name": "manager", "instructions": "You are Manager.", "tools": ["delegate"],
                                     "memory": {"enabled": False}})
        fake.enqueue(
            Reply.tool_calls([{"id": "call_m", "name": "delegate", "arguments": {"agent": "prime", "task": "T1"}}]),
            Reply.tool_calls([{"id": "call_p", "name": "delegate", "arguments": {"agent": "researcher", "task": "T2"}}]),
            Reply.tool_calls([{"id": "call_r", "name": "current_time", "arguments": {}}]),
            Reply.text("researched"), Reply.text("primed"), Reply.text("managed"))
        with api.stream("POST", "/v1/chat/completions",
                        json={"agent_id": "manager", "message": "go", "stream": True}) as r:
            events = sse(r)
    named = [(n, d["call_id"], d.get("parent_call_id"), d.get("depth"), d.get("agent"))
             for n, d in events if n in ("tool_call", "tool_result")]
    assert named == [
        ("tool_call", "call_m", None, None, None),
        ("tool_call", "call_p", "call_m", 1, "prime"),
        ("tool_call", "call_r", "call_p", 2, "researcher"),
        ("tool_result", "call_r", "call_p", 2, "researcher"),
        ("tool_result", "call_p", "call_m", 1, "prime"),
        ("tool_result", "call_m", None, None, None)]
    assert [d for n, d in events if n == "tool_result"][-1]["result"] == {"agent": "prime", "answer": "primed"}
