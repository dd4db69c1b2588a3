"""Rooms after the first turn: rename, reopen, delete; mention posts that name nobody; votes that are not choices."""

from __future__ import annotations

from tests.fakes import Reply
from tests.rooms.test_rooms import make_room, vote
from tests.tools_api.stack import answer_by_agent, sse

PLACEHOLDER = "<your choice, in a few words>"


def test_a_room_is_renamed_reopened_after_a_decision_and_deleted(api, fake, agents):
    room = make_room(api)
    renamed = api.patch(f"/v1/rooms/{room['id']}", json={"name": "Logo council", "topic": "blue or green"}).json()
    assert (renamed["name"], renamed["topic"], renamed["status"]) == ("Logo council", "blue or green", "open")
    api.post(f"/v1/rooms/{room['id']}/decide", json={"decision": "Green."}).raise_for_status()
    assert api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "wait"}).status_code == 409
    reopened = api.patch(f"/v1/rooms/{room['id']}", json={"status": "open"}).json()
    assert reopened["status"] == "open" and reopened["decision"] is None
    answer_by_agent(fake, {"Alpha": "a", "Beta": "b", "Gamma": "c"})
    assert len(api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "again"}).json()["data"]) == 4
    gone = api.delete(f"/v1/rooms/{room['id']}")
    assert gone.status_code == 200 and gone.json() == {"id": room["id"], "object": "room", "deleted": True}
    assert api.get(f"/v1/rooms/{room['id']}").status_code == 404
    assert api.get(f"/v1/rooms/{room['id']}/messages").status_code == 404
    assert api.delete(f"/v1/rooms/{room['id']}").status_code == 404


def test_bad_room_edits_are_clear_400s_and_keep_the_room(api, agents, server):
    room = make_room(api)
    for body, param in [({}, None), ({"name": ""}, "name"), ({"name": "   "}, "name"), ({"status": "closed"}, "status"),
                        ({"status": "decided"}, "status"), ({"members": ["alpha"]}, "members")]:
        r = api.patch(f"/v1/rooms/{room['id']}", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == "validation_error" and r.json()["error"]["param"] == param, r.text
    assert api.get(f"/v1/rooms/{room['id']}").json()["name"] == room["name"]
    other = server.ctx.tokens.issue("elsewhere", "admin", label="other tenant")
    with server.client(other) as them:
        assert them.patch(f"/v1/rooms/{room['id']}", json={"name": "mine"}).status_code == 404
        assert them.delete(f"/v1/rooms/{room['id']}").status_code == 404
    assert api.get(f"/v1/rooms/{room['id']}").status_code == 200


def test_a_mention_post_naming_nobody_says_who_can_be_addressed(api, fake, agents):
    room = make_room(api, mode="mention")
    quiet = api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "what now?"}).json()
    assert len(quiet["data"]) == 1 and fake.chat_requests() == []
    assert "Nobody was mentioned" in quiet["note"] and "@alpha, @beta, @gamma" in quiet["note"]
    with api.stream("POST", f"/v1/rooms/{room['id']}/messages", json={"content": "hello?", "stream": True}) as r:
        events = sse(r)
    notes = [data for name, data in events if name == "room.note"]
    assert len(notes) == 1 and "@alpha" in notes[0]["note"]
    answer_by_agent(fake, {"Alpha": "here"})
    named = api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "@alpha?"}).json()
    assert named["note"] is None and len(named["data"]) == 2


def test_an_echoed_template_placeholder_is_no_vote(api, fake, agents):
    room = make_room(api)
    fake.enqueue(*(Reply.text(vote(PLACEHOLDER, "<one or two sentences>")) for _ in range(3)))
    decided = api.post(f"/v1/rooms/{room['id']}/decide", json={"method": "vote"}).json()
    d = decided["decision"]
    assert d["outcome"] == "no decision" and "No member cast a real vote" in d["summary"]
    assert [v["vote"] for v in d["votes"]] == [None, None, None]


def test_placeholder_votes_do_not_outvote_a_real_one(api, fake, agents):
    room = make_room(api)
    fake.enqueue(Reply.text(vote(PLACEHOLDER)), Reply.text(vote("green", "calm")), Reply.text(vote("< >")))
    d = api.post(f"/v1/rooms/{room['id']}/decide", json={"method": "vote"}).json()["decision"]
    assert d["outcome"] == "green" and [v["vote"] for v in d["votes"]] == [None, "green", None]
