"""Load the MCP SDK without its FastMCP server stack.

The SDK's ``mcp/__init__`` imports ``mcp.server``, whose ``__init__`` imports FastMCP and with it
starlette, uvicorn, sse-starlette and pydantic-settings, none of which Qorven uses (the client
sessions, the low-level stdio server and the types are all it needs). Registering ``mcp.server`` as
a bare package (its path, not its ``__init__``) before the SDK's first import keeps those out of the
process and out of the one-file executable (``pyinstaller.spec`` excludes them), and saves over a
second of start-up for ``qorven mcp``. Once the SDK is imported (a test imported it whole, say) this
does nothing: its submodules then load the usual way.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types


def load_sdk() -> None:
    """Make ``import mcp...`` skip ``mcp/server/__init__.py``; call before the first SDK import."""
    if "mcp" in sys.modules or "mcp.server" in sys.modules:
        return
    spec = importlib.util.find_spec("mcp")  # a top-level find_spec imports nothing
    if spec is None or not spec.submodule_search_locations:
        return  # not installed: the import that follows says so
    server = types.ModuleType("mcp.server", "the MCP SDK's server package, without FastMCP (qorven_local.mcp.sdk)")
    server.__path__ = [os.path.join(list(spec.submodule_search_locations)[0], "server")]
    sys.modules["mcp.server"] = server
