"""Settings: where the data lives, the theme, and rotating the admin token (shown once)."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_settings_show_the_install_and_rotate_the_admin_token(ui, server, configured):
    ui.open(server.admin_token, "settings")
    page = ui.page
    about = page.get_by_role("region", name="This installation")
    expect(about).to_contain_text(str(server.home))
    expect(about).to_contain_text("0.1.0")

    page.get_by_role("radio", name="Dark").check()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("localStorage.getItem('qorven.theme')") == "dark"

    page.get_by_role("button", name="Rotate admin token").click()  # confirm() accepted by the fixture
    shown = page.get_by_label("New admin token")
    expect(shown).to_have_text(re.compile(r"^qvn_[A-Za-z0-9_-]{43}$"))
    new_token = shown.inner_text()
    # no token in the browser's storage (the cookie signs it in); the local CLI's file follows the rotation
    assert "qvn_" not in page.evaluate("Object.values(sessionStorage).join(' ') + Object.values(localStorage).join(' ')")
    assert server.admin_token == new_token
    ui.shot("settings-rotated")

    page.get_by_role("link", name="Agents").click()  # the UI now works with the new token
    expect(page.get_by_role("list", name="Agents").get_by_role("button", name=re.compile(r"^Prime"))).to_be_visible()
    ui.assert_clean()
