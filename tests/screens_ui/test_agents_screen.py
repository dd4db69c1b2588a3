"""The Agents form: a name that follows the display name, a pattern Chromium can compile, tools with their
descriptions, and "Restore built-in agents"."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.screens_ui.conftest import open_screen


def test_a_new_agents_name_follows_its_display_name_until_edited(ui, site):
    open_screen(ui, site, "agents")
    page = ui.page
    # the button answers once the screen has loaded, which the filled list shows
    expect(page.get_by_role("list", name="Agents").get_by_role("button", name=re.compile(r"^Prime"))).to_be_visible()
    page.get_by_role("button", name="New agent").click()
    page.get_by_label("Display name").fill("Research Helper!")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_value("research-helper")
    # the pattern compiles in Chromium (an invalid one would check nothing): a bad name is caught here
    name.fill("Bad Name")
    assert page.evaluate("() => document.activeElement.validity.patternMismatch") is True
    name.fill("helper_2")
    assert page.evaluate("() => document.activeElement.validity.valid") is True
    page.get_by_label("Display name").fill("Another Title")
    expect(name).to_have_value("helper_2")  # edited by hand: no longer derived
    page.get_by_label("Instructions").fill("Help with research.")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", name="Another Title")).to_be_visible()
    assert any(a["name"] == "helper_2" for a in site.api.get("/v1/agents").json()["data"])


def test_tools_are_listed_with_what_they_do(ui, site):
    open_screen(ui, site, "agents")
    page = ui.page
    page.get_by_role("list", name="Agents").get_by_role("button", name=re.compile(r"^Prime")).click()
    calculator = page.get_by_role("checkbox", name="calculator", exact=True)
    expect(calculator).to_be_checked()
    description = next(t["description"] for t in site.api.get("/v1/tools").json()["data"] if t["name"] == "calculator")
    expect(calculator).to_have_accessible_description(re.compile(re.escape(description.split("\n")[0][:40])))
    expect(page.get_by_role("group", name="Tools")).to_contain_text(description.split("\n")[0][:40])
    ui.shot("screens-agents-tools")


def test_restore_built_in_agents_brings_back_a_deleted_one(ui, site):
    writer = next(a for a in site.api.get("/v1/agents").json()["data"] if a["name"] == "writer")
    assert site.api.delete(f"/v1/agents/{writer['id']}").status_code == 200
    open_screen(ui, site, "agents")
    page = ui.page
    agents = page.get_by_role("list", name="Agents")
    expect(agents.get_by_role("button", name=re.compile(r"^Prime"))).to_be_visible()
    expect(agents.get_by_role("button", name=re.compile(r"^Writer"))).to_have_count(0)
    page.get_by_role("button", name="Restore built-in agents").click()
    expect(page.get_by_text("Restored Writer")).to_be_visible()
    expect(agents.get_by_role("button", name=re.compile(r"^Writer"))).to_be_visible()
    page.get_by_role("button", name="Restore built-in agents").click()
    expect(page.get_by_text("All built-in agents are already here.")).to_be_visible()
