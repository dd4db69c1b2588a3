"""An answer's row exists from the start of its run (``status: streaming``), is written whole after the
run's tool messages when it ends, and is marked failed at the next start when the process died mid-run."""

from __future__ import annotations

import json
import sqlite3
import threading

import httpx

from tests.chat.conftest import configure, sse_events
from tests.fakes import Reply
from tests.support.servers import InProcessServer
from tests.support.wait import wait_until

CALC = Reply.tool_calls([{"id": "call_calc", "name": "calculator", "arguments": {"expression": "6*7"}}])


def messages_of(api, session_id):
    return api.get("/v1/messages", params={"session_id": session_id}).json()["data"]


def stream_in_background(api, body) -> tuple[threading.Thread, list]:
    events: list = []

    def run() -> None:
        with api.stream("POST", "/v1/chat/completions", json=body, timeout=60) as r:
            events.extend(sse_events(r.iter_lines()))
    thread = threading.Thread(target=run)
    thread.start()
    return thread, events


def test_the_answer_is_stored_streaming_from_the_start_and_whole_after_its_tools(server, fake):
    with server.client() as api:
        configure(api, fake)
        session = api.post("/v1/sessions", json={"agent_id": "analyst"}).json()
        seen = server.ctx.hub.subscribe("default", topics=[f"session:{session['id']}"])
        # the answer after the tool streams for about five seconds: time to look at the session meanwhile
        fake.enqueue(CALC, Reply.text("Six times seven is forty two, as the calculator says, and as anyone who "
                                      "learnt the tables at school will tell you without a second thought.",
                                      delay=0.25))
        thread, events = stream_in_background(api, {"agent_id": "analyst", "session_id": session["id"],
                                                    "message": "What is 6*7?", "stream": True})
        try:
            # mid-run: the answer's row is there, streaming, before the tool messages of its run
            during = wait_until(lambda: (m := messages_of(api, session["id"])) and len(m) >= 4 and m, timeout=20,
                                interval=0.05, message="the run's messages never showed")
            assert [(m["role"], m["status"]) for m in during] == [
                ("user", "complete"), ("assistant", "streaming"), ("assistant", "complete"), ("tool", "complete")]
            assert during[1]["content"] is None and during[1]["model"] == "fake/fake-model"
        finally:
            thread.join(60)
        answer_id = json.loads(next(d for name, d in events if name == "session"))["message_id"]
        assert during[1]["id"] == answer_id

        stored = messages_of(api, session["id"])
        assert [(m["role"], m["status"]) for m in stored] == [
            ("user", "complete"), ("assistant", "complete"), ("tool", "complete"), ("assistant", "complete")]
        assert stored[3]["id"] == answer_id and stored[3]["content"].startswith("Six times seven")
        assert api.get(f"/v1/sessions/{session['id']}").json()["message_count"] == 4
        # the next run's history is the whole turn, in order
        fake.enqueue(Reply.text("Yes."))
        api.post("/v1/chat/completions", json={"agent_id": "analyst", "session_id": session["id"],
                                               "message": "Sure?", "stream": False}).raise_for_status()
        history = fake.chat_requests()[-1].body["messages"]
        assert [m["role"] for m in history if m["role"] != "system"] == [
            "user", "assistant", "tool", "assistant", "user"]

        # on /ws: the answer's message.created (streaming) comes before its first message.delta
        hub = [(e["event"], e["data"]) for e in seen.drain()]
        created = next(i for i, (name, d) in enumerate(hub) if name == "message.created" and d["id"] == answer_id)
        first_delta = next(i for i, (name, d) in enumerate(hub) if name == "message.delta"
                           and d["message_id"] == answer_id)
        assert created < first_delta and hub[created][1]["status"] == "streaming"
        seen.close()


def test_a_stopped_answer_keeps_its_place_and_its_text(server, fake):
    with server.client() as api:
        configure(api, fake)
        session = api.post("/v1/sessions", json={"agent_id": "writer"}).json()
        fake.enqueue(Reply.text("one two three four five six seven eight nine ten", delay=0.3))  # word by word
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token}"}) as reader:
            with reader.stream("POST", "/v1/chat/completions", json={
                    "agent_id": "writer", "session_id": session["id"], "message": "Count", "stream": True}) as r:
                for line in r.iter_lines():
                    if "three" in line:
                        break  # the reader leaves (its connection closes): the run stops
        stopped = wait_until(lambda: (m := messages_of(api, session["id"])) and m[-1]["status"] == "stopped" and m,
                             timeout=20, message="the answer was never stored stopped: " + repr(messages_of(api, session["id"])))
        assert [m["role"] for m in stopped] == ["user", "assistant"]
        assert stopped[1]["content"].startswith("one two three")
        assert api.get(f"/v1/sessions/{session['id']}").json()["message_count"] == 2


def test_an_answer_cut_off_by_a_crash_is_marked_failed_at_the_next_start(tmp_path, fake):
    home = tmp_path / "home"
    with InProcessServer(home) as srv, srv.client() as api:
        configure(api, fake)
        session = api.post("/v1/sessions", json={"agent_id": "writer"}).json()
        fake.enqueue(Reply.text("A short answer."))
        api.post("/v1/chat/completions", json={"agent_id": "writer", "session_id": session["id"],
                                               "message": "Hi", "stream": False}).raise_for_status()
    # what a process killed mid-run leaves behind: its answer's row still streaming
    with sqlite3.connect(home / "qorven.db") as conn:
        conn.execute("UPDATE messages SET status = 'streaming', content = NULL WHERE role = 'assistant'")
    with InProcessServer(home) as srv, srv.client() as api:
        [user, answer] = messages_of(api, session["id"])
        assert answer["status"] == "failed" and answer["error"]["code"] == "interrupted"
        assert "ask again" in answer["error"]["message"]
        fake.enqueue(Reply.text("Hello again."))
        again = api.post("/v1/chat/completions", json={"agent_id": "writer", "session_id": session["id"],
                                                       "regenerate": True, "stream": False})
        assert again.status_code == 200, again.text
        assert [m["status"] for m in messages_of(api, session["id"])] == ["complete", "complete"]
