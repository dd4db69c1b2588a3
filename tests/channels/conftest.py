"""A tiny real HTTP server on 127.0.0.1 standing in for every channel's API."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.support.fake_channel_api import FakeChannelAPI, running_fake_channel_api


@pytest.fixture
def fake_api() -> Iterator[FakeChannelAPI]:
    """The fake channel API, answering ``{"ok": true}`` until a test says otherwise."""
    with running_fake_channel_api(reply={"ok": True}) as api:
        yield api


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client
