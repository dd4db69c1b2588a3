"""Agent runs: the request/result shapes, plan-run admission and cancellation.

Everything that makes an agent answer (chat, rooms, channels, delegation) builds a ``RunRequest``
and calls ``ctx.runner.run(req)``; it blocks until the run ends and raises ``TooManyRuns``,
``NoModelConfigured``, ``ProviderError``/``ProviderTimeout`` ... on failure. Streaming consumers pass
``on_event``, which receives ``RunEvent``s on the run's thread (keep it cheap: hand off, don't work).

    RunEvent types and data
      session      {session_id, agent_id, message_id}      stateful runs, first
      memory       {recalled: [{id, score}]}               when memory was consulted
      text_delta   {text}
      tool_call    {call_id, tool, arguments}
      tool_result  {call_id, tool, ok, result | error, duration_ms}
      finish       {finish_reason, usage}
      error        {code, message}                          just before the run raises
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from qorven_local.errors import TooManyRuns
from qorven_local.models import Agent, Session

RETRY_AFTER_S = 2


@dataclass
class RunEvent:
    type: str
    data: dict[str, Any]


@dataclass
class RunRequest:
    tenant_id: str
    agent: Agent
    session: Session | None              # None = stateless (OpenAI form): history comes from ``messages``
    user_message: str | None             # the new user turn (None when ``messages`` already ends with it)
    channel: str = "web"
    messages: list[dict] | None = None   # OpenAI-format history for stateless runs
    extra_system: str | None = None      # extra context, e.g. a room's transcript instructions
    depth: int = 0                       # delegation depth
    cancel: threading.Event | None = None
    on_event: Callable[[RunEvent], None] | None = None
    plan_run: bool = True                # counts against the per-tenant concurrency limit


@dataclass
class RunResult:
    session_id: str | None
    message_id: str | None               # the final assistant message (None for stateless runs)
    content: str                          # the final answer's text
    tool_calls: list[dict]                # every tool call of the run: {call_id, tool, arguments, ok, result|error, duration_ms}
    usage: dict | None                    # summed over the run's model calls
    finish_reason: str                    # stop | length | content_filter | cancelled
    recalled: list[dict]                  # memories recalled for the run: {id, content, score}
    model: str | None = None              # the model id that answered
    tools_ran: bool = False


class RunAdmission:
    """At most ``limit()`` concurrent plan-runs per tenant; the next one is refused, not queued."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self._active: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def admit(self, tenant_id: str) -> Iterator[None]:
        limit = self._limit()
        with self._lock:
            active = self._active.get(tenant_id, 0)
            if active >= limit:
                raise TooManyRuns(f"{limit} agent runs are already in progress for this tenant; retry shortly",
                                  retry_after=RETRY_AFTER_S)
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


@dataclass
class _Active:
    tenant_id: str
    session_id: str | None
    cancel: threading.Event = field(default_factory=threading.Event)


class AgentRunner:
    """``ctx.runner``: runs agents (blocking), admits plan-runs, and cancels runs by session."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.admission = RunAdmission(lambda: int(ctx.config.max_runs_per_tenant))
        self._runs: dict[int, _Active] = {}
        self._lock = threading.Lock()

    def run(self, req: RunRequest) -> RunResult:
        """Run the agent loop for ``req``; see the module docstring for events and errors."""
        from qorven_local.agents.loop import run_agent  # loop imports this module

        if req.cancel is None:
            req.cancel = threading.Event()
        active = _Active(req.tenant_id, req.session.id if req.session else None, req.cancel)
        with self._lock:
            self._runs[id(active)] = active
        try:
            if req.plan_run:
                with self.admission.admit(req.tenant_id):
                    return run_agent(self.ctx, req)
            return run_agent(self.ctx, req)
        finally:
            with self._lock:
                self._runs.pop(id(active), None)

    def cancel_session(self, tenant_id: str, session_id: str) -> int:
        """Cancel the runs in progress in a session; returns how many were signalled."""
        with self._lock:
            runs = [r for r in self._runs.values() if r.tenant_id == tenant_id and r.session_id == session_id]
        for r in runs:
            r.cancel.set()
        return len(runs)

    def active_runs(self, tenant_id: str) -> int:
        return self.admission.active(tenant_id)
