"""``qorven mcp``: Qorven as an MCP server over stdio, for apps that launch a command (desktop
assistants, IDEs).

It is a relay: the SDK's stdio server answers the app, and forwards ``tools/list`` and
``tools/call`` to the install's ``/mcp`` through the SDK's own streamable-HTTP client (one short
session per call, so a restart of Qorven does not break a relay the app keeps running). So
the tools have one implementation (``mcp/qorven_tools.py`` behind ``/mcp``), the running app's
agents, memory, tokens and tenancy answer, and this process loads no database or model: it starts
in a moment and several apps can launch it at once. The install is ``QORVEN_SERVER`` (default: the
local one) with ``QORVEN_TOKEN`` (default: the data root's admin-token file), as every CLI command.
stdout carries the protocol; messages for people go to stderr.

Apps start their MCP servers when they start, often before Qorven: while the install cannot be
reached, the relay still answers (the tool list from ``mcp/definitions.py``; each call a tool error
saying to start Qorven) and reaches the install as soon as it runs. A refused token still ends it
at once, with the reason on stderr: that is a configuration to fix, not a wait.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Awaitable, Callable

from qorven_local import __version__
from qorven_local.client import default_server, default_token

READ_TIMEOUT_S = 600.0   # ask_agent waits for a whole agent run (a local CPU model can be slow)
INSTRUCTIONS_OFFLINE = ("Qorven Local: the user's own agents and long-term memory on this machine (start the Qorven "
                        "app for these tools to answer).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", default=None,
                        help="Base URL of the server [env QORVEN_SERVER; default: the local install, port 7421]")
    parser.add_argument("--token", default=None,
                        help="API token [env QORVEN_TOKEN; default: <data root>/admin-token]")


def run(args: argparse.Namespace) -> int:
    import anyio

    from qorven_local.mcp.sdk import load_sdk

    load_sdk()
    server = (args.server or default_server()).rstrip("/")
    token = args.token or default_token()
    if not token:
        print("qorven mcp: no token: set QORVEN_TOKEN or start Qorven once on this machine", file=sys.stderr)
        return 2
    try:
        anyio.run(relay, server + "/mcp", token)
    except Exception as exc:
        print(f"qorven mcp: cannot serve {server}/mcp: {why(exc)}", file=sys.stderr)
        return 3
    return 0


def why(exc: BaseException) -> str:
    """What ended the relay, and what to do about it."""
    import httpx

    from qorven_local.mcp.connections import describe_failure, first_cause

    cause = first_cause(exc)
    if isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code in (401, 403):
        return (f"the token was refused (HTTP {cause.response.status_code}): set QORVEN_TOKEN to a token of this "
                "install (`qorven auth create-token`), or leave it unset to use the data root's admin-token file")
    return f"{describe_failure(exc)}\n(is Qorven running? start it, or set QORVEN_SERVER and QORVEN_TOKEN)"


async def relay(url: str, token: str) -> None:
    """Serve MCP on stdin/stdout, answering from the Qorven install at ``url``.

    Each request to the install opens its own short ``/mcp`` session (initialize, the call, DELETE):
    an app keeps this process running for hours, and a long-lived session would die with the first
    restart of Qorven, leaving every later call failing with "Session terminated" until the app is
    restarted. A session costs two more loopback round trips, a few milliseconds against tool calls
    that read memory or run an agent; concurrent calls from the app stay concurrent.
    """
    import httpx
    from mcp import types
    from mcp.server.lowlevel import NotificationOptions, Server
    from mcp.server.stdio import stdio_server

    from qorven_local.mcp.definitions import TOOLS

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30.0, read=READ_TIMEOUT_S)) as http:
        try:
            instructions = (await upstream(url, http)).instructions  # a refused token ends the relay here
        except Exception as exc:
            if not unreachable(exc):
                raise
            print(f"qorven mcp: Qorven is not running at {url} yet; its tools answer once it runs", file=sys.stderr)
            instructions = INSTRUCTIONS_OFFLINE
        server: Server[Any, Any] = Server("qorven", version=__version__, instructions=instructions)

        @server.list_tools()
        async def list_tools() -> list[types.Tool]:
            try:
                return (await upstream(url, http, lambda session: session.list_tools())).tools
            except Exception as exc:
                if not unreachable(exc):
                    raise
                return [types.Tool.model_validate(t) for t in TOOLS]

        @server.call_tool(validate_input=False)  # /mcp checks the arguments against the same schemas
        async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
            try:
                return await upstream(url, http, lambda session: session.call_tool(name, arguments))
            except Exception as exc:
                if not unreachable(exc):
                    raise
                return types.CallToolResult(isError=True, content=[types.TextContent(type="text", text=(
                    f"Qorven is not running at {url.removesuffix('/mcp')}: ask the user to start the Qorven "
                    "app (or `qorven serve`), then try again."))])

        options = server.create_initialization_options(NotificationOptions(tools_changed=False))
        async with stdio_server() as (stdin, stdout):
            await server.run(stdin, stdout, options)


def unreachable(exc: BaseException) -> bool:
    """Whether a failure means nothing answers at the install's address (not running, or starting)."""
    import httpx

    from qorven_local.mcp.connections import first_cause

    return isinstance(first_cause(exc), (httpx.ConnectError, httpx.ConnectTimeout))


async def upstream(url: str, http: Any, call: Callable[[Any], Awaitable[Any]] | None = None) -> Any:
    """``call(session)`` on a fresh, initialized client session with the install's ``/mcp`` (closed after);
    without ``call``, the install's answer to initialize."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url, http_client=http) as (read, write, _):
        async with ClientSession(read, write) as session:
            hello = await session.initialize()
            return hello if call is None else await call(session)
