"""What every tool call receives: who is calling, where it may write, and the services it may use.

Memory and delegation are Protocols so the tools depend on a shape, not on ``memory/`` or
``agents/``: the agent loop and the invoke endpoint pass real implementations, tests pass small
ones, and a context without them makes those tools answer a clear tool error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

MiB = 1024 * 1024


@runtime_checkable
class MemoryService(Protocol):
    """Recall and store memories on behalf of the calling agent (scope chosen by the implementation)."""

    def search(self, query: str, max_results: int) -> list[dict[str, Any]]:
        """Best matches first, each a JSON-ready memory dict (with ``score``)."""
        ...

    def save(self, content: str, kind: str) -> dict[str, Any]:
        """Store one memory and return it as a JSON-ready dict."""
        ...


@runtime_checkable
class Delegate(Protocol):
    """Ask another agent, by name, to do a task and return its final answer.

    The implementation runs the other agent with a context whose ``depth`` is the caller's
    ``depth + 1``; the ``delegate`` tool refuses to go deeper than ``max_delegation_depth``.
    Unknown agents raise ``NotFound`` (or any ``QorvenError``), which becomes a tool error.
    """

    def __call__(self, agent_name: str, task: str) -> str: ...


@dataclass(frozen=True)
class ToolSettings:
    """Limits and outbound rules for the built-in tools (``tools/service.py`` maps the app settings onto them)."""

    allow_private: bool = False            # http_get may reach loopback/private/link-local addresses
    allowed_hosts: tuple[str, ...] = ()    # "host" or "host:port" exempt from the private-address rule
    file_max_bytes: int = 1 * MiB          # read_file and write_file
    list_max_entries: int = 1000
    http_max_bytes: int = 2 * MiB          # body bytes read before truncating
    http_max_text_chars: int = 200_000     # text handed back to the model
    http_timeout_s: float = 20.0           # whole http_get call, all redirects included
    http_max_redirects: int = 5
    tool_timeout_s: float = 30.0           # default per-call limit enforced by the registry
    max_delegation_depth: int = 3


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class ToolContext:
    """Handed to every tool call; tools read from it and never reach for globals."""

    tenant_id: str
    workspace_dir: Path
    agent_id: str | None = None
    agent_name: str | None = None
    session_id: str | None = None
    settings: ToolSettings = field(default_factory=ToolSettings)
    memory: MemoryService | None = None
    delegate: Delegate | None = None
    depth: int = 0                          # 0 for a run started by a person or channel
    clock: Callable[[], datetime] = utc_now  # returns an aware UTC datetime
