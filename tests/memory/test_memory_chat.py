"""Agents that remember: a memory saved in one session is recalled in a new one (fake provider, real HTTP)."""

from __future__ import annotations

import json

import pytest

from tests.chat.conftest import configure, sse_events
from tests.fakes import FakeProvider, Reply
from tests.support.upstream import UPSTREAM_KEY as KEY
from tests.support.wait import wait_until


@pytest.fixture
def fake():
    with FakeProvider(api_key=KEY) as server:
        yield server


def test_a_memory_saved_in_one_session_is_recalled_in_a_new_one(server, fake):
    with server.client() as api:
        configure(api, fake)
        prime = next(a for a in api.get("/v1/agents").json()["data"] if a["name"] == "prime")
        # this test is about the memory_save tool; auto-save's extra model call would race for the fake's replies
        api.patch(f"/v1/agents/{prime['id']}", json={"memory": {"auto_save": False}}).raise_for_status()
        events = server.ctx.hub.subscribe("default", topics=[f"agent:{prime['id']}"])

        # session 1: the model decides to save a memory through the memory_save tool
        fake.enqueue(Reply.tool_calls([{"id": "call_save", "name": "memory_save", "arguments": {
                         "content": "The user's favourite colour is teal", "kind": "preference"}}]),
                     Reply.text("Noted, teal it is."))
        first = api.post("/v1/chat/completions", json={"agent_id": "prime", "stream": False,
                                                       "message": "Please remember: my favourite colour is teal."})
        assert first.status_code == 200, first.text
        session_one = first.json()["qorven"]["session_id"]
        stored = api.get("/v1/memory", params={"agent_id": prime["id"]}).json()["data"]
        assert len(stored) == 1
        memory = stored[0]
        assert memory["content"] == "The user's favourite colour is teal"
        assert memory["source"] == "agent" and memory["scope"] == "agent" and memory["session_id"] == session_one
        saved_events = [e for e in events.drain() if e["event"] == "memory.saved"]
        assert saved_events and saved_events[0]["data"]["memory"]["id"] == memory["id"]
        events.close()

        # session 2: a different session of the same agent; the memory is recalled before the run
        session_two = api.post("/v1/sessions", json={"agent_id": "prime", "channel": "api"})
        assert session_two.status_code == 201 and session_two.json()["id"] != session_one
        fake.enqueue(Reply.text("Your favourite colour is teal."))
        with api.stream("POST", "/v1/chat/completions", json={
                "agent_id": "prime", "session_id": session_two.json()["id"], "stream": True,
                "message": "Which colour do I like best?"}) as r:
            assert r.status_code == 200
            streamed = sse_events(r.iter_lines())
        recalled = [json.loads(d) for name, d in streamed if name == "memory"]
        assert recalled and recalled[0]["recalled"][0]["id"] == memory["id"]
        assert 0 < recalled[0]["recalled"][0]["score"] <= 1
        sent = fake.last_request.body["messages"]
        assert sent[0]["role"] == "system" and "favourite colour is teal" in sent[0]["content"]
        assert all("teal" not in m["content"] for m in sent[1:] if isinstance(m.get("content"), str))
        assert api.get(f"/v1/memory/{memory['id']}").json()["last_recalled_at"] is not None


def test_auto_save_extracts_facts_after_a_run_and_they_are_recalled_later(server, fake):
    with server.client() as api:
        configure(api, fake)
        writer = next(a for a in api.get("/v1/agents").json()["data"] if a["name"] == "writer")
        api.patch(f"/v1/agents/{writer['id']}", json={"memory": {"auto_save": True}}).raise_for_status()
        fake.enqueue(Reply.text("Ghent is lovely."),
                     Reply.text('```json\n{"memories": [{"content": "The user lives in Ghent", "kind": "fact", '
                                '"importance": 0.8}]}\n```'))
        first = api.post("/v1/chat/completions", json={"agent_id": "writer", "stream": False,
                                                       "message": "I live in Ghent, by the way."})
        assert first.status_code == 200, first.text
        stored = wait_until(lambda: api.get("/v1/memory", params={"agent_id": writer["id"]}).json()["data"],
                            timeout=30, interval=0.1, message="the run saved no memory")
        assert [m["content"] for m in stored] == ["The user lives in Ghent"]
        assert stored[0]["source"] == "agent" and stored[0]["importance"] == 0.8
        extraction = fake.chat_requests()[-1].body["messages"]
        assert "JSON" in extraction[0]["content"] and "I live in Ghent" in extraction[1]["content"]
