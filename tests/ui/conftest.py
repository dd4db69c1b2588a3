"""Browser tests of the UI: headless Debian Chromium driven by Playwright against a real server.

The server is the whole Runtime on an ephemeral loopback port with a temp data root; the model is
the fake provider (a real HTTP server speaking OpenAI's wire format). Chromium is the system's
(``shutil.which("chromium")``): Playwright never downloads a browser here. Each test ends with a
screenshot under ``test-output/ui/``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.fakes.fake_provider import memory_extraction_aside
from tests.support.upstream import configure_upstream

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-output" / "ui"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
# A 2-core CI machine running the embedder and a browser at once is slow: wait longer than the 5 s default.
expect.set_options(timeout=15_000)


# ``browser`` (the one Chromium of the test session) is tests/conftest.py's: every folder of browser
# tests shares it, since Playwright's sync API cannot run two instances in one thread.


@pytest.fixture(scope="module", autouse=True)
def memory_extraction_answered_aside(module_fake):
    """A run's background memory extraction gets its own reply, never one a test queued (fake_provider)."""
    module_fake.aside = memory_extraction_aside


@pytest.fixture
def api(admin: httpx.Client) -> httpx.Client:
    """The admin client of ``server`` (tests/conftest.py's), under the name the UI tests use."""
    return admin


def require_api(api: httpx.Client, path: str) -> None:
    """Skip (saying so) while the server does not serve ``path`` yet: its part lands separately."""
    if api.get(path).status_code == 404:
        pytest.skip(f"the server does not serve {path} yet")


@pytest.fixture
def configured(api, fake):
    """A server whose default model is the fake's."""
    configure_upstream(api, fake)
    return api


class UI:
    """A page of the app plus what the tests check on every page: no dialogs, no page errors."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []
        self.urls: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        # Only the app's own confirmations (deleting things) are expected; accept those.
        dialog.accept() if dialog.type == "confirm" else dialog.dismiss()

    def _request(self, request) -> None:
        self.urls.append(request.url)
        if not request.url.startswith((self.base_url, "data:", "about:")):
            self.external.append(request.url)

    def requests_to(self, path_prefix: str) -> list[str]:
        """URLs the page requested under a path, e.g. "/api/"."""
        return [u for u in self.urls if u.startswith(self.base_url + path_prefix)]

    def open(self, token: str, route: str = "") -> None:
        fragment = f"token={token}" + (f"&/{route}" if route else "")
        self.page.goto(f"{self.base_url}/#{fragment}")

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def assert_clean(self) -> None:
        assert not [d for d in self.dialogs if not d.startswith("confirm")], self.dialogs
        assert not self.errors, self.errors
        assert not self.external, f"requests outside the app's origin: {self.external}"


@pytest.fixture
def ui(browser, server):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    view = UI(page, server.url)
    yield view
    context.close()


RENDER_MARKDOWN = """async (src) => {
  const { renderMarkdown } = await import('/ui/js/markdown.js');
  const box = document.createElement('div');
  box.append(renderMarkdown(src));
  return {html: box.innerHTML, links: [...box.querySelectorAll('a')].map((a) => a.href),
          text: box.textContent};
}"""


@pytest.fixture
def rendered_markdown(ui, server):
    """Render markdown with the UI's own renderer in the browser: ``{html, links, text}``."""
    ui.open(server.admin_token)
    ui.page.wait_for_load_state()
    return lambda src: ui.page.evaluate(RENDER_MARKDOWN, src)
