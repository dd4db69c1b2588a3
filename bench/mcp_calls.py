"""What MCP costs, both ways, against a real ``qorven serve``:

- client side: the tiny FastMCP stdio server (tests/mcp/tiny_server.py) added through the API: the
  time to start it and list its tools (the create request), then ``--calls`` direct invocations of
  ``mcp.tiny.add`` through ``/v1/tools/{id}/invoke`` (p50/p95 round trip, HTTP included), and the
  time of the first call after its process was killed (ping timeout + restart + call);
- server side: ``--calls`` ``tools/call list_agents`` round trips through ``/mcp`` with the SDK's own
  streamable-HTTP client session, and the same through ``qorven mcp`` (stdio relay) with the SDK's
  stdio client, plus the relay's start (process start to initialized).

    .venv/bin/python bench/mcp_calls.py            # prints a summary, writes bench/results/mcp_calls.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import ServeProcess  # noqa: E402

TINY = str(REPO / "tests" / "mcp" / "tiny_server.py")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": pct(values, 0.5), "p95_ms": pct(values, 0.95),
            "mean_ms": round(statistics.fmean(values), 2)}


def client_side(api: httpx.Client, calls: int) -> dict:
    started = time.perf_counter()
    server = api.post("/v1/mcp/servers", json={"name": "tiny", "transport": "stdio", "command": sys.executable,
                                               "args": [TINY]}).json()
    start_ms = (time.perf_counter() - started) * 1000
    assert server["status"] == "connected", server
    times = []
    for i in range(calls):
        t = time.perf_counter()
        r = api.post("/v1/tools/mcp.tiny.add/invoke", json={"arguments": {"a": i, "b": 1}})
        times.append((time.perf_counter() - t) * 1000)
        assert r.json()["result"] == {"result": i + 1}, r.text
    pid = json.loads(api.post("/v1/tools/mcp.tiny.whoami/invoke", json={"arguments": {}}).json()["result"])["pid"]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)  # let it die: the bench measures the restart, not a race with the kill
    t = time.perf_counter()
    assert api.post("/v1/tools/mcp.tiny.add/invoke", json={"arguments": {"a": 1, "b": 1}}).json()["ok"]
    return {"start_and_list_ms": round(start_ms, 1), "invoke": summary(times),
            "first_call_after_kill_ms": round((time.perf_counter() - t) * 1000, 1)}


async def timed_calls(session, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        result = await session.call_tool("list_agents", {})
        times.append((time.perf_counter() - t) * 1000)
        assert not result.isError
    return times


def server_side(url: str, token: str, calls: int) -> dict:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    async def over_http() -> list[float]:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            async with streamable_http_client(url + "/mcp", http_client=http) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await timed_calls(session, calls)

    async def over_stdio() -> tuple[float, list[float]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_")}
        env.update(QORVEN_SERVER=url, QORVEN_TOKEN=token)
        params = StdioServerParameters(command=sys.executable, args=["-m", "qorven_local.cli.main", "mcp"],
                                       env=env, cwd=str(REPO))
        started = time.perf_counter()
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    ready = (time.perf_counter() - started) * 1000
                    return ready, await timed_calls(session, calls)

    http_times = anyio.run(over_http)
    ready, stdio_times = anyio.run(over_stdio)
    return {"http_list_agents": summary(http_times), "stdio_relay_start_ms": round(ready, 1),
            "stdio_list_agents": summary(stdio_times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "mcp_calls.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, ServeProcess(Path(home)) as serve:
        with serve.client() as api:
            client = client_side(api, args.calls)
        server = server_side(serve.url.rstrip("/"), serve.admin_token, args.calls)
    result = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
              "calls": args.calls, "client": client, "server": server}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
