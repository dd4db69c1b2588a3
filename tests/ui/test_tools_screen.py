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
