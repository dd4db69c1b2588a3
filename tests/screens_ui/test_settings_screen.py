"""Settings: the data folder, a backup and a memories export to download, and a token for another tool."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat

from playwright.sync_api import expect

from tests.screens_ui.conftest import open_screen
from tests.support.wait import wait_until


def test_the_data_folder_is_shown_with_copy_and_backup_and_export_download(ui, site, tmp_path):
    site.api.post("/v1/memory/save", json={"scope": "workspace", "kind": "fact", "content": "Backups run at noon."}
                  ).raise_for_status()
    open_screen(ui, site, "settings")
    page = ui.page
    data = page.get_by_role("region", name="Your data")
    home = str(site.server.ctx.config.home)
    expect(data.get_by_role("textbox", name="Data folder path")).to_have_value(home)
    expect(data.get_by_role("button", name="Open data folder")).to_have_count(0)  # a browser: the path to copy
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    data.get_by_role("button", name="Copy data folder path").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == home

    with page.expect_download() as got:
        data.get_by_role("button", name="Back up").click()
    backup = tmp_path / got.value.suggested_filename
    got.value.save_as(backup)
    assert backup.name.startswith("qorven-backup-")
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM agents").fetchone()[0] >= 5
    expect(data.get_by_role("status")).to_contain_text("downloaded")

    with page.expect_download() as got:
        data.get_by_role("button", name="Export memories").click()
    exported = tmp_path / got.value.suggested_filename
    got.value.save_as(exported)
    assert "Backups run at noon." in [json.loads(line)["content"] for line in exported.read_text().splitlines()]
    ui.shot("screens-settings-data")


def test_in_the_desktop_window_open_data_folder_shows_it_in_the_file_manager(ui, site, tmp_path, monkeypatch):
    """With the window open (the launcher attaches its dialogs), the button asks the server, which runs the
    system's opener; a stand-in xdg-open first on PATH records the folder it was given."""
    shown, opener = tmp_path / "shown.txt", tmp_path / "bin" / "xdg-open"
    opener.parent.mkdir()
    opener.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{shown}"\n')
    opener.chmod(opener.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{opener.parent}{os.pathsep}{os.environ['PATH']}")
    dialogs = site.server.ctx.file_dialogs
    dialogs.attach(lambda file_types: None)
    try:
        open_screen(ui, site, "settings")
        data = ui.page.get_by_role("region", name="Your data")
        data.get_by_role("button", name="Open data folder").click()
        wait_until(shown.exists, timeout=10, message="the file manager was never asked")
        assert shown.read_text().splitlines() == [str(site.server.ctx.config.home)]
    finally:
        dialogs.detach()


def test_a_token_for_another_tool_is_created_and_shown_once(ui, site):
    open_screen(ui, site, "settings")
    page = ui.page
    tokens = page.get_by_role("form", name="Tokens for other tools")
    tokens.get_by_label("Token name").fill("Editor plugin")
    tokens.get_by_role("button", name="Create token").click()
    shown = tokens.get_by_role("textbox", name="New token")
    expect(shown).to_have_value(re.compile(r"^qvn_[A-Za-z0-9_-]{43}$"))
    token = shown.input_value()
    expect(tokens).to_contain_text("shown only this once")
    with site.server.client(token) as tool:
        assert tool.get("/v1/agents").status_code == 200
    listed = [t for t in site.api.get("/v1/auth/tokens").json()["data"] if t["label"] == "Editor plugin"]
    assert len(listed) == 1 and listed[0]["scope"] == "user"
    in_use = tokens.get_by_role("list", name="Tokens in use")
    row = in_use.get_by_role("listitem").filter(has_text="Editor plugin")
    expect(row).to_contain_text(f"user · {listed[0]['hint']} · created")
    open_screen(ui, site, "settings")  # afresh: the tool above has used it since
    tokens = page.get_by_role("form", name="Tokens for other tools")
    in_use = tokens.get_by_role("list", name="Tokens in use")
    row = in_use.get_by_role("listitem").filter(has_text="Editor plugin")
    expect(row).to_contain_text("last used")
    ui.shot("screens-settings-token")

    row.get_by_role("button", name="Revoke Editor plugin").click()
    expect(in_use).not_to_contain_text("Editor plugin")
    assert ui.dialogs and "Revoke the token Editor plugin?" in ui.dialogs[-1]
    with site.server.client(token) as tool:
        assert tool.get("/v1/agents").status_code == 401
    ui.dialogs.clear()
    open_screen(ui, site, "settings")
    expect(page.get_by_role("region", name="Your data")).to_be_visible()
    expect(page.get_by_role("textbox", name="New token")).to_have_count(0)
