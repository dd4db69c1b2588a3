"""Shared fixtures: real servers on ephemeral loopback ports with a real SQLite file per test, and the
fake model upstream they are pointed at."""

from __future__ import annotations

import os
import shutil
from typing import Iterator

import httpx
import pytest

from tests.fakes import FakeProvider
from tests.support.servers import InProcessServer, ServeProcess
from tests.support.upstream import UPSTREAM_KEY


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """No test ever touches the real user data dir: QORVEN_HOME points at a temp folder."""
    home = tmp_path_factory.mktemp("qorven-home")
    monkeypatch.setenv("QORVEN_HOME", str(home))
    for name in list(os.environ):
        if name.startswith("QORVEN_") and name != "QORVEN_HOME":
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def server(tmp_path):
    """A fresh in-process server (real waitress, real HTTP, temp data root)."""
    with InProcessServer(tmp_path / "home") as srv:
        yield srv


@pytest.fixture(scope="module")
def serve_process(tmp_path_factory):
    """One real ``qorven serve`` subprocess shared by a test module."""
    with ServeProcess(tmp_path_factory.mktemp("serve-home")) as proc:
        yield proc


@pytest.fixture
def admin(server: InProcessServer) -> Iterator[httpx.Client]:
    """An httpx client of ``server`` with the first admin token."""
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def module_fake() -> Iterator[FakeProvider]:
    """One fake model upstream shared by a test module (add it to a server with ``configure_upstream``)."""
    with FakeProvider(api_key=UPSTREAM_KEY) as fake:
        yield fake


@pytest.fixture
def fake(module_fake: FakeProvider) -> Iterator[FakeProvider]:
    """The module's fake upstream with an empty script and request log, expecting ``UPSTREAM_KEY``."""
    module_fake.reset()
    module_fake.api_key = UPSTREAM_KEY
    yield module_fake
    module_fake.reset()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium through Playwright, one for the whole session (the sync API allows one
    Playwright per thread, so every folder of browser tests shares this one)."""
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from tests.ui.conftest import CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
