"""AppContext: the one object that wires configuration, storage, services, hub and clock.

Time, ids and randomness come from here so tests can make them deterministic.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from qorven_local.config import Config
from qorven_local.storage.db import Database

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


class Clock:
    """Wall-clock time; tests may subclass to freeze or advance it."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=timezone.utc)

    def iso(self) -> str:
        """Now as an ISO-8601 UTC string with milliseconds, e.g. 2026-11-28T13:12:11.123Z."""
        return iso(self.now())


def iso(moment: datetime) -> str:
    """Format a datetime as the API's ISO-8601 UTC string."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse the API's ISO-8601 strings (a trailing Z included)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class IdFactory:
    """Prefixed ids that sort by creation time: ``agt_`` + 10 time chars + 16 random chars."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def new(self, prefix: str) -> str:
        with self._lock:
            ms = int(self._clock.time() * 1000)
            if ms <= self._last_ms:  # keep ids monotonic within a millisecond
                ms = self._last_ms
                self._counter += 1
            else:
                self._counter = 0
            self._last_ms = ms
            value = (ms << 80) | (self._counter << 64) | int.from_bytes(os.urandom(8), "big")
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return f"{prefix}_{''.join(reversed(chars))}"

    @staticmethod
    def token_bytes(n: int) -> bytes:
        return secrets.token_bytes(n)


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
    runner: Any = None        # agents.runs.AgentRunner
    memory: Any = None        # memory service (recall / for_agent / after_run); None until built
    delegate_for: Any = None  # callable(tenant_id=, agent=, session_id=, depth=) -> tools Delegate, or None
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
