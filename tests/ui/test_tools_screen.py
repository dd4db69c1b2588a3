"""The Tools screen in headless Chromium (here, beside the other browser tests, to share their browser): built-in tools with descriptions, and an MCP server added,
seen connected with its tools, tested, disabled and deleted; its tools show in the agent form."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import expect

TINY = str(Path(__file__).resolve().parents[1] / "mcp" / "tiny_server.py")


def test_add_a_stdio_server_and_see_it_connected_with_its_tools(ui, server, configured):
    page = ui.page
    ui.open(server.admin_token, "tools")
    page.get_by_role("link", name="Tools").wait_for()
    expect(page.get_by_role("heading", name="Built-in tools")).to_be_visible()
    expect(page.get_by_text("calculator", exact=True)).to_be_visible()
    ui.shot("mcp-tools-builtins")

    page.get_by_role("button", name="Add MCP server").click()
    # only the chosen transport's fields show
    expect(page.get_by_label("Command")).to_be_visible()
    expect(page.get_by_label("URL")).to_be_hidden()
    page.get_by_label("Transport").select_option("http")
    expect(page.get_by_label("URL")).to_be_visible()
    expect(page.get_by_label("Headers")).to_be_visible()
    expect(page.get_by_label("Command")).to_be_hidden()
    page.get_by_label("Transport").select_option("stdio")
    expect(page.get_by_label("URL")).to_be_hidden()
    page.get_by_label("Name").fill("tinyui")
    page.get_by_label("Command").fill(sys.executable)
    page.get_by_label("Arguments").fill(TINY)
    ui.shot("mcp-tools-new-server")
    page.get_by_role("button", name="Add server").click()
    expect(page.get_by_role("status", name="Status")).to_have_text("Connected")
    expect(page.get_by_text("mcp.tinyui.add")).to_be_visible()
    expect(page.get_by_text("Add two integers and return their sum.")).to_be_visible()
    ui.shot("mcp-tools-connected")
    page.set_viewport_size({"width": 640, "height": 480})
    ui.shot("mcp-tools-connected-640")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Test").click()
    expect(page.get_by_text(re.compile(r"tinyui answered in \d+ ms"))).to_be_visible()
    page.get_by_label("Enabled").uncheck()
    expect(page.get_by_role("status", name="Status")).to_have_text("Disabled")
    page.get_by_label("Enabled").check()
    expect(page.get_by_role("status", name="Status")).to_have_text("Connected")

    page.get_by_role("link", name="Agents").click()
    page.get_by_role("button", name=re.compile("New agent")).click()
    tool = page.get_by_label("mcp.tinyui.add")
    expect(tool).to_be_visible()
    # the agent form describes each tool beside its checkbox (aria-describedby), MCP ones included
    expect(tool).to_have_accessible_description(re.compile("Add two integers and return their sum."))

    page.get_by_role("link", name="Tools").click()
    page.get_by_role("button", name=re.compile("tinyui")).click()
    page.get_by_role("button", name="Delete server").click()
    expect(page.get_by_text("No MCP servers yet.")).to_be_visible()
    ui.assert_clean()


def test_a_command_that_does_not_exist_is_explained_then_fixed_by_editing(ui, server, configured):
    page = ui.page
    ui.open(server.admin_token, "tools")
    page.get_by_role("button", name="Add MCP server").click()
    page.get_by_label("Name").fill("typo")
    page.get_by_label("Command").fill("/usr/bin/no-such-mcp-server")
    page.get_by_role("button", name="Add server").click()
    expect(page.get_by_role("status", name="Status")).to_have_text("Error")
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("Could not connect: command not found: /usr/bin/no-such-mcp-server")
    expect(problem).to_contain_text("Check the command, its arguments and environment (Edit server), then Test.")
    expect(page.get_by_text("No tools yet: they are listed once the server connects.")).to_be_visible()
    page.get_by_role("button", name="Test").click()
    expect(page.get_by_text("typo did not connect")).to_be_visible()
    ui.shot("mcp-tools-error")

    # the same screen at the smallest supported size and in the dark theme: readable, nothing sideways
    page.set_viewport_size({"width": 640, "height": 480})
    page.evaluate("document.documentElement.setAttribute('data-theme', 'dark')")
    expect(problem).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 640
    for control in ("Test", "Edit server", "Delete server"):
        box = page.get_by_role("button", name=control).bounding_box()
        assert box and box["x"] + box["width"] <= 640, control
    ui.shot("mcp-tools-error-640-dark")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Edit server").click()
    form = page.get_by_role("form", name="Edit MCP server typo")
    expect(form.get_by_label("Transport")).to_be_disabled()
    expect(form.get_by_label("Command")).to_have_value("/usr/bin/no-such-mcp-server")
    expect(form.get_by_label("URL")).to_be_hidden()
    form.get_by_label("Name").fill("BAD NAME")
    form.get_by_role("button", name="Save server").click()
    expect(form.get_by_role("alert")).to_contain_text("Not saved. name is not valid (1 to 32 lower-case letters")
    form.get_by_label("Name").fill("fixed")
    form.get_by_label("Command").fill(sys.executable)
    form.get_by_label("Arguments").fill(TINY)
    ui.shot("mcp-tools-edit-dark")
    form.get_by_role("button", name="Save server").click()
    expect(page.get_by_role("status", name="Status")).to_have_text("Connected")
    expect(page.get_by_role("heading", name="fixed")).to_be_visible()
    expect(page.get_by_text("mcp.fixed.add")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)

    page.get_by_role("button", name="Delete server").click()
    expect(page.get_by_text("No MCP servers yet.")).to_be_visible()
    ui.assert_clean()


def test_an_agent_keeps_a_turned_off_servers_tool_when_saved_in_the_form(ui, server, configured):
    """While its MCP server is off a tool is not in /v1/tools, so the form has no checkbox for it: saving
    the agent must not drop it, and the form says it is kept."""
    with server.client() as api:
        made = api.post("/v1/mcp/servers", json={"name": "tinykeep", "transport": "stdio", "command": sys.executable,
                                                 "args": [TINY]})
        assert made.status_code == 201, made.text
        mcp_id = made.json()["id"]
        agent = api.post("/v1/agents", json={"name": "keeper", "instructions": "Adds numbers.",
                                             "tools": ["calculator", "mcp.tinykeep.add"]})
        assert agent.status_code == 201, agent.text
        assert api.patch(f"/v1/mcp/servers/{mcp_id}", json={"enabled": False}).status_code == 200
    try:
        page = ui.page
        ui.open(server.admin_token, "agents")
        page.get_by_role("button", name=re.compile("keeper")).click()
        form = page.get_by_role("form", name="Edit keeper")
        expect(form.get_by_label("calculator")).to_be_checked()
        expect(form).to_contain_text("Also keeps mcp.tinykeep.add: its MCP server is turned off (Tools screen).")
        form.get_by_label("Description").fill("Adds numbers, also with the MCP server.")
        form.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved", exact=True)).to_be_visible()
        with server.client() as api:
            saved = api.get(f"/v1/agents/{agent.json()['id']}").json()
        assert saved["description"] == "Adds numbers, also with the MCP server."
        assert sorted(saved["tools"]) == ["calculator", "mcp.tinykeep.add"]
        ui.assert_clean()
    finally:
        with server.client() as api:
            api.delete(f"/v1/agents/{agent.json()['id']}")
            api.delete(f"/v1/mcp/servers/{mcp_id}")
