"""Honest recall: a memory's score says how well it matches, small talk recalls nothing, and an answer
keeps what it recalled (stored message, ``GET /v1/messages``, the SSE ``memory`` event, ``/ws``).

One real server and one fake upstream for the module; the embedder is the real bundled MiniLM.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from qorven_local.memory.index import to_blob
from qorven_local.memory.types import Memory

from tests.chat.conftest import configure, sse_events
from tests.fakes import Reply
from tests.support.servers import InProcessServer

CAT = "The user's cat is called Miso."
WIFI = "The office wifi password is hunter2-blue."
REPORT = "The quarterly report is due on March 14."
SMALL_TALK = ["are you there?", "please FAIL500 now", "zebra quantum banana"]


@pytest.fixture(scope="module")
def world(tmp_path_factory, module_fake):
    """A server whose prime agent remembers three things (two its own, one the workspace's)."""
    with InProcessServer(tmp_path_factory.mktemp("recall-home")) as server, server.client() as api:
        configure(api, module_fake)
        prime = next(a for a in api.get("/v1/agents").json()["data"] if a["name"] == "prime")
        # no extraction call after each run: every reply the fake gives is one answer
        api.patch(f"/v1/agents/{prime['id']}", json={"memory": {"auto_save": False}}).raise_for_status()
        ids = {}
        for content, scope in ((CAT, "agent"), (WIFI, "workspace"), (REPORT, "agent")):
            body = {"scope": scope, "kind": "fact", "content": content}
            if scope == "agent":
                body["agent_id"] = prime["id"]
            saved = api.post("/v1/memory/save", json=body)
            assert saved.status_code == 201, saved.text
            ids[content] = saved.json()["id"]
        yield server, api, prime, ids


def ask(api, fake, text: str, session_id: str | None = None) -> tuple[dict, list[dict], str]:
    """Stream one chat turn to prime; return (the memory event, the messages sent upstream, session id)."""
    fake.enqueue(Reply.text("Noted."))
    body = {"agent_id": "prime", "message": text, "stream": True}
    if session_id:
        body["session_id"] = session_id
    with api.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.status_code == 200
        events = sse_events(r.iter_lines())
    named = {name: json.loads(data) for name, data in events if name not in ("message", "comment")}
    return named["memory"], fake.last_request.body["messages"], named["session"]["session_id"]


@pytest.mark.parametrize("text", SMALL_TALK)
def test_small_talk_and_unrelated_text_recall_nothing(world, fake, text):
    server, api, prime, ids = world
    memory_event, sent, _ = ask(api, fake, text)
    assert memory_event == {"recalled": []}
    assert not any(content in sent[0]["content"] for content in ids)
    # the scores are there, just below the threshold: search without min_score still ranks them
    found = api.post("/v1/memory/search", json={"scope": "agent", "agent_id": prime["id"], "query": text}).json()
    assert found["data"] and all(hit["score"] < server.ctx.config.recall_min_score for hit in found["data"])
    filtered = api.post("/v1/memory/search", json={"scope": "agent", "agent_id": prime["id"], "query": text,
                                                   "min_score": server.ctx.config.recall_min_score}).json()
    assert filtered["data"] == []


def test_a_related_question_recalls_the_right_memory_and_the_answer_keeps_it(world, fake):
    server, api, prime, ids = world
    session = api.post("/v1/sessions", json={"agent_id": "prime", "channel": "api", "title": "cat"}).json()
    live = server.ctx.hub.subscribe("default", topics=[f"session:{session['id']}"])
    try:
        memory_event, sent, session_id = ask(api, fake, "What is my cat's name?", session["id"])
        completed = [e for e in live.drain() if e["event"] == "message.completed"]
    finally:
        live.close()
    assert session_id == session["id"]
    recalled = memory_event["recalled"]
    assert [r["id"] for r in recalled] == [ids[CAT]]
    assert recalled[0]["content"] == CAT and server.ctx.config.recall_min_score <= recalled[0]["score"] <= 1
    assert CAT in sent[0]["content"] and WIFI not in sent[0]["content"] and REPORT not in sent[0]["content"]

    messages = api.get("/v1/messages", params={"session_id": session_id}).json()["data"]
    user, answer = messages[-2], messages[-1]
    assert user["role"] == "user" and user["recalled"] is None
    assert answer["role"] == "assistant" and answer["recalled"] == recalled
    assert completed and completed[-1]["data"]["recalled"] == recalled  # /ws message.completed


def test_recalled_content_is_cut_to_200_characters(world, fake):
    server, api, prime, ids = world
    long_note = "The user's garden has " + ", ".join(f"tomato variety number {i}" for i in range(40)) + "."
    api.post("/v1/memory/save", json={"scope": "agent", "agent_id": prime["id"], "kind": "note",
                                      "content": long_note}).raise_for_status()
    memory_event, sent, _ = ask(api, fake, "Which tomato varieties grow in my garden?")
    entry = next(r for r in memory_event["recalled"] if r["content"].startswith("The user's garden"))
    assert entry["content"] == long_note[:200] and long_note in sent[0]["content"]


def add_other_memories(ctx, agent_id: str, count: int) -> None:
    """``count`` memories about other reports and dates: they share the query's words and much of its
    meaning, so they move the memory's ranks and BM25's statistics. Written in one transaction, as an
    import would. Ten real sentences are embedded; each memory's vector is one of them moved by seeded
    Gaussian noise (cosine ~0.94 to it, as in bench/memory_search.py), which keeps MiniLM's geometry
    without embedding 500 texts in a test."""
    months = ["January", "February", "April", "May", "June", "July", "August", "September", "October", "November"]
    texts = [f"The quarterly report is due on {m} {3 + i}." for i, m in enumerate(months)]
    base = ctx.memory.embed(texts)
    rng = np.random.default_rng(7)
    store, now = ctx.memory.store, ctx.clock.iso()
    with ctx.db.write() as conn:
        generation = store.generation()
        partition = store.partition_for(conn, "default", "agent", agent_id)
        for i in range(count):
            vector = base[i % 10] + 0.35 * rng.standard_normal(384).astype(np.float32) / np.sqrt(384)
            vector /= np.linalg.norm(vector)
            memory = Memory(id=f"mem_other_{i}", tenant_id="default", scope="agent", agent_id=agent_id,
                            session_id=None, kind="note", content=f"{texts[i % 10]} (copy {i})", importance=0.5,
                            source="import", created_at=now, updated_at=now, partition_id=partition)
            store.insert(conn, memory, to_blob(vector), generation)


def test_a_score_moves_by_less_than_001_when_500_other_memories_are_added(world):
    server, api, prime, ids = world
    memory = server.ctx.memory
    query = "When is the quarterly report due?"

    def score() -> float:
        hits = memory.search("default", query=query, scope="agent", agent_id=prime["id"], max_results=50)
        return next(h["score"] for h in hits if h["id"] == ids[REPORT])

    before = score()
    add_other_memories(server.ctx, prime["id"], 500)
    after = score()
    hits = memory.search("default", query=query, scope="agent", agent_id=prime["id"], max_results=50)
    moved = next(h["match"] for h in hits if h["id"] == ids[REPORT])
    assert moved != {"semantic": 1, "keyword": 1}, moved  # its ranks did move
    assert before >= server.ctx.config.recall_min_score
    assert abs(after - before) < 0.01, (before, after)


def test_an_agent_recalls_at_most_its_max_recall(world, fake):
    server, api, prime, ids = world
    for content in ("The user's dog is called Pepper.", "The user's parrot is called Kiwi."):
        api.post("/v1/memory/save", json={"scope": "agent", "agent_id": prime["id"], "kind": "fact",
                                          "content": content}).raise_for_status()
    question = "What are my pets called?"
    assert len(ask(api, fake, question)[0]["recalled"]) >= 2
    try:
        patched = api.patch(f"/v1/agents/{prime['id']}", json={"memory": {"max_recall": 1}})
        assert patched.status_code == 200 and patched.json()["memory"]["max_recall"] == 1
        assert len(ask(api, fake, question)[0]["recalled"]) == 1
        refused = api.patch(f"/v1/agents/{prime['id']}", json={"memory": {"max_recall": 21}})
        assert refused.status_code == 400 and refused.json()["error"]["param"].endswith("max_recall")
    finally:
        api.patch(f"/v1/agents/{prime['id']}", json={"memory": {"max_recall": 5}}).raise_for_status()
