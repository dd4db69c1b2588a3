"""Rooms that explain themselves: the empty state, the mention hint, votes as cards (placeholders are no
votes), rename / reopen / delete, one error banner per turn, and former members by name."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.fakes import Reply
from tests.screens_ui.conftest import open_screen

PLACEHOLDER = json.dumps({"vote": "<your choice, in a few words>", "rationale": "<one or two sentences>"})


def make_room(site, members, mode="round_robin", name="Launch review"):
    r = site.api.post("/v1/rooms", json={"name": name, "topic": "Ship on Friday?", "members": members, "mode": mode,
                                         "chair_agent_id": members[0]})
    assert r.status_code == 201, r.text
    return r.json()


def test_with_no_rooms_the_screen_says_what_a_room_is_for(ui, site):
    open_screen(ui, site, "rooms")
    page = ui.page
    explain = page.get_by_role("region", name="What a room is for")
    expect(explain).to_contain_text("A room puts several agents in one conversation")
    expect(explain).to_contain_text("Press Decide")
    expect(page.get_by_role("form", name="New room")).to_be_visible()
    ui.shot("screens-rooms-empty")


def test_a_mention_post_naming_nobody_gets_a_hint_and_votes_read_as_cards(ui, site, fake):
    make_room(site, ["researcher", "writer", "analyst"], mode="mention", name="Mention council")
    open_screen(ui, site, "rooms")
    page = ui.page
    expect(page.get_by_role("heading", name="Mention council")).to_be_visible()
    page.get_by_label("Message").fill("What should we do?")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("status").filter(has_text="Nobody was mentioned")).to_contain_text(
        "@researcher, @writer, @analyst")
    assert fake.chat_requests() == []

    fake.enqueue(Reply.text(PLACEHOLDER), Reply.text(json.dumps({"vote": "ship", "rationale": "Docs are done."})),
                 Reply.text(PLACEHOLDER))
    page.get_by_role("button", name="Decide").click()
    decision = page.get_by_role("region", name="Decision")
    expect(decision.locator(".outcome")).to_have_text("ship")
    votes = decision.get_by_role("list", name="Votes")
    expect(votes.get_by_role("listitem")).to_have_count(3)
    expect(votes.get_by_role("group", name="Vote of Writer")).to_contain_text("Docs are done.")
    expect(votes.get_by_role("group", name="Vote of Researcher")).to_contain_text("No vote")
    discussion = page.get_by_role("log", name="Room discussion")
    expect(discussion.get_by_role("group", name="Vote of Writer")).to_contain_text("ship")
    expect(discussion.get_by_role("group", name="Vote of Researcher")).to_contain_text("No vote")
    expect(discussion).not_to_contain_text('"vote"')
    expect(discussion).not_to_contain_text("<your choice")
    expect(page.get_by_text("The room has decided; the discussion is closed.")).to_be_visible()
    ui.shot("screens-rooms-votes")


def test_a_room_is_renamed_reopened_and_deleted(ui, site):
    room = make_room(site, ["writer", "analyst"], name="Old name")
    site.api.post(f"/v1/rooms/{room['id']}/decide", json={"decision": "Wait a week."}).raise_for_status()
    open_screen(ui, site, "rooms")
    page = ui.page
    page.get_by_role("list", name="Rooms").get_by_role("button", name="Old name").click()
    page.get_by_role("button", name="Rename room").click()
    rename = page.get_by_role("form", name="Rename room")
    rename.get_by_label("Room name").fill("Release council")
    rename.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Release council")).to_be_visible()

    expect(page.get_by_role("region", name="Decision")).to_contain_text("Wait a week.")
    page.get_by_role("button", name="Reopen room").click()  # the confirm() is accepted by the fixture
    expect(page.get_by_role("button", name="Post")).to_be_visible()
    expect(page.get_by_role("region", name="Decision")).to_have_count(0)
    assert site.api.get(f"/v1/rooms/{room['id']}").json() | {"updated_at": None} == room | {
        "name": "Release council", "updated_at": None}

    page.get_by_role("button", name="Delete room").click()
    expect(page.get_by_role("list", name="Rooms").get_by_role("button", name="Release council")).to_have_count(0)
    assert site.api.get(f"/v1/rooms/{room['id']}").status_code == 404


def test_failing_members_share_one_banner_and_former_members_keep_their_names(ui, site, fake):
    ids = [site.api.post("/v1/agents", json={"name": n, "display_name": d, "instructions": "x"}).json()["id"]
           for n, d in (("temp-a", "Temp A"), ("temp-b", "Temp B"))]
    make_room(site, [*ids, "analyst"], name="Flaky room")
    open_screen(ui, site, "rooms")
    page = ui.page
    page.get_by_role("list", name="Rooms").get_by_role("button", name="Flaky room").click()
    fake.enqueue(Reply.error(400, "model rejected the request"), Reply.error(400, "model rejected the request"),
                 Reply.text("Still here."))
    page.get_by_label("Message").fill("Status?")
    page.get_by_role("button", name="Post").click()
    discussion = page.get_by_role("log", name="Room discussion")
    expect(discussion).to_contain_text("Still here.")
    alerts = page.get_by_role("alert")
    expect(alerts).to_have_count(1)
    expect(alerts).to_contain_text("2 members could not reply (Temp A, Temp B)")
    ui.shot("screens-rooms-failures")

    site.api.delete(f"/v1/agents/{ids[1]}").raise_for_status()
    open_screen(ui, site, "rooms")
    page.get_by_role("list", name="Rooms").get_by_role("button", name="Flaky room").click()
    expect(page.get_by_text("Temp B (deleted)").first).to_be_visible()
    expect(discussion.locator(".msg-author")).to_contain_text(["You", "Temp A", "Temp B (deleted)", "Analyst"])
