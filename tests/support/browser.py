"""One headless Debian Chromium per test process, shared by every browser-test folder.

Playwright's sync API allows one running instance per thread, so two folders each holding a
session-scoped browser would collide; each folder's ``browser`` fixture asks here instead.
``close_browser`` (called from ``pytest_sessionfinish``) stops it once.
"""

from __future__ import annotations

import shutil
from typing import Any

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
_running: dict[str, Any] = {}


def chromium_path() -> str | None:
    return shutil.which("chromium")


def shared_browser() -> Any:
    """The process's Chromium, launched on first use (the caller skips when ``chromium_path()`` is None)."""
    if "browser" not in _running:
        from playwright.sync_api import sync_playwright

        playwright = _running["playwright"] = sync_playwright().start()
        _running["browser"] = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    return _running["browser"]


def close_browser() -> None:
    """Stop the shared Chromium and Playwright, if they ran."""
    browser = _running.pop("browser", None)
    playwright = _running.pop("playwright", None)
    if browser is not None:
        browser.close()
    if playwright is not None:
        playwright.stop()
