"""One server wired to the fake provider for the whole MCP package; the fake's script is reset per test."""

from __future__ import annotations

import pytest

from tests.tools_api.stack import agent_stack, api, fake, server  # noqa: F401 (fixtures)


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    with agent_stack(tmp_path_factory.mktemp("mcp") / "home") as (server, fake):
        yield server, fake

