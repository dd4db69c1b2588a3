"""The AgentRunner: runs agents (blocking), admits plan-runs, gives each request its budget, tells the hub."""

from __future__ import annotations

import logging
import threading

from qorven_local.agents.delegation import Delegation
from qorven_local.agents.drain import RunDrain
from qorven_local.agents.events import RunEvent, RunListener
from qorven_local.agents.loop import RunServices, run_agent
from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.agents.publish import HubPublisher
from qorven_local.agents.runs import RequestBudget, RunAdmission, RunRequest, RunResult
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.clock import Clock, IdFactory
from qorven_local.config import Config
from qorven_local.events.hub import Hub
from qorven_local.memory.service import MemoryService
from qorven_local.providers.registry import ProviderRegistry
from qorven_local.tools.registry import ToolRegistry

log = logging.getLogger("qorven.agents")


class AgentRunner:
    """Runs agents for chat, rooms, channels and delegation; see ``agents/runs.py`` for the contract."""

    def __init__(self, *, agents: AgentService, sessions: SessionService, memory: MemoryService,
                 providers: ProviderRegistry, model_ids: ModelDirectory, tools: ToolRegistry, hub: Hub,
                 config: Config, ids: IdFactory, clock: Clock) -> None:
        self.hub = hub
        self._shutdown_grace = lambda: float(config.shutdown_grace_seconds)
        self.drain = RunDrain()
        self.admission = RunAdmission(lambda: int(config.max_runs_per_tenant))
        self.delegation = Delegation(agents, sessions, self.run)
        self.services = RunServices(sessions=sessions, memory=memory, providers=providers, model_ids=model_ids,
                                    tools=tools, delegation=self.delegation, config=config, ids=ids, clock=clock)

    def run(self, req: RunRequest) -> RunResult:
        """Run the agent loop for ``req``: its events go to the hub and to ``req.on_event``."""
        if req.cancel is None:
            req.cancel = threading.Event()
        if req.budget is None:  # a top run: its delegation tree shares this one budget
            req.budget = RequestBudget(int(self.services.config.max_child_runs_per_request))
        emit = _both(HubPublisher(self.hub, req.tenant_id, req.session.id if req.session else None), req.on_event)
        with self.drain.running(req.cancel):
            if req.plan_run:
                with self.admission.admit(req.tenant_id):
                    return run_agent(self.services, req, emit)
            return run_agent(self.services, req, emit)

    def active_runs(self, tenant_id: str) -> int:
        return self.admission.active(tenant_id)

    def check_capacity(self, tenant_id: str) -> None:
        """Refuse up front (``TooManyRuns``) when the tenant's plan-run slots are all taken or the app stops."""
        self.drain.check()
        self.admission.check(tenant_id)

    def shutdown(self) -> None:
        """Before the database closes: refuse new runs, let those in flight finish within
        ``shutdown_grace_seconds``, then stop the rest (their answers are stored ``stopped``)."""
        left = self.drain.drain(self._shutdown_grace())
        if left:
            log.warning("%d agent runs did not stop in time; the database closes under them", left)


def _both(first: RunListener, second: RunListener | None) -> RunListener:
    if second is None:
        return first

    def emit(event: RunEvent) -> None:
        first(event)
        second(event)
    return emit
