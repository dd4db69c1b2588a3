"""A server wired to the fake provider, shared by a module; the fake's script is reset per test."""

from __future__ import annotations

import pytest

from tests.fakes.fake_provider import echo_last_user
from tests.tools_api.stack import agent_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with agent_stack(tmp_path_factory.mktemp("tools-api") / "home") as (server, fake):
        yield server, fake


@pytest.fixture
def server(stack):
    return stack[0]


@pytest.fixture
def fake(stack):
    fake = stack[1]
    fake.reset()
    fake.default_reply = echo_last_user  # unless a test routes answers
    yield fake
    fake.reset()


@pytest.fixture
def api(server):
    with server.client() as client:
        yield client
