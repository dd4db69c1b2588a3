"""Rooms end to end: three agents take turns, get mentioned, vote and decide, all through the fake provider."""

from __future__ import annotations

import json
import threading

from tests.fakes import Reply
from tests.support.wait import wait_until
from tests.tools_api.stack import agent_requests, answer_by_agent, last_user_text, sse


def make_room(api, mode="round_robin", chair="beta", **extra):
    r = api.post("/v1/rooms", json={"name": "Colour council", "topic": "the logo colour",
                                    "members": ["alpha", "beta", "gamma"], "chair_agent_id": chair, "mode": mode,
                                    **extra})
    assert r.status_code == 201, r.text
    return r.json()


def vote(choice, why="because"):
    return json.dumps({"vote": choice, "rationale": why})


def test_round_robin_each_member_sees_the_earlier_replies(api, fake, agents, server):
    room = make_room(api)
    assert room["members"] == [agents["alpha"], agents["beta"], agents["gamma"]]
    assert room["chair_agent_id"] == agents["beta"] and room["status"] == "open" and room["decision"] is None
    answer_by_agent(fake, {"Alpha": "Alpha thinks red", "Beta": "Beta thinks blue", "Gamma": "Gamma agrees with both"})

    r = api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "Pick a colour"})
    assert r.status_code == 200, r.text
    new = r.json()["data"]
    assert [(m["role"], m["agent_id"], m["content"]) for m in new] == [
        ("user", None, "Pick a colour"), ("assistant", agents["alpha"], "Alpha thinks red"),
        ("assistant", agents["beta"], "Beta thinks blue"), ("assistant", agents["gamma"], "Gamma agrees with both")]

    # what the model was asked: the third member saw the human and both earlier replies, in order
    gamma_prompt = last_user_text(agent_requests(fake, "Gamma")[-1])
    assert gamma_prompt.index("[human]: Pick a colour") < gamma_prompt.index("[alpha]: Alpha thinks red") \
        < gamma_prompt.index("[beta]: Beta thinks blue")
    beta_prompt = last_user_text(agent_requests(fake, "Beta")[-1])
    assert "[alpha]: Alpha thinks red" in beta_prompt and "Gamma" not in beta_prompt
    assert "Colour council" in agent_requests(fake, "Gamma")[-1]["messages"][0]["content"]

    # the transcript, oldest first and paginated; each reply is stored in its member's room session too
    page = api.get(f"/v1/rooms/{room['id']}/messages", params={"limit": 2}).json()
    rest = api.get(f"/v1/rooms/{room['id']}/messages", params={"cursor": page["next_cursor"]}).json()
    assert [m["id"] for m in page["data"] + rest["data"]] == [m["id"] for m in new]
    session = api.get("/v1/messages", params={"session_id": new[3]["session_id"]}).json()["data"]
    assert [m["role"] for m in session] == ["user", "assistant"] and session[1]["content"] == "Gamma agrees with both"
    assert api.get(f"/v1/sessions/{new[3]['session_id']}").json()["channel"] == "room"

    # next turn: alpha catches up on what it missed, and its history holds its own earlier reply
    answer_by_agent(fake, {"Alpha": "Still red", "Beta": "Fine", "Gamma": "Ok"})
    api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "Final thoughts?"})
    alpha = agent_requests(fake, "Alpha")[-1]
    caught_up = last_user_text(alpha)
    assert "[beta]: Beta thinks blue" in caught_up and "[gamma]: Gamma agrees with both" in caught_up
    assert "[human]: Final thoughts?" in caught_up and "Alpha thinks red" not in caught_up
    assert {"role": "assistant", "content": "Alpha thinks red"} in alpha["messages"]


def test_mention_mode_asks_only_the_named_members_in_mention_order(api, fake, agents):
    room = make_room(api, mode="mention")
    answer_by_agent(fake, {"Alpha": "alpha here", "Beta": "beta here", "Gamma": "gamma here"})
    new = api.post(f"/v1/rooms/{room['id']}/messages",
                   json={"content": "@gamma what do you think? and you, @Alpha? (@nobody, email@beta.com)"}).json()
    assert [m["agent_id"] for m in new["data"]] == [None, agents["gamma"], agents["alpha"]]
    assert agent_requests(fake, "Beta") == []
    silent = api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "just a note"}).json()["data"]
    assert len(silent) == 1 and len(fake.chat_requests()) == 2


