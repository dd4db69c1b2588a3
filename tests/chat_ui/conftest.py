"""Chat screen browser tests: one server, one browser and one page per module (the suite's time is a
budget). Headless Debian Chromium through Playwright, as tests/ui/conftest.py sets it up."""

from __future__ import annotations

import pytest

from tests.fakes.fake_provider import memory_extraction_aside
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream
from tests.ui.conftest import UI, VIEWPORT


@pytest.fixture(scope="module", autouse=True)
def memory_extraction_answered_aside(module_fake):
    """A run's background memory extraction gets its own reply, never one a test queued (fake_provider)."""
    module_fake.aside = memory_extraction_aside


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory, module_fake):
    """A server whose default model is the fake's ``fake-model``, with ``fake-model-large`` offered too."""
    with InProcessServer(tmp_path_factory.mktemp("chat-ui-home")) as server:
        with server.client() as api:
            configure_upstream(api, module_fake, models=("fake-model", "fake-model-large"))
        yield server


@pytest.fixture(scope="module")
def chat_ui(browser, chat_server):
    """One page on the Chat screen, shared by the module's tests, with clipboard access."""
    context = browser.new_context(viewport=VIEWPORT)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=chat_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    view = UI(page, chat_server.url)
    view.open(chat_server.admin_token)
    yield view
    context.close()


@pytest.fixture
def api(chat_server):
    """An admin client of the module's server."""
    with chat_server.client() as client:
        yield client
