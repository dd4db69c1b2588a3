"""Every screen fits every supported window, from 640×480 up (UI.md): nothing scrolls sideways, the
navigation rail and the composer's Send stay visible; a screenshot of each screen at each size in both
themes lands in ``test-output/ui/layout/`` for people to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import SHOTS, UI

SCREENS = ["Chat", "Agents", "Memory", "Rooms", "Channels", "Models", "Settings", "Tools"]
SIZES = [(640, 480), (1280, 800), (1920, 1080)]


def inside_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5 \
        and box["y"] + box["height"] <= size["height"] + 0.5


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width, height", SIZES)
def test_every_screen_fits_the_window(browser, server, configured, theme, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=theme)
    ui = UI(context.new_page(), server.url)
    page = ui.page
    try:
        ui.open(server.admin_token)
        expect(page.get_by_label("Message")).to_be_visible(timeout=15_000)
        send = page.get_by_role("button", name="Send")
        expect(send).to_be_visible()
        assert inside_viewport(page, send), f"Send is cut off at {width}×{height}"
        conversations = page.get_by_role("button", name="Conversations")
        if width < 1000:  # the conversations column folds behind a button (UI.md)
            expect(page.get_by_label("Search sessions")).to_be_hidden()
            conversations.click()
            expect(page.get_by_label("Search sessions")).to_be_visible()
            assert inside_viewport(page, page.get_by_label("Search sessions"))
            page.get_by_role("button", name="New chat").click()
            expect(page.get_by_label("Search sessions")).to_be_hidden()
        else:
            expect(conversations).to_be_hidden()
            expect(page.get_by_label("Search sessions")).to_be_visible()
        rail = page.get_by_role("navigation", name="Screens")
        for name in SCREENS:
            link = rail.get_by_role("link", name=name)
            link.click()
            expect(link).to_have_attribute("aria-current", "page")
            expect(page.locator("main, .main").get_by_text("Loading…", exact=True)).to_have_count(0)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}×{height}"
            hidden = [n for n in SCREENS if not inside_viewport(page, rail.get_by_role("link", name=n))]
            assert not hidden, f"rail links out of view on {name} at {width}×{height}: {hidden}"
            folder = SHOTS / "layout"
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name.lower()}-{width}x{height}-{theme}.png"))
        ui.assert_clean()
    finally:
        context.close()
