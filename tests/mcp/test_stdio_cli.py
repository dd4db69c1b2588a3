"""``qorven mcp`` as an app launches it: a subprocess speaking MCP on stdio, driven by the SDK's own
stdio client, relaying to a running test server's /mcp."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.fakes import Reply
from tests.mcp.support import run_async
from tests.support.servers import REPO, InProcessServer


def qorven_mcp(server, body, token: str | None = None) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_")}
    env.update(QORVEN_SERVER=server.url, QORVEN_TOKEN=token or server.admin_token)
    params = StdioServerParameters(command=sys.executable, args=["-m", "qorven_local.cli.main", "mcp"], env=env,
                                   cwd=str(REPO))

    async def main() -> Any:
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    hello = await session.initialize()
                    assert hello.serverInfo.name == "qorven"
                    return await body(session)
    return run_async(main)


def test_stdio_lists_tools_finds_a_memory_and_asks_an_agent(server, fake):
    with server.client() as api:
        saved = api.post("/v1/memory/save", json={"content": "Deploys happen on Thursdays.", "scope": "workspace"})
        assert saved.status_code == 201, saved.text
    fake.enqueue(Reply.text("Thursday, as always."))

    async def body(session: ClientSession) -> tuple:
        tools = await session.list_tools()
        found = await session.call_tool("memory_search", {"query": "when are deploys"})
        answer = await session.call_tool("ask_agent", {"agent": "prime", "message": "When do we deploy?"})
        return tools, found, answer

    tools, found, answer = qorven_mcp(server, body)
    assert {t.name for t in tools.tools} == {"ask_agent", "memory_search", "memory_save", "list_agents",
                                              "search_documents"}
    assert all(t.description and t.inputSchema["type"] == "object" for t in tools.tools)
    assert found.structuredContent["results"][0]["content"] == "Deploys happen on Thursdays."
    assert answer.isError is False and answer.structuredContent["answer"] == "Thursday, as always."
    assert fake.chat_requests()[-1].body["messages"][-1]["content"] == "When do we deploy?"


def test_started_before_qorven_it_lists_the_tools_and_each_call_says_to_start_it(tmp_path):
    """Apps launch their MCP servers when they start, often before Qorven: the relay must not die then."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_")}
    env.update(QORVEN_SERVER="http://127.0.0.1:9", QORVEN_TOKEN="qvn_x", QORVEN_HOME=str(tmp_path))
    params = StdioServerParameters(command=sys.executable, args=["-m", "qorven_local.cli.main", "mcp"], env=env,
                                   cwd=str(REPO))
    errlog = tmp_path / "stderr.txt"

    async def main() -> tuple:
        with open(errlog, "w") as err:
            async with stdio_client(params, errlog=err) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await session.list_tools(), await session.call_tool("list_agents", {})

    tools, call = run_async(main)
    assert {t.name for t in tools.tools} == {"ask_agent", "memory_search", "memory_save", "list_agents",
                                              "search_documents"}
    assert call.isError and "Qorven is not running at http://127.0.0.1:9" in call.content[0].text
    assert "start the Qorven app" in call.content[0].text
    assert "Qorven is not running at http://127.0.0.1:9/mcp yet" in errlog.read_text()


def test_a_refused_token_ends_it_at_once_saying_so_on_stderr(server, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_")}
    env.update(QORVEN_SERVER=server.url, QORVEN_TOKEN="qvn_not-a-token", QORVEN_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "qorven_local.cli.main", "mcp"], cwd=REPO, env=env, input="",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and done.stdout == ""
    assert f"cannot serve {server.url}/mcp: the token was refused (HTTP 401)" in done.stderr
    assert "QORVEN_TOKEN" in done.stderr


def test_the_sdk_loads_without_its_fastmcp_server_stack():
    """What the app and ``qorven mcp`` import of the SDK leaves starlette and uvicorn out (the executable excludes them)."""
    script = ("import sys; from qorven_local.mcp.sdk import load_sdk; load_sdk(); "
              "import mcp.client.stdio, mcp.client.streamable_http, mcp.server.lowlevel, mcp.server.stdio; "
              "from mcp import ClientSession; "
              "print(sorted({'starlette', 'uvicorn', 'sse_starlette', 'pydantic_settings'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_restart_of_qorven_does_not_break_a_running_qorven_mcp(tmp_path):
    """Apps keep ``qorven mcp`` running for hours; Qorven restarting meanwhile must not leave every later
    call failing (each call opens its own /mcp session, so the new process answers)."""
    home = tmp_path / "home"
    first = InProcessServer(home).start()
    port, token = first.port, first.admin_token
    with first.client() as api:
        api.post("/v1/memory/save", json={"content": "Backups run at midnight.", "scope": "workspace"}
                 ).raise_for_status()
    state = {"server": first}

    async def body(session: ClientSession) -> tuple:
        before = await session.call_tool("memory_search", {"query": "when do backups run"})
        await anyio.to_thread.run_sync(state["server"].stop)
        state["server"] = await anyio.to_thread.run_sync(lambda: InProcessServer(home, port=port).start())
        after = await session.call_tool("memory_search", {"query": "when do backups run"})
        tools = await session.list_tools()
        return before, after, tools

    try:
        before, after, tools = qorven_mcp(first, body, token=token)
    finally:
        state["server"].stop()
    for found in (before, after):
        assert found.isError is False, found
        assert found.structuredContent["results"][0]["content"] == "Backups run at midnight."
    assert "ask_agent" in {t.name for t in tools.tools}
