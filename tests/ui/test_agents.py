"""Agents: create one in the form, then chat with it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.fakes import Reply


def test_an_agent_created_in_the_form_answers_in_chat(ui, server, configured, fake):
    ui.open(server.admin_token, "agents")
    page = ui.page
    expect(page.get_by_role("heading", name="Agents")).to_be_visible()
    page.get_by_role("button", name="New agent").click()
    page.get_by_label("Name", exact=True).fill("poet")
    page.get_by_label("Display name").fill("Poet")
    page.get_by_label("Description").fill("Writes short poems")
    page.get_by_label("Instructions").fill("You answer every question with a haiku.")
    page.get_by_label("Temperature").fill("0.3")
    tools_served = configured.get("/v1/tools").status_code == 200
    if tools_served:
        page.get_by_role("checkbox", name="current_time").check()
    page.get_by_role("button", name="Create agent").click()

    expect(page.get_by_role("heading", name="Poet")).to_be_visible()
    expect(page.get_by_role("list", name="Agents").get_by_text("Poet")).to_be_visible()
    created = next(a for a in configured.get("/v1/agents").json()["data"] if a["name"] == "poet")
    assert created["instructions"] == "You answer every question with a haiku."
    assert created["temperature"] == 0.3
    assert not tools_served or "current_time" in created["tools"]
    ui.shot("agents-created")

    fake.enqueue(Reply.text("An old silent pond / a frog jumps into the pond / splash! silence again", chunks=4, delay=0.02))
    page.get_by_role("button", name="Chat").click()
    expect(page.get_by_label("Agent")).to_have_value(created["id"])
    page.get_by_label("Message").fill("Tell me about ponds")
    page.get_by_role("button", name="Send").click()
    reply = page.locator("article.msg.assistant").last
    expect(reply.locator(".msg-author")).to_have_text("Poet")
    expect(reply).to_contain_text("splash! silence again")
    system = fake.chat_requests()[-1].body["messages"][0]
    assert system["role"] in ("system", "developer") and "haiku" in str(system["content"])
    ui.shot("agents-chat")
    ui.assert_clean()


def test_deleting_an_agent_hides_it(ui, server, configured):
    made = configured.post("/v1/agents", json={"name": "temp-agent", "display_name": "Temp", "instructions": "x"})
    assert made.status_code == 201, made.text
    ui.open(server.admin_token, "agents")
    page = ui.page
    page.get_by_role("list", name="Agents").get_by_text("Temp", exact=True).click()
    page.get_by_role("button", name="Delete").click()  # the confirm() is accepted by the fixture
    expect(page.get_by_role("list", name="Agents").get_by_text("Temp", exact=True)).to_have_count(0)
    assert configured.get(f"/v1/agents/{made.json()['id']}").status_code == 404
