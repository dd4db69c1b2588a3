"""Qorven as an MCP client, over time: a server whose tools change (it says so, or it comes back
after a crash with other tools) and a tool call that outlives QORVEN_MCP_TIMEOUT (cancelled on the
server, which stays connected and usable)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.mcp.test_client import alive, _reaped
from tests.support.servers import InProcessServer
from tests.support.wait import wait_until

CHANGING = str(Path(__file__).with_name("changing_server.py"))
TIMEOUT_S = 4


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with InProcessServer(tmp_path_factory.mktemp("mcp-changes") / "home", {"mcp_timeout": TIMEOUT_S}) as server:
        yield server


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("changing")
    return {"log": folder / "calls.log", "tools": folder / "tools.txt"}


@pytest.fixture(scope="module")
def changing(srv, files):
    with srv.client() as api:
        r = api.post("/v1/mcp/servers", json={
            "name": "changing", "transport": "stdio", "command": sys.executable, "args": [CHANGING],
            "env": {"CHANGING_LOG": str(files["log"]), "CHANGING_TOOLS": str(files["tools"])}})
        assert r.status_code == 201 and r.json()["status"] == "connected", r.text
        yield r.json()


def invoke(api, tool: str, **arguments) -> dict:
    r = api.post(f"/v1/tools/mcp.changing.{tool}/invoke", json={"arguments": arguments})
    assert r.status_code == 200, r.text
    return r.json()


def catalogue(api) -> set[str]:
    return {t["id"] for t in api.get("/v1/tools", params={"limit": 200}).json()["data"]}


def test_a_server_announcing_new_tools_has_them_in_the_catalogue(srv, changing):
    with srv.client() as api:
        assert "mcp.changing.extra" not in catalogue(api)
        assert invoke(api, "grow")["result"] == {"result": "grown"}
        wait_until(lambda: "mcp.changing.extra" in catalogue(api), timeout=10,
                   message="the announced tool never reached /v1/tools")
        assert "extra" in api.get(f"/v1/mcp/servers/{changing['id']}").json()["tools"]
        assert invoke(api, "extra")["result"] == {"result": "extra!"}


def test_a_server_restarted_after_a_crash_is_listed_again(srv, changing, files):
    with srv.client() as api:
        before = invoke(api, "pid")["result"]["result"]
        files["tools"].write_text("fresh\n")   # what the server offers when it starts next
        os.kill(before, signal.SIGKILL)
        wait_until(lambda: not alive(before) or _reaped(before), timeout=10, message="the killed server still runs")
        assert invoke(api, "quick")["ok"] is True  # the call restarts it
        wait_until(lambda: "mcp.changing.fresh" in catalogue(api), timeout=10,
                   message="the restarted server's new tool never reached /v1/tools")
        assert invoke(api, "fresh")["result"] == {"result": "fresh here"}
        assert "mcp.changing.extra" not in catalogue(api)  # the new process never grew


def test_a_call_past_the_time_limit_is_cancelled_and_the_server_stays_usable(srv, changing, files):
    with srv.client() as api:
        started = time.monotonic()
        late = invoke(api, "slow", seconds=30)
        assert time.monotonic() - started < TIMEOUT_S + 3
        assert late["ok"] is False and late["error"]["code"] == "tool_timeout", late
        assert f"within {TIMEOUT_S} s" in late["error"]["message"]
        state = api.get(f"/v1/mcp/servers/{changing['id']}").json()
        assert (state["status"], state["error"]) == ("connected", None)  # a slow tool is not a broken server
        assert invoke(api, "slow", seconds=0.1)["result"] == {"result": "slept 0.1 s"}
        wait_until(lambda: "cancelled" in files["log"].read_text(), timeout=10,
                   message="the server was never told to stop the timed-out call")
        trail = api.get("/v1/tools/mcp.changing.slow/invocations").json()["data"]
        assert [(t["ok"], t["error_code"]) for t in trail[:2]] == [(True, None), (False, "tool_timeout")]


def test_an_agent_keeps_the_tools_of_a_disabled_server_and_stays_editable(srv, changing):
    with srv.client() as api:
        agent = api.post("/v1/agents", json={"name": "keeper", "tools": ["mcp.changing.quick", "calculator"]})
        assert agent.status_code == 201, agent.text
        off = api.patch(f"/v1/mcp/servers/{changing['id']}", json={"enabled": False})
        assert off.json()["status"] == "disabled"
        assert "mcp.changing.quick" not in catalogue(api)  # not offered to runs or invoked meanwhile
        edited = api.patch(f"/v1/agents/{agent.json()['id']}",
                           json={"description": "edited", "tools": ["mcp.changing.quick", "calculator"]})
        assert edited.status_code == 200, edited.text
        assert edited.json()["tools"] == ["mcp.changing.quick", "calculator"]
        ghost = api.patch(f"/v1/agents/{agent.json()['id']}", json={"tools": ["mcp.changing.never-listed"]})
        assert ghost.status_code == 400 and ghost.json()["error"]["param"] == "tools"
        on = api.patch(f"/v1/mcp/servers/{changing['id']}", json={"enabled": True})
        assert on.json()["status"] == "connected"
        assert invoke(api, "quick")["result"] == {"result": "quick"}


def test_a_server_busy_with_a_blocking_call_is_not_restarted_under_it(srv, changing):
    """A second call while the server blocks on the first must wait for it, not kill the process."""
    from concurrent.futures import ThreadPoolExecutor

    with srv.client() as api, srv.client() as other:
        pid = invoke(api, "pid")["result"]["result"]
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(invoke, api, "block", seconds=TIMEOUT_S - 1)
            time.sleep(0.3)
            second = pool.submit(invoke, other, "pid")
            assert slow.result()["result"] == {"result": f"blocked {TIMEOUT_S - 1:g} s"}
            assert second.result()["ok"] is True and second.result()["result"]["result"] == pid
