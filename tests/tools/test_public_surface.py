"""Pins what other parts of Qorven import from tools/ and security/urlpolicy."""

from __future__ import annotations

import dataclasses
import inspect

from qorven_local.security import urlpolicy
from qorven_local.tools import builtin, context, registry


def test_registry_exports():
    for name in ("Tool", "ToolRegistry", "ToolResult", "ToolError", "tool", "validate_arguments"):
        assert hasattr(registry, name), name
    assert hasattr(builtin, "default_registry")
    assert list(inspect.signature(registry.ToolRegistry.invoke).parameters) == [
        "self", "name", "arguments", "ctx", "raise_invalid"]
    assert [f.name for f in dataclasses.fields(registry.ToolResult)] == ["ok", "result", "error", "duration_ms"]


def test_context_exports():
    assert [f.name for f in dataclasses.fields(context.ToolContext)] == [
        "tenant_id", "workspace_dir", "agent_id", "agent_name", "session_id", "settings", "memory",
        "delegate", "depth", "clock"]
    assert {"search", "save"} <= set(dir(context.MemoryService))
    assert callable(context.Delegate)


def test_urlpolicy_exports():
    assert list(inspect.signature(urlpolicy.check_url).parameters) == ["url", "allow_private", "allowed_hosts"]
    assert issubclass(urlpolicy.BlockedURL, ValueError)
