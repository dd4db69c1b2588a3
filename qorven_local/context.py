"""AppContext: the one object that wires configuration, storage, services, hub and clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from qorven_local.clock import Clock, IdFactory
from qorven_local.config import Config
from qorven_local.storage.db import Database


@dataclass
class AppContext:
    """Everything a request handler or background worker needs, built by ``bootstrap.build_context``.

    Services are attached as the parts that provide them are built; each is one object with one job.
    """

    config: Config
    db: Database
    clock: Clock
    ids: IdFactory
    tokens: Any = None        # security.tokens.TokenService
    agents: Any = None        # agents.service.AgentService
    sessions: Any = None      # agents.sessions.SessionService
    limiter: Any = None       # security.ratelimit.RateLimiter
    access: Any = None        # security.access.AccessPolicy (shared by HTTP and /ws)
    routes: list[Any] = field(default_factory=list)   # web.spec.Route table, set by create_app
    hub: Any = None           # events.hub.Hub
    channels: Any = None      # channels.service.ChannelService (bindings, webhooks, outbox worker)
    secrets: Any = None       # security.secrets.SecretBox (provider keys, channel secrets)
    providers: Any = None     # providers.registry.ProviderRegistry
    model_ids: Any = None     # agents.model_ids.ModelDirectory
    tools: Any = None         # tools.registry.ToolRegistry
    runner: Any = None        # agents.runner.AgentRunner
    memory: Any = None        # memory.service.MemoryService
    sse_ping_s: float = 15.0  # SSE keep-alive comment interval
    tool_service: Any = None  # tools.service.ToolService (the /v1/tools catalogue and audited invoke)
    rooms: Any = None         # rooms.service.RoomService
    readiness: dict[str, Any] = field(default_factory=dict)   # name -> callable() -> (ok, detail)
    started_at: float = field(default_factory=time.time)

    def readiness_checks(self) -> dict[str, dict[str, Any]]:
        """Run every registered readiness check; a check that raises counts as failing."""
        results: dict[str, dict[str, Any]] = {}
        for name, check in self.readiness.items():
            try:
                ok, detail = check()
            except Exception as exc:  # a failing check must not take /readyz down with it
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            results[name] = {"ok": bool(ok), "detail": detail}
        return results
