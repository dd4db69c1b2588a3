"""The agent loop through POST /v1/chat/completions (Qorven form) on a real in-process server."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import httpx
import pytest

from tests.chat.conftest import configure, sse_events
from tests.fakes import Reply
from tests.support.servers import InProcessServer
from tests.support.wait import wait_until

CALC = Reply.tool_calls([{"id": "call_calc", "name": "calculator", "arguments": {"expression": "6*7"}}])


@pytest.fixture
def api(server, fake):
    with server.client() as client:
        configure(client, fake)
        yield client


def messages_of(api, session_id):
    return api.get("/v1/messages", params={"session_id": session_id}).json()["data"]


def test_calculator_round_trip_is_stored_and_streamed_as_named_events(server, api, fake, openai_schema):
    session = api.post("/v1/sessions", json={"agent_id": "analyst"}).json()
    events_seen = server.ctx.hub.subscribe("default", topics=[f"session:{session['id']}", "activity"])
    fake.enqueue(CALC, Reply.text("6 times 7 is 42."))
    with api.stream("POST", "/v1/chat/completions",
                    json={"agent_id": "analyst", "message": "What is 6*7?", "stream": True}) as r:
        assert r.status_code == 200
        events = sse_events(r.iter_lines())
    names = [name for name, _ in events]
    assert names[0] == "session" and names[-1] == "message"
    assert names.index("tool_call") < names.index("tool_result") < len(names) - 3
    data = {name: json.loads(d) for name, d in events if name not in ("message", "comment")}
    assert data["session"]["session_id"] == session["id"]
    assert data["tool_call"] == {"call_id": "call_calc", "tool": "calculator", "arguments": {"expression": "6*7"}}
    result = data["tool_result"]
    assert result["ok"] is True and result["result"]["result"] == 42 and result["duration_ms"] >= 0
    chunks = [json.loads(d) for name, d in events if name == "message" and d != "[DONE]"]
    for chunk in chunks:
        openai_schema("CreateChatCompletionStreamResponse", chunk)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "6 times 7 is 42."

    stored = messages_of(api, session["id"])
    assert [(m["role"], m["status"]) for m in stored] == [("user", "complete"), ("assistant", "complete"),
                                                          ("tool", "complete"), ("assistant", "complete")]
    assert stored[1]["tool_calls"][0]["function"]["name"] == "calculator"
    assert stored[2]["tool_call_id"] == "call_calc" and json.loads(stored[2]["content"])["result"] == 42
    assert stored[3]["id"] == data["session"]["message_id"] and stored[3]["content"] == "6 times 7 is 42."
    # the model saw the tool result on its second call
    second = fake.chat_requests()[-1].body["messages"]
    assert second[-1] == {"role": "tool", "tool_call_id": "call_calc", "content": stored[2]["content"]}

    hub_events = [e["event"] for e in events_seen.drain()]
    for expected in ("message.created", "message.delta", "tool.started", "tool.finished", "message.completed",
                     "agent.status"):
        assert expected in hub_events, expected
    events_seen.close()


def test_non_streaming_qorven_form_keeps_history(api, fake, openai_schema):
    fake.enqueue(Reply.text("Nice to meet you, Ada."))
    first = api.post("/v1/chat/completions", json={"agent_id": "writer", "message": "I am Ada"}).json()
    openai_schema("CreateChatCompletionResponse", {k: v for k, v in first.items() if k != "qorven"})
    assert first["choices"][0]["message"]["content"] == "Nice to meet you, Ada."
    assert first["qorven"]["session_id"].startswith("ses_") and first["qorven"]["tool_calls"] == []
    api.post("/v1/chat/completions", json={"agent_id": "writer", "message": "Who am I?",
                                           "session_id": first["qorven"]["session_id"]})
    sent = fake.last_request.body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "I am Ada" and sent[2]["content"] == "Nice to meet you, Ada."


def test_a_failed_run_leaves_a_failed_message_and_says_do_not_retry_after_tools(api, fake):
    fake.enqueue(Reply.error(500, "upstream exploded"))
    r = api.post("/v1/chat/completions", json={"agent_id": "analyst", "message": "hi"})
    assert r.status_code == 502 and r.json()["error"]["code"] == "provider_error"
    assert "x-should-retry" not in r.headers  # nothing ran: safe to retry
    session_id = api.post("/v1/sessions", json={"agent_id": "analyst"}).json()["id"]
    stored = messages_of(api, session_id)
    assert [(m["role"], m["status"]) for m in stored] == [("user", "complete"), ("assistant", "failed")]
    assert stored[1]["error"]["code"] == "provider_error"

    fake.enqueue(CALC, Reply.error(500))
    r = api.post("/v1/chat/completions", json={"agent_id": "analyst", "message": "6*7?"})
    assert r.status_code == 502 and r.headers["x-should-retry"] == "false"

    fake.enqueue(CALC, Reply.text("never finishes", error_after=1))
    with api.stream("POST", "/v1/chat/completions",
                    json={"agent_id": "analyst", "message": "again", "stream": True}) as s:
        events = sse_events(s.iter_lines())
    assert json.loads(events[-1][1])["error"]["code"] == "provider_error"
    stored = messages_of(api, session_id)
    assert (stored[-1]["role"], stored[-1]["status"], stored[-1]["content"]) == ("assistant", "failed", "never ")


def test_no_model_configured(server, admin):
    r = admin.post("/v1/chat/completions", json={"agent_id": "prime", "message": "hi"})
    assert r.status_code == 503 and r.json()["error"]["code"] == "no_model_configured"
    r = admin.post("/v1/chat/completions", json={"agent_id": "nobody", "message": "hi"})
    assert r.status_code == 404
    r = admin.post("/v1/chat/completions", json={"model": "x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"


def test_sixth_concurrent_run_is_refused_while_health_stays_fast(server, api, fake):
    original = fake.default_reply
    fake.default_reply = lambda body: Reply.text("slow " * 200, delay=0.02)
    try:
        started = threading.Barrier(6)
        errors: list[BaseException] = []
        clients = [server.client() for _ in range(5)]

        def run(client):
            try:
                with client.stream("POST", "/v1/chat/completions", json={
                        "agent_id": "writer", "message": "go", "stream": True}) as r:
                    lines = r.iter_lines()
                    while not next(lines).startswith("data: {"):  # the first token arrived
                        pass
                    started.wait(10)
                    started.wait(10)  # hold the stream open until the checks are done
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        started.wait(10)
        refused = api.post("/v1/chat/completions", json={"agent_id": "writer", "message": "one more"})
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "too_many_runs"
        assert int(refused.headers["retry-after"]) >= 1
        t0 = time.perf_counter()
        assert api.get("/health").status_code == 200
        assert api.get("/v1/agents").status_code == 200
        assert time.perf_counter() - t0 < 0.5
        assert server.ctx.runner.active_runs("default") == 5
        started.wait(10)
        for t in threads:
            t.join(10)
        assert not errors
        for c in clients:
            c.close()
        # the closed streams end their runs
        wait_until(lambda: server.ctx.runner.active_runs("default") == 0, timeout=3, interval=0.05,
                   message="runs still active after their streams closed")
        assert server.ctx.runner.active_runs("default") == 0
    finally:
        fake.default_reply = original


def test_client_disconnect_stops_an_agent_run_within_a_second(server, api, fake):
    fake.enqueue(Reply.text("word " * 400, delay=0.02))
    session_id = api.post("/v1/sessions", json={"agent_id": "writer"}).json()["id"]
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"}) as c:
        with c.stream("POST", "/v1/chat/completions",
                      json={"agent_id": "writer", "message": "long please", "stream": True}) as r:
            lines = r.iter_lines()
            while "word" not in next(lines):
                pass
        closed_at = time.monotonic()
    assert fake.wait_client_disconnect(1, timeout=1.5)
    assert time.monotonic() - closed_at < 1.5
    wait_until(lambda: messages_of(api, session_id)[-1]["status"] == "stopped", timeout=1, interval=0.05,
               message="the cancelled run's message never stopped")
    last = messages_of(api, session_id)[-1]
    assert last["status"] == "stopped" and last["error"] is None and last["content"].startswith("word")
    assert server.ctx.runner.active_runs("default") == 0


def test_client_disconnect_stops_a_proxied_stream(server, api, fake):
    fake.enqueue(Reply.text("tok " * 400, delay=0.02))
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"}) as c:
        with c.stream("POST", "/v1/chat/completions", json={
                "model": "fake/fake-model", "stream": True, "messages": [{"role": "user", "content": "x"}]}) as r:
            lines = r.iter_lines()
            while "tok" not in next(lines):
                pass
        closed_at = time.monotonic()
    assert fake.wait_client_disconnect(1, timeout=1.5)
    assert time.monotonic() - closed_at < 1.5


def test_keep_alive_pings_while_the_model_is_silent(tmp_path, fake):
    fake.enqueue(Reply.text("slow answer", chunks=1, delay=0.6))
    with InProcessServer(tmp_path / "home", settings={"sse_ping_seconds": 0.2}) as server, server.client() as api:
        configure(api, fake)
        with api.stream("POST", "/v1/chat/completions", json={
                "model": "fake/fake-model", "stream": True, "messages": [{"role": "user", "content": "x"}]}) as r:
            events = sse_events(r.iter_lines())
    assert ("comment", "ping") in events
    assert events[-1] == ("message", "[DONE]")


class RecordingMemory:
    """A small stand-in for the runner's MemoryService (the real one has the same three calls)."""

    def __init__(self) -> None:
        self.saved: list[tuple] = []
        self.done = threading.Event()

    def recall(self, tenant_id, agent_id, query, limit=5, session_id=None):
        return [{"id": "mem_1", "content": "The user's cat is called Miso.", "score": 0.91}]

    def for_agent(self, tenant_id, agent_id, session_id):
        return None

    def after_run(self, tenant_id, agent, session_id, user_text, answer_text, complete):
        summary = complete([{"role": "user", "content": "summarise: " + user_text}])
        self.saved.append((tenant_id, agent.name, session_id, user_text, answer_text, summary))
        self.done.set()


