"""Fixtures of the web layer's fast tier: the real app on Falcon's TestClient (see tests/support/fast_app.py)."""

from __future__ import annotations

from typing import Iterator

import pytest
from falcon.testing import TestClient

from tests.support.fast_app import FastApp


@pytest.fixture
def fast_app(tmp_path) -> Iterator[FastApp]:
    """The real app built in this process on a fresh SQLite file under ``tmp_path``."""
    app = FastApp.open(tmp_path / "home")
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def fast_admin(fast_app: FastApp) -> TestClient:
    """A TestClient with the first admin token."""
    return fast_app.client()