def test_vote_tie_goes_to_the_chair_and_a_second_decide_is_409(api, fake, agents, server):
    room = make_room(api, chair="beta")
    with server.ctx.hub.subscribe("default", topics=[f"room:{room['id']}"]) as events:
        answer_by_agent(fake, {"Alpha": vote("Red", "warm"), "Beta": "```json\n" + vote("blue", "calm") + "\n```",
                               "Gamma": "I would rather not choose."})
        r = api.post(f"/v1/rooms/{room['id']}/decide", json={"method": "vote", "question": "Which colour?"})
        assert r.status_code == 200, r.text
        decided = r.json()
        published = events.drain()
    decision = decided["decision"]
    assert decided["status"] == "decided" and decision["outcome"] == "blue" and decision["method"] == "vote"
    assert decision["votes"] == [
        {"agent_id": agents["alpha"], "vote": "Red", "rationale": "warm"},
        {"agent_id": agents["beta"], "vote": "blue", "rationale": "calm"},
        {"agent_id": agents["gamma"], "vote": None, "rationale": "I would rather not choose."}]
    assert "tie" in decision["summary"] and "beta" in decision["summary"] and decision["decided_at"]
    assert "Which colour?" in last_user_text(agent_requests(fake, "Gamma")[-1])
    assert [e["event"] for e in published] == ["room.message"] * 3 + ["room.decided"]
    assert published[-1]["data"]["decision"]["outcome"] == "blue"

    again = api.post(f"/v1/rooms/{room['id']}/decide", json={"method": "chair"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert api.post(f"/v1/rooms/{room['id']}/decide", json={"decision": "green"}).status_code == 409
    assert api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "wait"}).status_code == 409
    assert api.get(f"/v1/rooms/{room['id']}").json()["decision"] == decision
    kinds = [m["kind"] for m in api.get(f"/v1/rooms/{room['id']}/messages").json()["data"]]
    assert kinds == ["vote", "vote", "vote"]


def test_majority_wins_and_a_chair_outside_the_tie_is_asked_to_break_it(api, fake, agents):
    majority = make_room(api)
    answer_by_agent(fake, {"Alpha": vote("green"), "Beta": vote("Green."), "Gamma": vote("red")})
    decision = api.post(f"/v1/rooms/{majority['id']}/decide", json={"method": "vote"}).json()["decision"]
    assert decision["outcome"] == "green" and decision["summary"] == "2 of 3 members voted for “green” (1 for “red”)."

    tied = make_room(api, chair="gamma")
    chair_answers = iter([vote(None), vote("Blue", "the tie-break")])  # abstains, then picks when asked
    answer_by_agent(fake, {"Alpha": vote("red"), "Beta": vote("blue"), "Gamma": lambda body: Reply.text(next(chair_answers))})
    decision = api.post(f"/v1/rooms/{tied['id']}/decide", json={"method": "vote"}).json()["decision"]
    assert decision["outcome"] == "blue"
    assert "tied between “red” and “blue”" in last_user_text(agent_requests(fake, "Gamma")[-1])
    assert [m["kind"] for m in api.get(f"/v1/rooms/{tied['id']}/messages").json()["data"]][-1] == "ruling"


def test_the_chair_rules_after_reading_every_position(api, fake, agents):
    room = make_room(api, chair="alpha")
    chair_answers = iter([vote("ship", "ready"), json.dumps({"outcome": "Ship on Monday", "summary": "Two want it."})])
    answer_by_agent(fake, {"Alpha": lambda body: Reply.text(next(chair_answers)), "Beta": vote("wait", "tests"),
                           "Gamma": vote("ship", "users")})
    decided = api.post(f"/v1/rooms/{room['id']}/decide", json={"method": "chair"}).json()
    assert decided["decision"]["outcome"] == "Ship on Monday" and decided["decision"]["method"] == "chair"
    assert decided["decision"]["summary"] == "Two want it."
    ruling_prompt = last_user_text(agent_requests(fake, "Alpha")[-1])
    assert "beta: wait — tests" in ruling_prompt and "gamma: ship — users" in ruling_prompt


