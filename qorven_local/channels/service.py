"""Channel bindings and inbound webhooks: the ``ChannelService``.

Bindings connect one channel account (a Telegram bot, a Slack app, ...) to an agent. Their
secrets are write-only (``secrets.py``). Setting the verifying secret (the kind's first
``SECRET_NAMES`` entry) keeps the previous value as a second accepted one, so a provider can be
switched over without dropping deliveries; ``keep_previous: false`` drops it at once (a leaked
secret). Moving a URL the binding sends to onto another scheme, host or port clears all of its
secrets (they never follow a base URL elsewhere). Config rules and the API objects are in
``binding.py``.

``receive()`` is the webhook pipeline in the order ``channels/base.py`` prescribes: verify on
the raw bytes first, then handshakes, parse, de-duplicate by a digest of the signed bytes and by the
provider's event id (a repeat answers the ack again and runs nothing; the digest catches a captured
delivery re-sent under a new unsigned id), store the job and answer the kind's ack at once. The
agent run and the reply's delivery happen on the ``ChannelWorker`` (``outbox.py``), which
``start_worker()`` starts and ``stop_worker()`` stops.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Mapping

from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.channels import routing
from qorven_local.channels.base import OK_REPLY, signed_digest
from qorven_local.channels.binding import binding_problems, check_config, moved_send_urls
from qorven_local.channels.kinds import KINDS, channel_kind, secret_name
from qorven_local.channels.outbox import AgentRuns, ChannelWorker
from qorven_local.channels.secrets import ChannelSecrets
from qorven_local.channels.types import Binding, ChannelJob, HandshakeReply, Inbound
from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import Conflict, MethodNotAllowed, NotFound, Unauthorized, ValidationError
from qorven_local.events.hub import Hub
from qorven_local.agents.types import CHAT_FAMILY_CHANNELS
from qorven_local.models import Page
from qorven_local.security.secrets import SecretBox
from qorven_local.storage.channels import BindingStore, JobStore
from qorven_local.storage.db import Database, IntegrityError

if TYPE_CHECKING:
    import sqlean

log = logging.getLogger("qorven.channels")

MAX_SECRET_CHARS = 4096
KIND_LABELS = {"telegram": "Telegram", "slack": "Slack", "discord": "Discord", "whatsapp": "WhatsApp",
               "twilio_sms": "SMS", "github": "GitHub", "webhook": "Webhook"}


class ChannelService:
    """Bindings CRUD, secrets, status, routing dry runs and the inbound webhook pipeline."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, box: SecretBox, agents: AgentService,
                 sessions: SessionService, runner: AgentRuns, hub: Hub) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.agents = agents
        self.sessions = sessions
        self.runner = runner  # for the worker's agent runs
        self.hub = hub
        self.bindings = BindingStore(db)
        self.jobs = JobStore(db)
        self.secrets = ChannelSecrets(box, self.bindings)
        self.worker: ChannelWorker | None = None  # running between start_worker() and stop_worker()

    # the worker ----------------------------------------------------------------------------------
    def start_worker(self) -> None:
        """Start the worker that runs agents for accepted messages and delivers their replies."""
        self.worker = ChannelWorker(self.db, self.clock, self.jobs, self.bindings, self.secrets, self.runner,
                                    self.agents, self.sessions)
        self.worker.start()

    def stop_worker(self) -> None:
        """Stop claiming work and wait for jobs in progress."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    # secrets -------------------------------------------------------------------------------------
    def set_secret(self, tenant_id: str, binding_id: str, body: dict[str, Any]) -> Binding:
        """Set (or with ``secret: null`` remove) one of a binding's secrets."""
        binding = self.get(tenant_id, binding_id)
        kind = channel_kind(binding.kind)
        name = secret_name(kind, body.get("name"))
        value = body.get("secret")
        if value is None:
            with self.db.write() as conn:
                self.bindings.delete_secret(conn, binding.id, name)
            return self.get(tenant_id, binding_id)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_SECRET_CHARS:
            raise ValidationError(f"secret must be a non-empty string of at most {MAX_SECRET_CHARS} characters",
                                  param="secret")
        value = value.strip()
        # Only the verifying secret needs an overlap window; a send secret is simply replaced.
        keep_previous = bool(body.get("keep_previous", True)) and name == kind.SECRET_NAMES[0]
        with self.db.write() as conn:
            self.secrets.put(conn, binding.id, name, value, self.clock.iso(), keep_previous=keep_previous)
        log.info("channel %s: secret %r set (previous %s)", binding.id, name, "kept" if keep_previous else "dropped")
        return self.get(tenant_id, binding_id)

    # bindings ------------------------------------------------------------------------------------
    def _agent_id(self, tenant_id: str, ref: Any, param: str) -> str:
        if not isinstance(ref, str) or not ref:
            raise ValidationError(f"{param} must be an agent id or name", param=param)
        agent = self.agents.resolve(tenant_id, ref)
        if agent is None:
            raise NotFound(f"agent {ref} not found", param=param)
        return agent.id

    def _routing(self, tenant_id: str, value: Any) -> dict[str, Any]:
        value = value or {}
        keywords: dict[str, str] = {}
        for word, ref in (value.get("keywords") or {}).items():
            if not word.strip():
                raise ValidationError("routing keywords must not be blank", param="routing.keywords")
            keywords[word.strip()] = self._agent_id(tenant_id, ref, f"routing.keywords.{word}")
        default = value.get("default_agent_id")
        return {"keywords": keywords,
                "default_agent_id": self._agent_id(tenant_id, default, "routing.default_agent_id")
                if default else None}

    def create(self, tenant_id: str, fields: dict[str, Any]) -> Binding:
        kind = channel_kind(fields["kind"]).KIND
        now = self.clock.iso()
        binding = Binding(
            id=self.ids.new("chn"), tenant_id=tenant_id, kind=kind, name=(fields.get("name") or kind).strip(),
            agent_id=self._agent_id(tenant_id, fields.get("agent_id"), "agent_id"),
            enabled=fields.get("enabled", True), config=check_config(kind, fields.get("config") or {}),
            routing=self._routing(tenant_id, fields.get("routing")), created_at=now, updated_at=now)
        try:
            with self.db.write() as conn:
                self.bindings.insert(conn, binding)
        except IntegrityError:
            raise Conflict(f"a channel named {binding.name!r} already exists", param="name") from None
        log.info("channel %s (%s) created for agent %s", binding.id, kind, binding.agent_id)
        return binding

    def get(self, tenant_id: str, binding_id: str) -> Binding:
        binding = self.bindings.get(tenant_id, binding_id)
        if binding is None:
            raise NotFound(f"channel {binding_id} not found")
        return binding

    def list_page(self, tenant_id: str, *, kind: str | None, limit: int | None, cursor: str | None) -> Page:
        return self.bindings.page(tenant_id, kind=kind, limit=limit, cursor=cursor)

    def update(self, tenant_id: str, binding_id: str, fields: dict[str, Any]) -> Binding:
        binding = self.get(tenant_id, binding_id)
        if "kind" in fields and fields["kind"] != binding.kind:
            raise ValidationError("a binding's kind cannot change; create a new binding", param="kind")
        if "name" in fields:
            binding.name = (fields["name"] or binding.kind).strip()
        if "agent_id" in fields:
            binding.agent_id = self._agent_id(tenant_id, fields["agent_id"], "agent_id")
        if "enabled" in fields:
            binding.enabled = bool(fields["enabled"])
        moved: list[str] = []
        if "config" in fields:
            config = check_config(binding.kind, fields["config"] or {})
            moved = moved_send_urls(binding.kind, binding.config, config)
            binding.config = config
        if "routing" in fields:
            binding.routing = self._routing(tenant_id, fields["routing"])
        binding.updated_at = self.clock.iso()
        try:
            with self.db.write() as conn:
                self.bindings.update(conn, binding)
                for name in channel_kind(binding.kind).SECRET_NAMES if moved else ():
                    self.bindings.delete_secret(conn, binding.id, name)
        except IntegrityError:
            raise Conflict(f"a channel named {binding.name!r} already exists", param="name") from None
        if moved:
            log.info("channel %s: %s moved to another origin; its secrets were cleared", binding.id,
                     " and ".join(moved))
        return self.get(tenant_id, binding_id)

    def delete(self, tenant_id: str, binding_id: str) -> Binding:
        binding = self.get(tenant_id, binding_id)
        with self.db.write() as conn:
            self.bindings.delete(conn, tenant_id, binding_id)
        log.info("channel %s deleted", binding_id)
        return binding

    def deliveries(self, tenant_id: str, binding_id: str, *, limit: int | None, cursor: str | None) -> Page:
        self.get(tenant_id, binding_id)
        return self.jobs.page(tenant_id, binding_id, limit=limit, cursor=cursor)

    def status(self, tenant_id: str) -> list[dict[str, Any]]:
        pending = self.bindings.open_jobs_by_binding(tenant_id)
        out = []
        for b in self.bindings.list_all(tenant_id):
            kind = KINDS[b.kind]
            secret_set = kind.SECRET_NAMES[0] in b.secrets_set
            problems = binding_problems(b)
            out.append({"id": b.id, "kind": b.kind, "name": b.name, "enabled": b.enabled,
                        "healthy": not problems and b.last_error is None, "problems": problems,
                        "secret_set": secret_set, "last_inbound_at": b.last_inbound_at,
                        "last_error": b.last_error, "inbound_count": b.inbound_count,
                        "rejected_count": b.rejected_count, "outbox_pending": pending.get(b.id, 0)})
        return out

    # routing -------------------------------------------------------------------------------------
    def _agent_exists(self, tenant_id: str) -> Callable[[str], bool]:
        return lambda agent_id: self.agents.store.get(tenant_id, agent_id) is not None

    def _find_session(self, conn: sqlean.Connection, tenant_id: str, agent_id: str, channel: str,
                      peer: str) -> str | None:
        """The session a message continues: the canonical one (chat family) or the peer's latest."""
        if channel in CHAT_FAMILY_CHANNELS:
            found = self.sessions.store.find_canonical(conn, tenant_id, agent_id, channel, peer)
            return found.id if found else None
        return self.bindings.latest_active_session(conn, tenant_id, agent_id, channel, peer)

    def test_routing(self, tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Where a message would go, without storing anything."""
        if body.get("binding_id"):
            binding = self.get(tenant_id, body["binding_id"])
        elif body.get("kind"):
            found = self.bindings.by_kind(tenant_id, channel_kind(body["kind"]).KIND)
            if len(found) != 1:
                raise NotFound(f"{len(found) or 'no'} {body['kind']} channels exist; pass binding_id",
                               param="kind")
            binding = found[0]
        else:
            raise ValidationError("pass binding_id or kind", param="binding_id")
        chosen = routing.route(binding, body["text"], self._agent_exists(tenant_id))
        if chosen is None:
            raise NotFound(f"no agent of channel {binding.id} exists any more", param="binding_id")
        channel = routing.session_channel(binding.kind)
        peer = str(body["sender"])
        with self.db.read() as conn:
            session_id = self._find_session(conn, tenant_id, chosen.agent_id, channel, peer)
        return {"binding_id": binding.id, "agent_id": chosen.agent_id, "session_id": session_id,
                "would_create_session": session_id is None, "matched_rule": chosen.matched_rule,
                "channel": channel, "peer": peer}

    # the webhook pipeline ------------------------------------------------------------------------
    def webhook_binding(self, ref: str) -> Binding:
        """A binding by id, or by kind when exactly one binding of that kind exists on the whole install.

        Counted across tenants: the public route knows no tenant, so a second tenant's binding of the
        same kind makes the kind ambiguous for everyone, and each binding answers on its own id.
        """
        if ref.startswith("chn_"):
            binding = self.bindings.get_any_tenant(ref)
            if binding is not None:
                return binding
        elif ref in KINDS:
            found = self.bindings.by_kind_any_tenant(ref)
            if len(found) == 1:
                return found[0]
            if found:
                raise NotFound(f"several {ref} channels exist on this install; post to /v1/webhooks/<binding id> "
                               "(each binding's webhook_url)")
        raise NotFound(f"no channel {ref!r}; post to /v1/webhooks/<binding id> (the binding's webhook_url)")

    def receive(self, ref: str, method: str, raw: bytes, headers: Mapping[str, str], url: str,
                query: dict[str, Any], content_type: str) -> HandshakeReply:
        """Answer one webhook request; an accepted message is queued for the worker."""
        binding = self.webhook_binding(ref)
        kind = channel_kind(binding.kind)
        if method == "GET":
            try:
                reply = kind.handshake("GET", query, raw, headers, binding.config)
            except Unauthorized:
                self.bindings.count_rejected(binding.id)
                raise
            if reply is None:
                raise MethodNotAllowed(f"{binding.kind} webhooks are POSTed; GET answers only Meta's hub.challenge")
            return reply
        try:
            kind.verify(raw, headers, url, self.secrets.values(binding.id, kind.SECRET_NAMES[0]), binding.config,
                        self.clock.time())
        except Unauthorized as exc:
            self.bindings.count_rejected(binding.id)
            log.info("channel %s: rejected a %s webhook: %s", binding.id, binding.kind, exc.message)
            raise
        reply = kind.handshake("POST", query, raw, headers, binding.config)
        if reply is not None:
            return reply
        inbound = kind.parse(raw, headers, content_type)
        if inbound is None:
            return OK_REPLY
        if not binding.enabled:
            log.info("channel %s is disabled; dropped event %s", binding.id, inbound.event_id)
            return kind.ack(inbound)
        self.accept(binding, inbound, signed_digest(raw, headers, kind.SIGNED_HEADERS))
        return kind.ack(inbound)

    def accept(self, binding: Binding, inbound: Inbound, digest: str) -> ChannelJob | None:
        """Record the signed bytes' digest and the event id, open the session and queue the run; None for
        a replay of either."""
        tenant_id = binding.tenant_id
        chosen = routing.route(binding, inbound.text, self._agent_exists(tenant_id))
        now_ts, now = self.clock.time(), self.clock.iso()
        channel = routing.session_channel(binding.kind)
        peer = routing.session_peer(binding.kind, inbound)
        with self.db.write() as conn:
            # The digest first: a replay under a fresh id must not claim that id for a later real event.
            if not (self.bindings.remember_event(conn, binding.id, digest, now_ts)
                    and self.bindings.remember_event(conn, binding.id, inbound.event_id, now_ts)):
                log.info("channel %s: event %s already handled; not run again", binding.id, inbound.event_id)
                return None
            if chosen is None:
                self.bindings.set_error(conn, binding.id, "no agent to answer: the binding's agents were deleted")
                return None
            session_id = self._find_session(conn, tenant_id, chosen.agent_id, channel, peer)
            if session_id is None:
                title = f"{KIND_LABELS.get(binding.kind, binding.kind)} · {inbound.display_name or peer}"[:200]
                session, _ = self.sessions.open(tenant_id, chosen.agent_id, channel, peer, title)
                session_id = session.id
            job_id = self.ids.new("dlv")
            job = ChannelJob(id=job_id, tenant_id=tenant_id, binding_id=binding.id,
                             agent_id=chosen.agent_id, session_id=session_id, channel=channel,
                             inbound=self.secrets.seal_inbound(job_id, inbound), status="queued",
                             next_attempt_ts=now_ts, created_at=now, updated_at=now)
            self.jobs.insert(conn, job)
            self.bindings.count_inbound(conn, binding.id, now)
        self.publish(tenant_id, chosen.agent_id, "channel.inbound", {
            "binding_id": binding.id, "kind": binding.kind, "agent_id": chosen.agent_id, "session_id": session_id,
            "matched_rule": chosen.matched_rule, "event_id": inbound.event_id, "sender": inbound.sender,
            "display_name": inbound.display_name, "chat_id": inbound.chat_id, "text": inbound.text,
            "delivery_id": job.id})
        if self.worker is not None:
            self.worker.wake()
        return job

    def publish(self, tenant_id: str, agent_id: str, event: str, data: dict[str, Any]) -> None:
        """On ``agent:<id>``; the hub mirrors it to ``activity``."""
        self.hub.publish(tenant_id, f"agent:{agent_id}", event, data)
