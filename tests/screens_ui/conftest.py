"""Browser tests of the Agents, Rooms, Channels and Settings screens, and the accessibility check of every screen.

One server (with the fake model as its default) and one browser page per module: each test opens its
screen afresh on that page. Chromium is Debian's, one per test process (the session-wide `browser` fixture of tests/conftest.py,
shared with tests/ui); screenshots go to ``test-output/ui/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import httpx
import pytest

from tests.fakes import FakeProvider
from tests.fakes.fake_provider import memory_extraction_aside
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream
from tests.ui.conftest import UI, VIEWPORT


@pytest.fixture(scope="module", autouse=True)
def memory_extraction_answered_aside(module_fake):
    """A run's background memory extraction gets its own reply, never one a test queued (fake_provider)."""
    module_fake.aside = memory_extraction_aside


@dataclass
class Site:
    server: InProcessServer
    api: httpx.Client
    fake: FakeProvider


@pytest.fixture(scope="module")
def site(tmp_path_factory, module_fake) -> Iterator[Site]:
    with InProcessServer(tmp_path_factory.mktemp("screens") / "home") as server:
        with server.client() as api:
            configure_upstream(api, module_fake)
            yield Site(server, api, module_fake)


@pytest.fixture(scope="module")
def page_view(browser, site) -> Iterator[UI]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield UI(page, site.server.url)
    context.close()


@pytest.fixture
def ui(page_view: UI, site: Site, fake) -> Iterator[UI]:
    """The module's page, its error lists cleared; the test's page must end clean."""
    page_view.dialogs.clear()
    page_view.errors.clear()
    page_view.external.clear()
    page_view.page.set_viewport_size(VIEWPORT)
    yield page_view
    page_view.assert_clean()


def open_screen(ui: UI, site: Site, route: str) -> None:
    """Load the app afresh on ``route`` (a full load, so each test starts from the server's state)."""
    ui.page.goto("about:blank")
    ui.open(site.server.admin_token, route)