def test_a_human_decision_is_recorded_directly(api, fake):
    room = make_room(api)
    decided = api.post(f"/v1/rooms/{room['id']}/decide", json={"decision": "Purple, final."}).json()
    assert decided["status"] == "decided" and decided["decision"]["outcome"] == "Purple, final."
    assert decided["decision"]["method"] == "human" and decided["decision"]["votes"] == []
    assert fake.chat_requests() == []
    assert api.get("/v1/rooms", params={"status": "decided"}).json()["data"][0]["id"] == room["id"]


def test_a_streamed_post_sends_each_message_as_it_is_stored(api, fake, agents):
    room = make_room(api)
    answer_by_agent(fake, {"Alpha": "one two", "Beta": "three", "Gamma": "four"})
    with api.stream("POST", f"/v1/rooms/{room['id']}/messages", json={"content": "go", "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse(r)
    messages = [data for name, data in events if name == "room.message"]
    assert [m["content"] for m in messages] == ["go", "one two", "three", "four"]
    deltas = [data for name, data in events if name == "room.delta"]
    assert "".join(d["text"] for d in deltas if d["agent_id"] == agents["alpha"]) == "one two"
    assert {d["message_id"] for d in deltas} == {m["id"] for m in messages[1:]}
    assert events[-1] == ("message", "[DONE]")
    assert api.get(f"/v1/rooms/{room['id']}/messages").json()["data"] == messages


def test_room_rules(api, agents, server):
    assert api.post("/v1/rooms", json={"name": "x", "members": ["alpha", "ghost"]}).status_code == 404
    r = api.post("/v1/rooms", json={"name": "x", "members": ["alpha", "beta"], "chair_agent_id": "gamma"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "chair_agent_id"
    assert api.post("/v1/rooms", json={"name": "x", "members": ["alpha", "alpha"]}).status_code == 400
    assert api.post("/v1/rooms", json={"name": "x", "members": []}).status_code == 400
    default_chair = api.post("/v1/rooms", json={"name": "x", "members": ["gamma", agents["alpha"]]}).json()
    assert default_chair["chair_agent_id"] == agents["gamma"] and default_chair["mode"] == "round_robin"
    assert api.post(f"/v1/rooms/{default_chair['id']}/decide", json={"method": "poll"}).status_code == 400
    other = server.ctx.tokens.issue("elsewhere", "admin", label="other tenant")
    with server.client(other) as them:
        assert them.get(f"/v1/rooms/{default_chair['id']}").status_code == 404
        assert them.post(f"/v1/rooms/{default_chair['id']}/messages", json={"content": "hi"}).status_code == 404
        assert them.get("/v1/rooms").json()["data"] == []
        assert them.post("/v1/rooms", json={"name": "x", "members": [agents["alpha"]]}).status_code == 404


def test_a_member_whose_run_fails_leaves_a_failed_message_and_the_turn_goes_on(api, fake, agents):
    room = make_room(api)
    answer_by_agent(fake, {"Alpha": "first", "Beta": lambda body: Reply.error(400, "upstream refused"),
                           "Gamma": "third"})
    new = api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "go"}).json()["data"]
    assert [(m["status"], m["content"]) for m in new[1:]] == [("complete", "first"), ("failed", ""),
                                                             ("complete", "third")]
    assert new[2]["error"]["code"] == "provider_error" and new[2]["agent_id"] == agents["beta"]
    assert "[alpha]: first" in last_user_text(agent_requests(fake, "Gamma")[-1])


def test_one_turn_at_a_time_per_room(api, fake, server):
    room = make_room(api)
    answer_by_agent(fake, {"Alpha": lambda body: Reply.text("slow reply", chunks=5, delay=0.2)})
    first: dict = {}

    def post():
        with server.client() as c:
            first["response"] = c.post(f"/v1/rooms/{room['id']}/messages", json={"content": "one"})

    worker = threading.Thread(target=post)
    worker.start()
    wait_until(fake.chat_requests, timeout=10, interval=0.01, message="the first turn never started")
    busy = api.post(f"/v1/rooms/{room['id']}/messages", json={"content": "two"})
    deciding = api.post(f"/v1/rooms/{room['id']}/decide", json={"method": "vote"})
    worker.join()
    assert busy.status_code == deciding.status_code == 409 and "busy" in busy.json()["error"]["message"]
    assert first["response"].status_code == 200 and len(first["response"].json()["data"]) == 4
    contents = [m["content"] for m in api.get(f"/v1/rooms/{room['id']}/messages").json()["data"]]
    assert "two" not in contents
