"""The channel worker: runs the agent for each accepted inbound message and delivers its reply.

A job (``channel_jobs`` row) moves ``queued -> running -> pending -> sending -> sent`` or ends
``failed``. The reply is stored before any delivery attempt (the outbox), so a channel API that is
down costs retries, not the answer. Delivery failures the channel calls retryable (unreachable,
429, 5xx) are retried with exponential backoff (``base_delay * 2**(attempt-1)``, capped, and never
sooner than the API's Retry-After) up to ``max_attempts``; the rest fail at once and show as the
binding's ``last_error`` in ``/v1/channels/status`` until a later delivery succeeds.

Agent runs are plan-runs: when the tenant is at its concurrent-run limit the job waits for the
limit's Retry-After and tries again. After a restart a run that was in progress is not repeated
(its user message may already be stored); an interrupted delivery is retried.

The HTTP client (httpx) is made on the first delivery, not at start-up (start-up time).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from qorven_local.agents.runs import RunRequest, RunResult
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.channels.kinds import channel_kind
from qorven_local.channels.secrets import ChannelSecrets
from qorven_local.channels.types import ChannelJob
from qorven_local.clock import Clock
from qorven_local.errors import ChannelSendError, QorvenError, TooManyRuns
from qorven_local.storage.channels import BindingStore, JobStore
from qorven_local.storage.db import Database

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("qorven.channels")

PRUNE_EVERY_S = 3600.0
EVENT_RETENTION_S = 7 * 86400  # how long a seen event id is remembered for de-duplication


class AgentRuns(Protocol):
    """What the worker needs of the agent runner: one blocking run per job."""

    def run(self, req: RunRequest) -> RunResult: ...


class ChannelWorker:
    """A few daemon threads that claim due jobs from the database; ``wake()`` on new work."""

    def __init__(self, db: Database, clock: Clock, jobs: JobStore, bindings: BindingStore, secrets: ChannelSecrets,
                 runner: AgentRuns | None, agents: AgentService, sessions: SessionService, *, threads: int = 2,
                 base_delay: float = 1.0, max_delay: float = 300.0, max_attempts: int = 6,
                 send_timeout: float = 15.0) -> None:
        self.db = db
        self.clock = clock
        self.jobs = jobs
        self.bindings = bindings
        self.secrets = secrets
        self.runner = runner
        self.agents = agents
        self.sessions = sessions
        self.threads = threads
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_attempts = max_attempts
        self.send_timeout = send_timeout
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()
        self._wake = threading.Condition()
        self._signalled = False
        self._stopping = threading.Event()  # also the runs' cancel signal: a stop cancels runs in progress
        self._threads: list[threading.Thread] = []
        self._last_prune = 0.0

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.jobs.recover_interrupted(self.clock.time(), self.clock.iso())
        for i in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"qorven-channels-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming work, cancel runs in progress and wait up to ``timeout`` for the threads."""
        self._stopping.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        with self._http_lock:
            if self._http is not None:
                self._http.close()

    @property
    def http(self) -> httpx.Client:
        """The client replies are sent with (one for all threads), made on first use."""
        with self._http_lock:
            if self._http is None:
                import httpx

                self._http = httpx.Client(timeout=self.send_timeout, follow_redirects=False)
            return self._http

    def wake(self) -> None:
        with self._wake:
            self._signalled = True
            self._wake.notify_all()

    # the loop ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        clock = self.clock
        while not self._stopping.is_set():
            try:
                self._maybe_prune()
                job = self.jobs.claim_due(clock.time(), clock.iso())
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("channel worker: could not claim a job")
                job = None
            if job is not None:
                try:
                    self.process(job)
                except Exception:
                    log.exception("channel worker: job %s failed unexpectedly", job.id)
                    self._fail(job, "internal error while handling the message")
                continue
            self._sleep_until_due()

    def _sleep_until_due(self) -> None:
        due = self.jobs.next_due_ts()
        timeout = 1.0 if due is None else max(0.0, min(1.0, due - self.clock.time()))
        with self._wake:
            if not self._signalled and not self._stopping.is_set():
                self._wake.wait(timeout)
            self._signalled = False

    def _maybe_prune(self) -> None:
        now = self.clock.monotonic()
        if now - self._last_prune >= PRUNE_EVERY_S or not self._last_prune:
            self._last_prune = now
            pruned = self.bindings.prune_events(self.clock.time() - EVENT_RETENTION_S)
            if pruned:
                log.info("channel worker: forgot %d event ids older than 7 days", pruned)

    # one job -----------------------------------------------------------------------------------
    def process(self, job: ChannelJob) -> None:
        """Advance one claimed job: run its agent if it is ``running``, then deliver the reply."""
        if job.status == "running":
            ran = self._run(job)
            if ran is None or ran.status != "sending":
                return
            job = ran
        self._deliver(job)

    def _update(self, job_id: str, **fields: Any) -> None:
        with self.db.write() as conn:
            self.jobs.update(conn, job_id, self.clock.iso(), **fields)

    def _fail(self, job: ChannelJob, error: str, *, binding_error: bool = True) -> None:
        with self.db.write() as conn:
            self.jobs.update(conn, job.id, self.clock.iso(), status="failed", last_error=error)
            if binding_error:
                self.bindings.set_error(conn, job.binding_id, error)
        log.warning("channel %s: delivery %s failed: %s", job.binding_id, job.id, error)

    def _run(self, job: ChannelJob) -> ChannelJob | None:
        """Run the agent on the job's session; on success the reply is stored and claimed for sending."""
        if self.runner is None:
            self._fail(job, "no agent runner is available")
            return None
        try:
            agent = self.agents.get(job.tenant_id, job.agent_id)
            session = self.sessions.get(job.tenant_id, job.session_id)
            result = self.runner.run(RunRequest(tenant_id=job.tenant_id, agent=agent, session=session,
                                                user_message=job.inbound["text"], channel=job.channel,
                                                cancel=self._stopping, plan_run=True))
        except TooManyRuns as exc:
            delay = max(1, exc.retry_after or 1)
            self._update(job.id, status="queued", next_attempt_ts=self.clock.time() + delay,
                         last_error=f"{exc.code}: waiting for a free run slot")
            return None
        except QorvenError as exc:
            self._fail(job, f"{exc.code}: {exc.message}")
            return None
        if result.finish_reason == "cancelled":
            self._fail(job, "the agent run was cancelled (server stopping)", binding_error=False)
            return None
        text = (result.content or "").strip()
        if not text:
            self._update(job.id, status="failed", message_id=result.message_id,
                         last_error="the agent's reply was empty; nothing to send")
            return None
        job.reply, job.message_id, job.status = result.content, result.message_id, "sending"
        self._update(job.id, status="sending", reply=result.content, message_id=result.message_id,
                     last_error=None)
        return job

    def _deliver(self, job: ChannelJob) -> None:
        binding = self.bindings.get(job.tenant_id, job.binding_id)
        if binding is None:
            self._fail(job, "the channel was deleted before the reply was sent", binding_error=False)
            return
        kind = channel_kind(binding.kind)
        attempts = job.attempts + 1
        try:
            secret = self.secrets.current(binding.id, kind.SEND_SECRET)
            kind.send(self.http, binding.config, secret, self.secrets.open_inbound(job.id, job.inbound),
                      job.reply or "")
        except ChannelSendError as exc:
            if exc.retryable and attempts < self.max_attempts:
                delay = min(self.max_delay, self.base_delay * 2 ** (attempts - 1))
                if exc.retry_after:
                    delay = max(delay, float(exc.retry_after))
                self._update(job.id, status="pending", attempts=attempts,
                             next_attempt_ts=self.clock.time() + delay, last_error=exc.message)
                log.info("channel %s: delivery %s attempt %d failed (%s); retry in %.1f s", binding.id, job.id,
                         attempts, exc.message, delay)
                self.wake()
                return
            self._update(job.id, attempts=attempts)
            self._fail(job, exc.message)
            return
        now = self.clock.iso()
        with self.db.write() as conn:
            self.jobs.update(conn, job.id, now, status="sent", attempts=attempts, delivered_at=now, last_error=None)
            self.bindings.set_error(conn, binding.id, None)
