"""A server wired to the fake provider, shared by a module; the fake's script is reset per test."""

from __future__ import annotations

import pytest

from tests.tools_api.stack import agent_stack, api, fake, server  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with agent_stack(tmp_path_factory.mktemp("tools-api") / "home") as (server, fake):
        yield server, fake
