"""A tiny stdio MCP server written with the SDK's FastMCP, for Qorven's MCP client tests.

Run as ``python tests/mcp/tiny_server.py``: it speaks MCP on stdin/stdout until stdin closes.
"""

from __future__ import annotations

import os
import sys

from mcp.server.fastmcp import FastMCP

app = FastMCP("tiny")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers and return their sum."""
    return a + b


@app.tool()
def whoami() -> dict:
    """Report this server process's id (tests kill it to check the restart)."""
    return {"pid": os.getpid()}


@app.tool()
def shout(text: str) -> str:
    """Return the text in upper case, repeated to the given size (tests the size cap)."""
    return text.upper()


@app.tool()
def crash() -> str:
    """Exit this server process in the middle of the call (tests the crash handling)."""
    sys.stderr.write("tiny: crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


if __name__ == "__main__":
    print("tiny MCP server starting", file=sys.stderr)
    app.run()
