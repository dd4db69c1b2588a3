"""Delegation: one agent asks another to do a task, in a child run, and gets its answer back.

``ctx.delegate_for(tenant_id=, agent=, session_id=, depth=)`` (called by the agent loop when it
builds a run's ToolContext, and by the tools API) returns the ``delegate`` tool's callable
``(agent_name, task) -> str``. Calling it:

- resolves the named agent in the same tenant (unknown → ``NotFound``, which the tool reports);
- runs it in a fresh ``task`` session of that agent at ``depth + 1``, so both sessions keep their
  messages: the parent's ``delegate`` call and result, the child's task and answer;
- does **not** count the child as another plan-run when a parent run is in progress: the parent
  already holds a slot, so a chain at the tenant's limit can never deadlock waiting for itself.
  A delegation started outside any run (``POST /v1/tools/delegate/invoke``) is a plan-run;
- forwards the child's ``tool_call``/``tool_result`` events to the parent run's ``on_event`` with
  ``parent_call_id`` (the parent's ``delegate`` call), ``depth``, ``agent_id`` and ``session_id``
  added, so a stream shows the whole chain; the child's text deltas and finish stay its own;
- shares the parent's cancel event: a client that goes away stops the child too.

The loop's call does not carry the parent's ``on_event``, cancel event or current call id, so
``ParentAwareRunner`` (wrapped around ``ctx.runner`` in bootstrap) keeps them in a context variable
for the duration of each run. The registry runs each tool in a thread started with a copy of the
caller's context, so the delegate callable sees the run that called it.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from typing import Any, Callable

from qorven_local.agents.runs import RunEvent, RunRequest
from qorven_local.errors import NotFound
from qorven_local.models import Agent

FORWARDED_EVENTS = ("tool_call", "tool_result")


@dataclass
class ParentRun:
    """What a child run needs to know about the run that delegated to it."""

    on_event: Callable[[RunEvent], None] | None
    cancel: threading.Event
    depth: int
    current_call_id: str | None = None

    def observe(self, event: RunEvent) -> None:
        """The run's own ``on_event``: remember which tool call is running, then pass the event on."""
        if event.type == "tool_call":
            self.current_call_id = event.data.get("call_id")
        if self.on_event is not None:
            self.on_event(event)


_PARENT: contextvars.ContextVar[ParentRun | None] = contextvars.ContextVar("qorven_parent_run", default=None)


class ParentAwareRunner:
    """``ctx.runner``: the AgentRunner, with each run's event sink and cancel event in context.

    Everything but ``run`` is the wrapped runner's (admission, cancel_session, active_runs...).
    """

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def run(self, req: RunRequest):
        if req.cancel is None:
            req.cancel = threading.Event()
        parent = ParentRun(on_event=req.on_event, cancel=req.cancel, depth=req.depth)
        req.on_event = parent.observe
        token = _PARENT.set(parent)
        try:
            return self._inner.run(req)
        finally:
            _PARENT.reset(token)


class Delegation:
    """Builds the ``delegate`` callables; attach ``delegation.delegate_for`` as ``ctx.delegate_for``."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def delegate_for(self, *, tenant_id: str, agent: Agent | None, session_id: str | None,
                     depth: int) -> Callable[[str, str], str]:
        def delegate(agent_name: str, task: str) -> str:
            return self.run_child(tenant_id, agent, agent_name, task, depth)
        return delegate

    def run_child(self, tenant_id: str, parent_agent: Agent | None, agent_name: str, task: str, depth: int) -> str:
        """Run ``agent_name`` on ``task`` in a new task session at ``depth + 1``; its answer."""
        child = self.ctx.agents.resolve(tenant_id, agent_name)
        if child is None:
            raise NotFound(f"agent {agent_name!r} not found; use one of: "
                           + ", ".join(a.name for a in self.ctx.agents.list_all(tenant_id)))
        title = f"Task from {parent_agent.name}" if parent_agent is not None else "Task"
        session, _ = self.ctx.sessions.open(tenant_id, child.id, "task", None, title)
        parent = _PARENT.get()
        child_depth = depth + 1
        on_event = None
        cancel = None
        if parent is not None:
            cancel = parent.cancel
            on_event = self._forwarder(parent, child, session.id, child_depth)
        result = self.ctx.runner.run(RunRequest(
            tenant_id=tenant_id, agent=child, session=session, user_message=task, channel="task",
            depth=child_depth, cancel=cancel, on_event=on_event, plan_run=parent is None))
        return result.content

    @staticmethod
    def _forwarder(parent: ParentRun, child: Agent, session_id: str, depth: int) -> Callable[[RunEvent], None]:
        parent_call_id = parent.current_call_id

        def forward(event: RunEvent) -> None:
            if event.type in FORWARDED_EVENTS and parent.on_event is not None:
                # the child's own nested events already carry their parent_call_id and depth
                data = {"parent_call_id": parent_call_id, "depth": depth, "agent_id": child.id,
                        "agent": child.name, "session_id": session_id, **event.data}
                parent.on_event(RunEvent(event.type, data))
        return forward
