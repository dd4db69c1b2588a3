"""Conversations through the real server: every agent's list, search over message text, rename, model
override, archive and purge, export, deleting a turn, regenerate and edit (API.md Sessions, Messages, Chat).

One server and one fake upstream for the module; each test makes its own sessions (a fresh peer each).
"""

from __future__ import annotations

import itertools
import json
import re

import httpx
import pytest

from qorven_local.storage.migrations import m014_session_search
from tests.chat.conftest import configure
from tests.fakes import Reply
from tests.support.servers import InProcessServer
from tests.support.wait import wait_until

PEERS = itertools.count()


@pytest.fixture(scope="module")
def srv(tmp_path_factory, module_fake):
    with InProcessServer(tmp_path_factory.mktemp("sessions-home")) as server:
        with server.client() as client:
            configure(client, module_fake)
        yield server


@pytest.fixture
def api(srv, fake) -> httpx.Client:
    with srv.client() as client:
        yield client


def new_session(api, agent="analyst", title=None) -> dict:
    body = {"agent_id": agent, "peer": f"test-{next(PEERS)}"}  # an agent's id or name
    if title:
        body["title"] = title
    r = api.post("/v1/sessions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def agent_id(api, name):
    return next(a["id"] for a in api.get("/v1/agents").json()["data"] if a["name"] == name)


def say(api, session, text, **extra) -> httpx.Response:
    r = api.post("/v1/chat/completions", json={"agent_id": session["agent_id"], "session_id": session["id"],
                                               "message": text, **extra})
    return r


def messages(api, session) -> list[dict]:
    return api.get("/v1/messages", params={"session_id": session["id"]}).json()["data"]


def error_of(r: httpx.Response, status: int, code: str, param: str | None = None) -> dict:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    return error


def test_without_agent_id_the_list_holds_every_agents_sessions(api):
    mine = new_session(api, agent_id(api, "analyst"))
    theirs = new_session(api, agent_id(api, "writer"))
    every = {s["id"] for s in api.get("/v1/sessions", params={"limit": 200}).json()["data"]}
    assert {mine["id"], theirs["id"]} <= every
    only = {s["id"] for s in api.get("/v1/sessions", params={"agent_id": mine["agent_id"], "limit": 200}).json()["data"]}
    assert mine["id"] in only and theirs["id"] not in only


def test_search_matches_message_text_best_first_and_titles_before_it(api):
    once = new_session(api, agent_id(api, "analyst"))
    say(api, once, "the quarterly heron census starts monday")
    twice = new_session(api, agent_id(api, "writer"))
    say(api, twice, "heron heron heron sightings by the heron pond")
    titled = new_session(api, agent_id(api, "analyst"), title="Herons of the delta")
    unrelated = new_session(api, agent_id(api, "analyst"))
    say(api, unrelated, "nothing about birds here")

    found = [s["id"] for s in api.get("/v1/sessions", params={"q": "heron"}).json()["data"]]
    assert found[0] == titled["id"]                       # a title match first
    assert found.index(twice["id"]) < found.index(once["id"])  # then the denser match
    assert unrelated["id"] not in found
    # the last word matches as a prefix; other words whole; case and stray syntax do not matter
    assert once["id"] in [s["id"] for s in api.get("/v1/sessions", params={"q": "QUARTERLY cens"}).json()["data"]]
    for odd in ('"', "heron* OR", "NEAR(", "-", "a:b", '"heron', 'he"ron', "NEAR(heron census, 2)", "{heron}",
                "title:heron", "heron AND", "NOT", "^heron", "(heron", "heron)", "*", "'", "\\", "%", "_", "+",
                "&&", "||", ";", "💡", "héron", "heron -census", "a\x00b", " " * 50, "x" * 200):
        r = api.get("/v1/sessions", params={"q": odd})
        assert r.status_code == 200, (odd, r.text)
    # a word wrapped in punctuation or quotes still finds it
    for dressed in ('"heron"', "heron?!", "(heron)", "heron*", "'heron'"):
        assert titled["id"] in [s["id"] for s in api.get("/v1/sessions", params={"q": dressed}).json()["data"]], dressed
    paged = api.get("/v1/sessions", params={"q": "heron", "limit": 1}).json()
    assert paged["has_more"] and len(paged["data"]) == 1
    second = api.get("/v1/sessions", params={"q": "heron", "limit": 1, "cursor": paged["next_cursor"]}).json()
    assert second["data"][0]["id"] == found[1]


def test_patch_renames_and_sets_a_model_the_runs_then_use(api, fake):
    session = new_session(api)
    r = api.patch(f"/v1/sessions/{session['id']}", json={"title": "Budget", "model": "fake/fake-model-large"})
    assert r.status_code == 200 and r.json()["title"] == "Budget" and r.json()["model"] == "fake/fake-model-large"
    assert say(api, session, "hello").status_code == 200
    assert fake.chat_requests()[-1].body["model"] == "fake-model-large"
    # a run may name its own model; null gives the conversation back to the agent's
    assert say(api, session, "again", model="fake/fake-model").status_code == 200
    assert fake.chat_requests()[-1].body["model"] == "fake-model"
    assert api.patch(f"/v1/sessions/{session['id']}", json={"model": None}).json()["model"] is None
    # each answer says which model wrote it (API.md Messages: model); the questions name none
    assert [(m["role"], m["model"]) for m in messages(api, session)][-4:] == [
        ("user", None), ("assistant", "fake/fake-model-large"), ("user", None), ("assistant", "fake/fake-model")]
    error_of(api.patch(f"/v1/sessions/{session['id']}", json={"model": "fake/no-such-model"}), 400,
             "validation_error", "model")
    error_of(api.patch(f"/v1/sessions/{session['id']}", json={"model": 7}), 400, "validation_error")
    error_of(say(api, session, "x", model="nowhere/at-all"), 400, "validation_error", "model")
    assert api.get(f"/v1/sessions/{session['id']}").json()["title"] == "Budget"


def test_delete_archives_and_purge_deletes_for_good(api):
    session = new_session(api)
    say(api, session, "a very particular albatross")
    archived = api.delete(f"/v1/sessions/{session['id']}")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert len(messages(api, session)) == 2
    gone = api.delete(f"/v1/sessions/{session['id']}", params={"purge": "true"})
    assert gone.json() == {"id": session["id"], "object": "session", "deleted": True}
    error_of(api.get(f"/v1/sessions/{session['id']}"), 404, "not_found")
    error_of(api.get("/v1/messages", params={"session_id": session["id"]}), 404, "not_found")
    assert api.get("/v1/sessions", params={"q": "albatross"}).json()["data"] == []
    error_of(api.delete(f"/v1/sessions/{session['id']}", params={"purge": "true"}), 404, "not_found")
    error_of(api.delete(f"/v1/sessions/{session['id']}", params={"purge": "maybe"}), 400, "validation_error", "purge")


def test_export_downloads_markdown_and_json(api):
    session = new_session(api, title="Trip: Lisbon / Porto")
    say(api, session, "Plan **two** days")
    md = api.get(f"/v1/sessions/{session['id']}/export", params={"format": "markdown"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    disposition = md.headers["content-disposition"]
    assert disposition.startswith("attachment") and "conversation-trip-lisbon-porto-" in disposition
    assert disposition.rstrip('"').endswith(".md")
    text = md.text
    assert text.startswith("# Trip: Lisbon / Porto") and "## You · " in text and text.count("Plan **two** days") == 2
    js = api.get(f"/v1/sessions/{session['id']}/export", params={"format": "json"})
    assert js.headers["content-disposition"].rstrip('"').endswith(".json")
    data = js.json()
    assert data["session"]["id"] == session["id"] and [m["role"] for m in data["messages"]] == ["user", "assistant"]
    error_of(api.get(f"/v1/sessions/{session['id']}/export", params={"format": "pdf"}), 400, "validation_error",
             "format")
    error_of(api.get("/v1/sessions/ses_nope/export"), 404, "not_found")


def test_export_of_a_turn_with_tool_calls_reads_as_one_answer_and_keeps_every_message(api, fake):
    session = new_session(api, agent="analyst")
    fake.enqueue(Reply.tool_calls([{"id": "call_7", "name": "calculator", "arguments": {"expression": "6*7"}}]),
                 Reply.text("It is **42**.\n\n```py\nprint(6 * 7)\n```"))
    say(api, session, "what is 6*7?")
    text = api.get(f"/v1/sessions/{session['id']}/export", params={"format": "markdown"}).text
    assert text.count("## Analyst · ") == 1  # the tool call and the answer are one turn
    assert re.search(r"^## Analyst · .+ UTC · fake/fake-model$", text, re.M)  # and it says which model wrote it
    tool = text.index("**Tool `calculator`**")
    assert tool < text.index('"expression": "6*7"') < text.index('"result": 42') < text.index("It is **42**.")
    assert "```py\nprint(6 * 7)\n```" in text  # the answer's own code block stays intact
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", text.split("## You · ")[1].split("\n")[0])  # readable time
    data = api.get(f"/v1/sessions/{session['id']}/export", params={"format": "json"}).json()
    assert [m["role"] for m in data["messages"]] == ["user", "assistant", "tool", "assistant"]
    call = data["messages"][1]["tool_calls"][0]
    assert call["id"] == "call_7" and json.loads(call["function"]["arguments"]) == {"expression": "6*7"}
    assert data["messages"][2]["tool_call_id"] == "call_7" and json.loads(data["messages"][2]["content"])["result"] == 42
    assert data["messages"] == api.get("/v1/messages", params={"session_id": session["id"]}).json()["data"]


def test_deleting_an_answer_takes_its_tool_messages_and_a_user_message_goes_alone(api, fake):
    session = new_session(api)
    say(api, session, "first")
    fake.enqueue(Reply.tool_calls([{"id": "call_1", "name": "calculator", "arguments": {"expression": "2+2"}}]),
                 Reply.text("It is 4."))
    say(api, session, "what is 2+2?")
    stored = messages(api, session)
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant", "tool", "assistant"]
    r = api.delete(f"/v1/messages/{stored[5]['id']}")
    assert r.status_code == 200 and r.json()["deleted_ids"] == [m["id"] for m in stored[3:6]]
    left = messages(api, session)
    assert [m["id"] for m in left] == [m["id"] for m in stored[:3]]
    assert api.get(f"/v1/sessions/{session['id']}").json()["message_count"] == 3
    assert api.delete(f"/v1/messages/{stored[2]['id']}").json()["deleted_ids"] == [stored[2]["id"]]
    assert [m["role"] for m in messages(api, session)] == ["user", "assistant"]
    error_of(api.delete(f"/v1/messages/{stored[2]['id']}"), 404, "not_found")


def test_regenerate_replaces_the_last_answer_with_a_new_run_for_the_same_message(api, fake):
    session = new_session(api)
    say(api, session, "name a colour")
    fake.enqueue(Reply.text("Red."))
    say(api, session, "name a fruit")
    first = messages(api, session)
    fake.enqueue(Reply.text("Apple."))
    r = api.post("/v1/chat/completions", json={"agent_id": session["agent_id"], "session_id": session["id"],
                                               "regenerate": True})
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "Apple."
    after = messages(api, session)
    assert [m["id"] for m in after[:3]] == [m["id"] for m in first[:3]] and len(after) == 4
    assert after[3]["content"] == "Apple." and after[3]["id"] != first[3]["id"]
    sent = fake.chat_requests()[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["name a colour", "name a fruit"]


def test_edit_replaces_the_message_drops_what_followed_and_answers_again(api, fake):
    session = new_session(api)
    say(api, session, "one")
    say(api, session, "two")
    first = messages(api, session)
    r = say(api, session, "uno", edit_message_id=first[0]["id"])
    assert r.status_code == 200
    after = messages(api, session)
    assert [(m["id"], m["content"]) for m in after] == [(first[0]["id"], "uno"), (after[1]["id"], "uno")]
    assert api.get(f"/v1/sessions/{session['id']}").json()["message_count"] == 2
    found = [s["id"] for s in api.get("/v1/sessions", params={"q": "two"}).json()["data"]]
    assert session["id"] not in found


def test_regenerate_and_edit_refuse_bad_input_and_keep_the_conversation(api):
    session = new_session(api)
    body = {"agent_id": session["agent_id"], "session_id": session["id"]}
    error_of(api.post("/v1/chat/completions", json={**body, "regenerate": True}), 400, "validation_error",
             "regenerate")  # nothing to answer again yet
    say(api, session, "hi")
    stored = messages(api, session)
    cases = [
        ({"agent_id": session["agent_id"], "regenerate": True}, "session_id"),
        ({**body, "regenerate": True, "message": "x"}, "message"),
        ({**body, "edit_message_id": stored[0]["id"]}, "message"),
        ({**body, "edit_message_id": stored[1]["id"], "message": "x"}, "edit_message_id"),
        ({**body, "edit_message_id": "msg_elsewhere", "message": "x"}, "edit_message_id"),
        ({**body, "regenerate": True, "edit_message_id": stored[0]["id"]}, "regenerate"),
        ({**body, "regenerate": "yes"}, None),
    ]
    for request, param in cases:
        error_of(api.post("/v1/chat/completions", json=request), 400, "validation_error", param)
    assert messages(api, session) == stored


def test_the_migration_indexes_messages_stored_before_it(srv, api):
    session = new_session(api)
    say(api, session, "a marmalade recipe from before the index")
    with srv.ctx.db.write() as conn:  # back to the shape before m014, with the message already stored
        for trigger in ("insert", "delete", "update"):
            conn.execute(f"DROP TRIGGER messages_fts_{trigger}")
        conn.execute("DROP TABLE messages_fts")
        conn.execute("ALTER TABLE sessions DROP COLUMN model")
        m014_session_search.migrate(conn)
    found = api.get("/v1/sessions", params={"q": "marmalade"}).json()["data"]
    assert [s["id"] for s in found] == [session["id"]]


def test_the_document_lists_the_new_routes(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert "delete" in paths["/v1/messages/{message_id}"] and "get" in paths["/v1/sessions/{session_id}/export"]
    form = json.dumps(paths["/v1/chat/completions"]["post"]["requestBody"])
    assert "edit_message_id" in form and "regenerate" in form


def test_a_room_members_session_cannot_be_purged_under_its_room(api):
    room = api.post("/v1/rooms", json={"name": "Purge check", "members": ["writer", "analyst"]})
    assert room.status_code == 201, room.text
    member = api.get("/v1/sessions", params={"channel": "room", "limit": 200}).json()["data"][0]
    error_of(api.delete(f"/v1/sessions/{member['id']}", params={"purge": "true"}), 409, "conflict")
    assert api.get(f"/v1/sessions/{member['id']}").status_code == 200


def test_a_stopped_answer_can_be_cut_back_to_what_was_shown_and_nothing_else_can(api, fake, srv):
    session = new_session(api)
    fake.enqueue(Reply.text(" ".join(f"w{i}" for i in range(400)), chunks=400, delay=0.02))
    with httpx.stream("POST", f"{srv.url}/v1/chat/completions", headers=api.headers, timeout=10,
                      json={"agent_id": "analyst", "session_id": session["id"], "message": "count", "stream": True}) as r:
        for line in r.iter_lines():
            if '"w20' in line:
                break  # the reader presses Stop
    answer = wait_until(lambda: next((m for m in messages(api, session)
                                      if m["role"] == "assistant" and m["status"] == "stopped"), None), timeout=10)
    shown = answer["content"][: answer["content"].index("w20")]
    cut = api.patch(f"/v1/messages/{answer['id']}", json={"content": shown})
    assert cut.status_code == 200 and cut.json()["content"] == shown and cut.json()["status"] == "stopped"
    assert messages(api, session)[-1]["content"] == shown
    error_of(api.patch(f"/v1/messages/{answer['id']}", json={"content": shown + "w999"}), 400, "validation_error",
             "content")  # only ever the start of its own text
    question = messages(api, session)[0]
    error_of(api.patch(f"/v1/messages/{question['id']}", json={"content": ""}), 409, "conflict", "content")
    error_of(api.patch(f"/v1/messages/{answer['id']}", json={"content": 5}), 400, "validation_error")
    error_of(api.patch(f"/v1/messages/{answer['id']}", json={"text": "x"}), 400, "validation_error")
    error_of(api.patch("/v1/messages/msg_nope", json={"content": ""}), 404, "not_found")
