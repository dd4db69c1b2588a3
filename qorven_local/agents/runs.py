"""Agent runs: the request and result shapes, and plan-run admission.

Everything that makes an agent answer (chat, rooms, channels, delegation) builds a ``RunRequest``
and calls ``AgentRunner.run(req)`` (``agents/runner.py``); it blocks until the run ends and raises
``TooManyRuns``, ``NoModelConfigured``, ``ProviderError``/``ProviderTimeout`` ... on failure.
Streaming consumers pass ``on_event``, which receives the run's events (``agents/events.py``) on
the run's thread (keep it cheap: hand off, don't work).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from qorven_local.agents.events import RunListener
from qorven_local.errors import TooManyRuns
from qorven_local.agents.types import Agent, Session
from qorven_local.providers.events import ChatRequest

RETRY_AFTER_S = 2


@dataclass(frozen=True)
class Rewind:
    """Answer one of the session's user messages again: its text replaced (``text``; None keeps it) and
    every message after it dropped, in one transaction, once the run has its model (regenerate, edit)."""

    message_id: str
    text: str | None = None


@dataclass
class RunRequest:
    """What to run: which agent, in which session (or statelessly), on which new turn, and who listens."""

    tenant_id: str
    agent: Agent
    session: Session | None              # None = stateless (OpenAI form): history comes from ``messages``
    user_message: str | None             # the new user turn (None when ``messages`` already ends with it)
    channel: str = "web"
    messages: list[dict] | None = None   # OpenAI-format history for stateless runs
    extra_system: str | None = None      # extra context, e.g. a room's transcript instructions
    depth: int = 0                       # delegation depth
    cancel: threading.Event | None = None
    on_event: RunListener | None = None
    plan_run: bool = True                # counts against the per-tenant concurrency limit
    budget: RequestBudget | None = None  # shared by a request's whole delegation tree; the runner makes one
    client: ChatRequest | None = None    # an agent as a model: the client's options and tools (client_options.py)
    model: str | None = None             # this run's model instead of the conversation's or agent's
    rewind: Rewind | None = None         # answer an earlier user message again instead of a new one


class RequestBudget:
    """What one request (a chat turn, a channel message, a direct ``delegate`` call) may spend on child runs.

    One budget is shared by the top run and every run it delegates to, however deep, so a model that
    delegates in a loop is stopped after ``child_runs`` children in all, not per level.
    """

    def __init__(self, child_runs: int) -> None:
        self.child_runs = child_runs
        self._started = 0
        self._lock = threading.Lock()

    def take_child_run(self) -> bool:
        """Count one more child run; False (and nothing counted) when the request has none left."""
        with self._lock:
            if self._started >= self.child_runs:
                return False
            self._started += 1
            return True


@dataclass
class RunResult:
    """How a run ended: its answer, the tool calls it made and the tokens it used."""

    session_id: str | None
    message_id: str | None               # the final assistant message (None for stateless runs)
    content: str                         # the final answer's text
    tool_calls: list[dict]               # each call: {call_id, tool, arguments, ok, result | error, duration_ms}
    usage: dict | None                   # summed over the run's model calls
    finish_reason: str                   # stop | length | content_filter | cancelled | tool_calls
    client_tool_calls: list[dict] | None = None  # calls of the client's tools (OpenAI format): the run ended on them


class RunAdmission:
    """At most ``limit()`` concurrent plan-runs per tenant; the next one is refused, not queued."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self._active: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def admit(self, tenant_id: str) -> Iterator[None]:
        """Hold one of the tenant's slots while the block runs; ``TooManyRuns`` when none is free."""
        limit = self._limit()
        with self._lock:
            active = self._active.get(tenant_id, 0)
            if active >= limit:
                raise _refusal(limit)
            self._active[tenant_id] = active + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._active[tenant_id] - 1
                if left:
                    self._active[tenant_id] = left
                else:
                    del self._active[tenant_id]

    def active(self, tenant_id: str) -> int:
        with self._lock:
            return self._active.get(tenant_id, 0)

    def check(self, tenant_id: str) -> None:
        """Raise ``TooManyRuns`` if the tenant has no free slot now (a later ``admit`` may still be refused)."""
        limit = self._limit()
        if self.active(tenant_id) >= limit:
            raise _refusal(limit)


def _refusal(limit: int) -> TooManyRuns:
    return TooManyRuns(f"{limit} agent runs are already in progress for this tenant; retry shortly",
                       retry_after=RETRY_AFTER_S)