def test_memories_are_recalled_into_the_prompt_and_saved_after_the_run(server, api, fake):
    memory = RecordingMemory()
    runner = server.ctx.runner
    services = runner.services
    runner.services = dataclasses.replace(services, memory=memory)
    try:
        fake.enqueue(Reply.text("Miso is a fine name."), Reply.text("cat named Miso"))
        with api.stream("POST", "/v1/chat/completions",
                        json={"agent_id": "prime", "message": "What is my cat called?", "stream": True}) as r:
            events = sse_events(r.iter_lines())
        named = {name: json.loads(d) for name, d in events if name not in ("message", "comment")}
        assert named["memory"] == {"recalled": [{"id": "mem_1", "score": 0.91}]}
        assert [name for name, _ in events][:2] == ["session", "memory"]
        system = fake.chat_requests()[0].body["messages"][0]["content"]
        assert "The user's cat is called Miso." in system
        assert memory.done.wait(5)  # prime auto-saves: after_run ran in the background with a working complete()
        _, agent_name, session_id, user_text, answer, summary = memory.saved[0]
        assert (agent_name, user_text, answer, summary) == ("prime", "What is my cat called?", "Miso is a fine name.",
                                                           "cat named Miso")
        assert session_id == named["session"]["session_id"]
    finally:
        runner.services = services


def test_an_agent_on_an_anthropic_provider_runs_tools(server, api, fake):
    provider = api.post("/v1/providers", json={"name": "claude", "kind": "anthropic", "base_url": fake.root_url,
                                               "key": "sk-ant-test-0123456789abcdef"}).json()
    fake.api_key = "sk-ant-test-0123456789abcdef"
    agents = api.get("/v1/agents").json()["data"]
    agent_id = next(a["id"] for a in agents if a["name"] == "analyst")
    api.patch(f"/v1/agents/{agent_id}", json={"model": "claude/claude-test"})
    fake.enqueue(CALC, Reply.text("It is 42."))
    answer = api.post("/v1/chat/completions", json={"agent_id": "analyst", "message": "6*7?"}).json()
    assert answer["choices"][0]["message"]["content"] == "It is 42.", answer
    assert answer["qorven"]["tool_calls"][0]["result"]["result"] == 42
    second = fake.chat_requests()[-1]
    assert second.path == "/v1/messages" and second.body["model"] == "claude-test"
    blocks = second.body["messages"][-1]["content"]
    assert blocks[0]["type"] == "tool_result" and blocks[0]["tool_use_id"] == "call_calc"
    assert provider["kind"] == "anthropic"
