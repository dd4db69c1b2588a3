"""AppContext: every part of the running program, built once by ``bootstrap.build_context``.

The composition root: frozen, so nothing is attached after it is built, and typed with the real
classes, so a part that needs a collaborator says which. Parts take the collaborators they use;
only the composition root (``bootstrap``, ``runtime``) and ``web/app.py``'s route table hold the whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.agents.runner import AgentRunner
from qorven_local.responses.service import ResponseService
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.channels.service import ChannelService
from qorven_local.clock import Clock, IdFactory
from qorven_local.config import Config
from qorven_local.documents.service import DocumentService
from qorven_local.events.hub import Hub
from qorven_local.memory.service import MemoryService
from qorven_local.memory.warmup import EmbedderWarmUp
from qorven_local.mcp.server import McpEndpoint
from qorven_local.mcp.service import McpService
from qorven_local.native_dialogs import FileDialogs
from qorven_local.providers.local.preload import LocalModelPreload
from qorven_local.providers.registry import ProviderRegistry
from qorven_local.rooms.service import RoomService
from qorven_local.security.access import AccessPolicy
from qorven_local.security.browser_sessions import BrowserSessions
from qorven_local.security.ratelimit import RateLimiter
from qorven_local.security.secrets import SecretBox
from qorven_local.security.tokens import TokenService
from qorven_local.storage.db import Database
from qorven_local.tools.registry import ToolRegistry
from qorven_local.tools.service import ToolService

ReadinessCheck = Callable[[], tuple[bool, str]]
# an absolute path in a check's detail (not a URL's path): /readyz is public, it names files only
_ABSOLUTE_PATH = re.compile(r"(?<![\w./:~-])(?:/[^\s'\"/:]+)+/([^\s'\"/:]+)")


@dataclass(frozen=True)
class AppContext:
    """The built program: configuration, storage, the platform services and the domain services."""

    config: Config
    db: Database
    clock: Clock
    ids: IdFactory
    hub: Hub                        # live events (the agent loop, rooms, channels, memory publish)
    secrets: SecretBox              # provider keys and channel secrets, encrypted at rest
    tokens: TokenService
    access: AccessPolicy            # the one authorize() for HTTP and /ws
    limiter: RateLimiter
    tools: ToolRegistry             # the built-in tools
    agents: AgentService
    sessions: SessionService
    providers: ProviderRegistry
    model_ids: ModelDirectory
    memory: MemoryService
    embedder_warm_up: EmbedderWarmUp
    local_preload: LocalModelPreload  # loads a local default model at start
    file_dialogs: FileDialogs       # the desktop window's native file dialog, attached while it is open
    runner: AgentRunner             # every agent run (chat, rooms, channels, delegation) goes through it
    responses: ResponseService      # the Responses API's stored answers
    tool_service: ToolService       # the /v1/tools catalogue and audited invoke
    rooms: RoomService
    channels: ChannelService        # bindings, the webhook pipeline, the outbox worker
    mcp: McpService                 # the MCP servers the agents use (their tools are in the registry)
    mcp_endpoint: McpEndpoint       # Qorven as an MCP server (/mcp)
    readiness: Mapping[str, ReadinessCheck]
    started_at: float
    browser_sessions: BrowserSessions  # login codes and the qorven_session cookie's sessions
    documents: DocumentService      # uploaded files whose passages are memories

    def readiness_checks(self) -> dict[str, dict[str, Any]]:
        """Run every readiness check; a check that raises counts as failing."""
        results: dict[str, dict[str, Any]] = {}
        for name, check in self.readiness.items():
            try:
                ok, detail = check()
            except Exception as exc:  # a failing check must not take /readyz down with it
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            results[name] = {"ok": bool(ok), "detail": _ABSOLUTE_PATH.sub(r"\1", detail)}
        return results
