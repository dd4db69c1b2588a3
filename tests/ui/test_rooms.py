"""Rooms: create one, watch the members reply live, decide by vote and read the decision."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.fakes import Reply
from tests.ui.conftest import require_api


@pytest.mark.slow
def test_a_room_discusses_then_decides_by_vote(ui, server, configured, fake):
    require_api(configured, "/v1/rooms")
    ui.open(server.admin_token, "rooms")
    page = ui.page
    expect(page.get_by_role("heading", name="Rooms", exact=True)).to_be_visible()
    page.get_by_role("button", name="New room").click()
    page.get_by_label("Room name").fill("Launch review")
    page.get_by_label("Topic").fill("Do we ship on December 3?")
    for name, wanted in [("Prime", False), ("Researcher", True), ("Writer", True), ("Developer", False), ("Analyst", True)]:
        box = page.get_by_role("group", name="Members").get_by_role("checkbox", name=name, exact=True)
        box.check() if wanted else box.uncheck()
    page.get_by_label("Chair").select_option(label="Analyst")
    page.get_by_role("button", name="Create room").click()
    expect(page.get_by_role("heading", name="Launch review")).to_be_visible()

    # Members answer in the order the form lists them: Researcher, Writer, Analyst.
    fake.enqueue(Reply.text("Tests are green; the risk is low.", chunks=5, delay=0.03),
                 Reply.text("The docs need one more day.", chunks=5, delay=0.03),
                 Reply.text("Sign-ups peak in early December.", chunks=5, delay=0.03))
    page.get_by_label("Message").fill("Are we ready to ship on December 3?")
    page.get_by_role("button", name="Post").click()
    discussion = page.get_by_role("log", name="Room discussion")
    expect(discussion.locator("article.msg.assistant")).to_have_count(3)
    expect(discussion).to_contain_text("Tests are green")
    expect(discussion).to_contain_text("The docs need one more day.")
    expect(discussion.locator("article.msg.assistant .msg-author")).to_have_text(["Researcher", "Writer", "Analyst"])
    expect(discussion.locator("article.msg.user")).to_have_count(1)
    expect(page.get_by_role("button", name="Post")).to_be_visible()

    fake.enqueue(*(Reply.text(json.dumps({"vote": vote, "rationale": why})) for vote, why in [
        ("ship", "Quality is there."), ("wait", "Docs first."), ("ship", "Timing matters.")]))
    page.get_by_label("Question").fill("Ship on December 3?")
    page.get_by_label("Method").select_option("vote")
    page.get_by_role("button", name="Decide").click()
    decision = page.get_by_role("region", name="Decision")
    expect(decision.locator(".outcome")).to_have_text("ship")
    expect(decision.get_by_role("list", name="Votes").get_by_role("listitem")).to_have_count(3)
    expect(decision).to_contain_text("Docs first.")
    expect(page.get_by_text("The room has decided; the discussion is closed.")).to_be_visible()
    room = configured.get("/v1/rooms").json()["data"][0]
    assert room["status"] == "decided" and room["decision"]["outcome"] == "ship"
    ui.shot("room-decision")
    ui.assert_clean()
