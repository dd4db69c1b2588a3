"""Delegation: one agent asks another to do a task, in a child run, and gets its answer back.

``Delegation.delegate_for(tenant_id, agent, depth, parent)`` returns the ``delegate`` tool's
callable ``(agent_name, task) -> str``. The agent loop binds one per tool call with the calling
run as ``parent``; the tools API binds one without a parent. Calling it:

- resolves the named agent in the same tenant (unknown → ``NotFound``, which the tool reports);
- runs it in a fresh ``task`` session of that agent at ``depth + 1``, so both sessions keep their
  messages: the parent's ``delegate`` call and result, the child's task and answer;
- spends one child run of the request's budget (``RequestBudget``, shared by the whole tree: a model
  that delegates in a loop cannot multiply runs); none left → the tool error ``budget_exceeded``;
- admits the child as a plan-run: children count against the tenant's concurrent-run limit. Admission
  refuses rather than waits, so a chain at the limit never deadlocks on itself: the ``delegate`` call
  fails with the tool error ``too_many_runs`` and the parent answers with what it has;
- forwards the child's tool events to the parent run as ``Delegated`` events naming the parent's
  ``delegate`` call and the child's depth and agent, so a stream shows the whole chain; the
  child's text deltas and finish stay its own;
- shares the parent's cancel event: a client that goes away stops the child too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from qorven_local.agents.events import Delegated, RunEvent, RunListener, ToolCalled, ToolFinished
from qorven_local.agents.runs import RequestBudget, RunRequest, RunResult
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.errors import NotFound, TooManyRuns
from qorven_local.agents.types import Agent
from qorven_local.tools.context import Delegate
from qorven_local.tools.registry import ToolError


@dataclass(frozen=True)
class ParentRun:
    """The run that calls ``delegate``: where its events go, its cancel event, the calling tool call, its budget."""

    emit: RunListener
    cancel: threading.Event
    call_id: str
    budget: RequestBudget | None = None


class Delegation:
    """Runs child agents for the ``delegate`` tool through ``run`` (the AgentRunner's)."""

    def __init__(self, agents: AgentService, sessions: SessionService,
                 run: Callable[[RunRequest], RunResult]) -> None:
        self.agents = agents
        self.sessions = sessions
        self.run = run

    def delegate_for(self, tenant_id: str, agent: Agent | None, depth: int,
                     parent: ParentRun | None = None) -> Delegate:
        """The ``delegate`` callable for ``agent`` (None: the tenant itself) at ``depth``."""
        def delegate(agent_name: str, task: str) -> str:
            return self.run_child(tenant_id, agent, agent_name, task, depth, parent)
        return delegate

    def run_child(self, tenant_id: str, parent_agent: Agent | None, agent_name: str, task: str, depth: int,
                  parent: ParentRun | None) -> str:
        """Run ``agent_name`` on ``task`` in a new task session at ``depth + 1``; its answer."""
        child = self.agents.resolve(tenant_id, agent_name)
        if child is None:
            raise NotFound(f"agent {agent_name!r} not found; use one of: "
                           + ", ".join(a.name for a in self.agents.list_all(tenant_id)))
        budget = parent.budget if parent is not None else None
        if budget is not None and not budget.take_child_run():
            raise ToolError("budget_exceeded", f"this request already started {budget.child_runs} delegated "
                                               "tasks, its limit; answer with what you have")
        title = f"Task from {parent_agent.name}" if parent_agent is not None else "Task"
        session, _ = self.sessions.open(tenant_id, child.id, "task", None, title)
        child_depth = depth + 1
        try:
            result = self.run(RunRequest(
                tenant_id=tenant_id, agent=child, session=session, user_message=task, channel="task",
                depth=child_depth, cancel=parent.cancel if parent is not None else None,
                on_event=forwarder_to(parent, child, child_depth) if parent is not None else None,
                budget=budget))
        except TooManyRuns as exc:
            raise ToolError("too_many_runs", f"{exc.message}; {agent_name} cannot start now, so do the task "
                                             "yourself or answer with what you have") from None
        return result.content


def forwarder_to(parent: ParentRun, child: Agent, depth: int) -> RunListener:
    """The child run's listener: its tool events, wrapped, to the parent; a grandchild's as they are."""
    def forward(event: RunEvent) -> None:
        match event:
            case ToolCalled() | ToolFinished():
                parent.emit(Delegated(parent_call_id=parent.call_id, depth=depth, agent=child.name, event=event))
            case Delegated():
                parent.emit(event)
    return forward
