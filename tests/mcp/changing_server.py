"""A stdio MCP server (the SDK's FastMCP) whose tools change, and whose slow tool can be cancelled.

``grow`` adds the tool ``extra`` and tells the client (``notifications/tools/list_changed``); a
file named by ``$CHANGING_TOOLS`` holding extra tool names adds those at start (a newer version of
the server after a restart). ``slow`` sleeps and writes ``started``/``cancelled``/``finished`` to
``$CHANGING_LOG``, so a test sees whether a timed-out call was cancelled on the server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import anyio
from mcp.server.fastmcp import Context, FastMCP

app = FastMCP("changing")


def log(line: str) -> None:
    with open(os.environ["CHANGING_LOG"], "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


@app.tool()
async def slow(seconds: float) -> str:
    """Sleep for the given seconds, then answer."""
    log("started")
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        log("cancelled")
        raise
    log("finished")
    return f"slept {seconds:g} s"


@app.tool()
def block(seconds: float) -> str:
    """Sleep for the given seconds without yielding: the server answers nothing else meanwhile."""
    time.sleep(seconds)
    return f"blocked {seconds:g} s"


@app.tool()
def quick() -> str:
    """Answer at once."""
    return "quick"


def extra() -> str:
    """The tool grow adds."""
    return "extra!"


@app.tool()
def pid() -> int:
    """This server process's id (tests kill it)."""
    return os.getpid()


def named(name: str):
    def tool() -> str:
        return f"{name} here"
    return tool


@app.tool()
async def grow(ctx: Context) -> str:
    """Add the tool extra and announce that the tool list changed."""
    app.add_tool(extra)
    await ctx.session.send_tool_list_changed()
    return "grown"


if __name__ == "__main__":
    listed = Path(os.environ.get("CHANGING_TOOLS") or os.devnull)
    for name in (listed.read_text().split() if listed.exists() else []):
        app.add_tool(named(name), name=name, description=f"The tool {name}, added at start.")
    app.run()
