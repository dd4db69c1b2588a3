"""Every screen fits the smallest supported window (900×600) without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import SHOTS

SCREENS = ["Chat", "Agents", "Memory", "Rooms", "Channels", "Models", "Settings"]


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_screen_fits_900_by_600(browser, server, configured, theme):
    context = browser.new_context(viewport={"width": 900, "height": 600}, color_scheme=theme)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{server.url}/#token={server.admin_token}")
        expect(page.get_by_label("Message")).to_be_visible(timeout=15_000)
        for name in SCREENS:
            page.get_by_role("link", name=name).click()
            expect(page.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
            page.wait_for_timeout(300)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 900×600"
        page.get_by_role("link", name="Chat").click()
        expect(page.get_by_label("Message")).to_be_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"small-{theme}.png"))
        assert not errors, errors
    finally:
        context.close()
