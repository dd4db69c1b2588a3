"""Rooms run on the full stack: a server wired to the fake provider, three plain agents."""

from __future__ import annotations

import pytest

from tests.tools_api.stack import agent_stack, api, fake, server  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with agent_stack(tmp_path_factory.mktemp("rooms") / "home") as (server, fake):
        with server.client() as api:
            for name in ("alpha", "beta", "gamma"):
                r = api.post("/v1/agents", json={"name": name, "instructions": f"You are {name.title()}.",
                                                 "description": f"{name} the tester", "tools": [],
                                                 "memory": {"enabled": False}})
                assert r.status_code == 201, r.text
        yield server, fake


@pytest.fixture
def agents(api):
    return {a["name"]: a["id"] for a in api.get("/v1/agents", params={"limit": 200}).json()["data"]}
