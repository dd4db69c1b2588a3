"""Memory: add a memory in the form, then find it by meaning with its relevance score."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.fakes import Reply
from tests.ui.conftest import require_api


def test_a_saved_memory_is_found_by_search_with_a_score(ui, server, configured):
    require_api(configured, "/v1/memory")
    ui.open(server.admin_token, "memory")
    page = ui.page
    expect(page.get_by_role("heading", name="Memory", exact=True)).to_be_visible()
    expect(page.get_by_label("Agent")).to_be_visible()

    page.get_by_role("button", name="Add memory").click()
    page.get_by_label("Content").fill("The product launch is planned for the third of December.")
    page.get_by_label("Kind").select_option("fact")
    page.get_by_label("Importance").fill("0.9")
    page.get_by_role("button", name="Save memory").click()
    memories = page.get_by_role("list", name="Memories")
    expect(memories.get_by_text("The product launch is planned")).to_be_visible()

    configured.post("/v1/memory/save", json={"scope": "workspace", "kind": "preference",
                                             "content": "The user likes tea more than coffee."})
    page.get_by_label("Search memories").fill("When is the launch?")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text(re.compile(r"\d+ results? for"))).to_be_visible()
    first = memories.locator(".list-item").first
    expect(first).to_contain_text("The product launch is planned")
    score = first.locator(".badge").inner_text()
    assert re.fullmatch(r"[01]\.\d\d", score), score
    ui.shot("memory-search")

    first.click()
    expect(page.get_by_label("Content")).to_have_value("The product launch is planned for the third of December.")
    page.get_by_label("Content").fill("The product launch is planned for the fourth of December.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(memories.get_by_text("fourth of December")).to_be_visible()
    ui.assert_clean()


def test_recalled_memories_show_as_chips_with_their_score_also_when_reopened(ui, server, configured, fake):
    require_api(configured, "/v1/memory")
    prime = next(a for a in configured.get("/v1/agents").json()["data"] if a["name"] == "prime")
    saved = configured.post("/v1/memory/save", json={"scope": "agent", "agent_id": prime["id"], "kind": "fact",
                                                     "content": "The product launch is on the third of December."})
    assert saved.status_code == 201, saved.text
    fake.enqueue(Reply.text("It is on December 3.", chunks=3))
    ui.open(server.admin_token)
    page = ui.page
    page.get_by_label("Message").fill("When is the product launch?")
    page.get_by_label("Message").press("Enter")
    reply = page.locator("article.msg.assistant").last
    expect(reply).to_contain_text("It is on December 3.")
    chip = reply.get_by_role("group", name="Recalled memories").locator(".chip").first
    expect(chip.locator(".text")).to_have_text("The product launch is on the third of December.")
    score = chip.locator(".score").inner_text()
    assert re.fullmatch(r"[01]\.\d\d", score)
    ui.shot("chat-recalled-memory")

    page.reload()  # the conversation is reopened from the stored messages
    reopened = page.locator("article.msg.assistant").last
    expect(reopened).to_contain_text("It is on December 3.")
    chips = reopened.get_by_role("group", name="Recalled memories").locator(".chip")
    expect(chips).to_have_count(1)
    expect(chips.first.locator(".text")).to_have_text("The product launch is on the third of December.")
    expect(chips.first.locator(".score")).to_have_text(score)
    ui.shot("chat-recalled-memory-reopened")
    ui.assert_clean()


def test_the_scope_filter_filters_search_results_and_a_memory_saved_elsewhere_stays_in_view(ui, server, configured):
    require_api(configured, "/v1/memory")
    prime = next(a for a in configured.get("/v1/agents").json()["data"] if a["name"] == "prime")
    for body in ({"scope": "agent", "agent_id": prime["id"], "content": "The user's bicycle is a green Gazelle."},
                 {"scope": "workspace", "content": "The office bicycle shed opens at 7 am."}):
        configured.post("/v1/memory/save", json={"kind": "fact", **body}).raise_for_status()
    ui.open(server.admin_token, "memory")
    page = ui.page
    tools = page.locator(".pane-tools")
    memories = page.get_by_role("list", name="Memories")
    tools.get_by_label("Agent").select_option(label="Prime")
    tools.get_by_label("Scope").select_option("agent")
    page.get_by_label("Search memories").fill("Tell me about bicycles")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text(re.compile(r"1 result for"))).to_be_visible()
    expect(memories.get_by_text("green Gazelle")).to_be_visible()
    expect(memories.get_by_text("bicycle shed")).to_have_count(0)  # a workspace memory, not this agent's

    tools.get_by_label("Scope").select_option("workspace")  # the search runs again in the new scope
    expect(memories.get_by_text("bicycle shed")).to_be_visible()
    expect(memories.get_by_text("green Gazelle")).to_have_count(0)
    ui.shot("memory-search-scope")

    # saving a memory of another scope than the one shown switches to it instead of hiding it
    page.get_by_role("button", name="Add memory").click()
    form = page.get_by_role("form", name="New memory")
    form.get_by_label("Content").fill("The user's bicycle lock code is kept in the password manager.")
    form.get_by_label("Scope").select_option("agent")
    page.get_by_role("button", name="Save memory").click()
    expect(tools.get_by_label("Scope")).to_have_value("agent")
    expect(memories.get_by_text("bicycle lock code")).to_be_visible()
    ui.shot("memory-saved-elsewhere")
    ui.assert_clean()
