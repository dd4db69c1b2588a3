"""One request has a budget: tool calls per agent run, child runs over the whole delegation tree, and the
tenant's concurrent-run limit, which delegated children count against without ever waiting for a slot.

Through the real server, with the fake upstream scripting a model that keeps calling tools.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import httpx

from tests.fakes import FakeProvider, Reply
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream

RUNAWAY_CAP = 100  # the scripted model stops delegating after this many calls, so an unbounded server still ends


def model_calls(fake: FakeProvider) -> list[dict[str, Any]]:
    return [r.body for r in fake.chat_requests() if r.path.endswith("/chat/completions")]


def add_agent(api: httpx.Client, name: str, tools: list[str]) -> None:
    r = api.post("/v1/agents", json={"name": name, "instructions": f"You are {name}.", "tools": tools,
                                     "memory": {"enabled": False}})
    assert r.status_code == 201, r.text


def delegating_in_a_loop() -> Any:
    """A model that, whenever it may, asks the other looping agent to do the task, three times in parallel."""
    ids, lock, calls = itertools.count(), threading.Lock(), [0]

    def reply(body: dict[str, Any]) -> Reply:
        with lock:
            calls[0] += 1
            runaway = calls[0] > RUNAWAY_CAP
        offered = {t["function"]["name"] for t in body.get("tools") or []}
        if runaway or "delegate" not in offered:
            return Reply.text("final answer")
        other = "loop-b" if "You are loop-a." in body["messages"][0]["content"] else "loop-a"
        return Reply.tool_calls([{"id": f"call_{next(ids)}", "name": "delegate",
                                  "arguments": {"agent": other, "task": "do it again"}} for _ in range(3)])
    return reply


def test_a_model_that_delegates_in_a_loop_stays_within_the_request_budget(tmp_path, fake, monkeypatch):
    settings = {"max_tool_calls_per_turn": 4, "max_child_runs_per_request": 3, "max_runs_per_tenant": 50}
    with InProcessServer(tmp_path / "home", settings) as server:
        with server.client() as admin:
            configure_upstream(admin, fake)
            add_agent(admin, "loop-a", ["delegate"])
            add_agent(admin, "loop-b", ["delegate"])
        monkeypatch.setattr(fake, "default_reply", delegating_in_a_loop())
        with server.client(server.ctx.tokens.issue("default", "user")) as user:
            r = user.post("/v1/chat/completions", json={"agent_id": "loop-a", "message": "go"})
            tasks = user.get("/v1/sessions", params={"channel": "task", "limit": 100}).json()["data"]
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"] == "final answer"
        # every run makes at most (tool calls per turn + 1) model calls; 1 top run + at most 3 children
        assert len(tasks) == 3
        assert len(model_calls(fake)) <= (1 + 3) * (4 + 1)
        codes = [c["error"]["code"] for c in r.json()["qorven"]["tool_calls"] if not c["ok"]]
        assert codes and set(codes) == {"budget_exceeded"}
        assert server.ctx.runner.active_runs("default") == 0


def test_tool_calls_over_the_turn_budget_answer_budget_exceeded_and_the_model_must_answer(tmp_path, fake):
    with InProcessServer(tmp_path / "home", {"max_tool_calls_per_turn": 4}) as server, server.client() as admin:
        configure_upstream(admin, fake)
        add_agent(admin, "counter", ["calculator"])
        fake.enqueue(Reply.tool_calls([{"id": f"call_{i}", "name": "calculator", "arguments": {"expression": "1+1"}}
                                       for i in range(6)]),
                     Reply.text("two, six times"))
        r = admin.post("/v1/chat/completions", json={"agent_id": "counter", "message": "add"})
    assert r.status_code == 200, r.text
    outcomes = [c.get("error", {}).get("code", "ok") for c in r.json()["qorven"]["tool_calls"]]
    assert outcomes == ["ok"] * 4 + ["budget_exceeded"] * 2
    assert r.json()["choices"][0]["message"]["content"] == "two, six times"
    calls = model_calls(fake)
    assert len(calls) == 2 and calls[0].get("tools") and not calls[1].get("tools")


def test_a_child_that_finds_no_free_slot_fails_its_delegate_call_instead_of_waiting(tmp_path, fake):
    with InProcessServer(tmp_path / "home", {"max_runs_per_tenant": 1}) as server, server.client() as admin:
        configure_upstream(admin, fake)
        add_agent(admin, "boss", ["delegate"])
        add_agent(admin, "helper", [])
        fake.enqueue(Reply.tool_calls([{"id": "call_d", "name": "delegate",
                                        "arguments": {"agent": "helper", "task": "help"}}]),
                     Reply.text("I did it myself"))
        r = admin.post("/v1/chat/completions", json={"agent_id": "boss", "message": "go"})
        assert r.status_code == 200, r.text
        (call,) = r.json()["qorven"]["tool_calls"]
        assert not call["ok"] and call["error"]["code"] == "too_many_runs" and "helper" in call["error"]["message"]
        assert r.json()["choices"][0]["message"]["content"] == "I did it myself"
        assert len(model_calls(fake)) == 2  # the helper never ran
        assert server.ctx.runner.active_runs("default") == 0
