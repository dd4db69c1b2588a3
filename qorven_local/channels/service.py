"""Channel bindings and inbound webhooks: ``ctx.channels``.

Bindings connect one channel account (a Telegram bot, a Slack app, ...) to an agent. Their
secrets are write-only: encrypted with the install's SecretBox (aad ``channel:<id>:<name>``),
never returned, never logged. Setting the verifying secret (the kind's first ``SECRET_NAMES``
entry) keeps the previous value as a second accepted one, so a provider can be switched over
without dropping deliveries; ``keep_previous: false`` drops it at once (a leaked secret).

``receive()`` is the webhook pipeline in the order ``channels/base.py`` prescribes: verify on
the raw bytes first, then handshakes, parse, de-duplicate by the provider's event id (a repeat
answers the ack again and runs nothing), store the job and answer the kind's ack at once. The
agent run and the reply's delivery happen on the ``ChannelWorker`` (``outbox.py``).

Config URLs (``api_base_url``, ``reply_url``, ``public_base_url``) must be http(s) without
credentials; plain http only to loopback (local fakes, tests, a local relay), since a bot token
travels with every send. They are not resolved or range-checked at save time: bindings are
written by admins, and a self-hosted API proxy on the LAN is a legitimate target.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
from typing import Any, Mapping

from qorven_local.channels import routing
from qorven_local.channels.base import OK_REPLY
from qorven_local.channels.kinds import KINDS, channel_kind, secret_name
from qorven_local.channels.types import Binding, ChannelJob, HandshakeReply, Inbound
from qorven_local.errors import Conflict, MethodNotAllowed, NotFound, Unauthorized, ValidationError
from qorven_local.models import CHAT_FAMILY_CHANNELS, Page
from qorven_local.security.urlpolicy import BlockedURL, split_url
from qorven_local.storage.channels import BindingStore, JobStore
from qorven_local.storage.db import IntegrityError

log = logging.getLogger("qorven.channels")

URL_KEYS = ("api_base_url", "reply_url", "public_base_url")
MAX_SECRET_CHARS = 4096
EVENT_RETENTION_S = 7 * 86400
KIND_LABELS = {"telegram": "Telegram", "slack": "Slack", "discord": "Discord", "whatsapp": "WhatsApp",
               "twilio_sms": "SMS", "github": "GitHub", "webhook": "Webhook"}


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config(kind_name: str, config: Any) -> dict[str, Any]:
    """Validate a binding's non-secret config against its kind's CONFIG_KEYS and URL rules."""
    kind = channel_kind(kind_name)
    if not isinstance(config, dict):
        raise ValidationError("config must be an object", param="config")
    clean: dict[str, Any] = {}
    for key, value in config.items():
        if key not in kind.CONFIG_KEYS:
            known = ", ".join(kind.CONFIG_KEYS) or "none"
            raise ValidationError(f"{kind_name} bindings have no config key {key!r} (known: {known}); "
                                  "secrets go to PUT /v1/channels/{id}/secret", param=f"config.{key}")
        if value is None or value == "":
            continue  # unset
        if not isinstance(value, str) or len(value) > 2000:
            raise ValidationError(f"config.{key} must be a string of at most 2000 characters",
                                  param=f"config.{key}")
        if key in URL_KEYS:
            try:
                target = split_url(value)
            except BlockedURL as exc:
                raise ValidationError(f"config.{key}: {exc}", param=f"config.{key}") from None
            if target.scheme == "http" and not _is_loopback(target.host) and key != "public_base_url":
                raise ValidationError(f"config.{key} must use https (plain http is allowed to loopback only)",
                                      param=f"config.{key}")
        clean[key] = value
    return clean


class ChannelService:
    """Bindings CRUD, secrets, status, routing dry runs and the inbound webhook pipeline."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.clock = ctx.clock
        self.ids = ctx.ids
        self.bindings = BindingStore(ctx.db)
        self.jobs = JobStore(ctx.db)
        self.worker = None  # outbox.ChannelWorker, attached by start()

    # secrets -------------------------------------------------------------------------------------
    @property
    def box(self):
        if getattr(self.ctx, "secrets", None) is None:  # one SecretBox per context, shared with providers
            from qorven_local.security.secrets import SecretBox
            self.ctx.secrets = SecretBox(self.ctx.config.secret_key_path)
        return self.ctx.secrets

    @staticmethod
    def _aad(binding_id: str, name: str) -> str:
        return f"channel:{binding_id}:{name}"

    def secret_values(self, binding_id: str, name: str) -> list[str]:
        """Every stored value of a secret, current first (then the previous one, if kept)."""
        aad = self._aad(binding_id, name)
        return [self.box.decrypt(c, aad) for c in self.bindings.secret_ciphertexts(binding_id, name)]

    def current_secret(self, binding_id: str, name: str | None) -> str | None:
        if not name:
            return None
        values = self.secret_values(binding_id, name)
        return values[0] if values else None

    def set_secret(self, tenant_id: str, binding_id: str, body: dict[str, Any]) -> Binding:
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
        sealed = self.box.encrypt(value, self._aad(binding.id, name))
        with self.db.write() as conn:
            self.bindings.put_secret(conn, binding.id, name, sealed, self.clock.iso(), keep_previous=keep_previous)
        log.info("channel %s: secret %r set (previous %s)", binding.id, name, "kept" if keep_previous else "dropped")
        return self.get(tenant_id, binding_id)

    # bindings ------------------------------------------------------------------------------------
    def _agent_id(self, tenant_id: str, ref: Any, param: str) -> str:
        if not isinstance(ref, str) or not ref:
            raise ValidationError(f"{param} must be an agent id or name", param=param)
        agent = self.ctx.agents.resolve(tenant_id, ref)
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
        if "config" in fields:
            binding.config = check_config(binding.kind, fields["config"] or {})
        if "routing" in fields:
            binding.routing = self._routing(tenant_id, fields["routing"])
        binding.updated_at = self.clock.iso()
        try:
            with self.db.write() as conn:
                self.bindings.update(conn, binding)
        except IntegrityError:
            raise Conflict(f"a channel named {binding.name!r} already exists", param="name") from None
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
            out.append({"id": b.id, "kind": b.kind, "name": b.name, "enabled": b.enabled,
                        "healthy": b.enabled and secret_set and b.last_error is None,
                        "secret_set": secret_set, "last_inbound_at": b.last_inbound_at,
                        "last_error": b.last_error, "inbound_count": b.inbound_count,
                        "rejected_count": b.rejected_count, "outbox_pending": pending.get(b.id, 0)})
        return out

    # routing -------------------------------------------------------------------------------------
    def _agent_exists(self, tenant_id: str):
        return lambda agent_id: self.ctx.agents.store.get(tenant_id, agent_id) is not None

    def _find_session(self, conn: Any, tenant_id: str, agent_id: str, channel: str, peer: str) -> str | None:
        if channel in CHAT_FAMILY_CHANNELS:
            found = self.ctx.sessions.store.find_canonical(conn, tenant_id, agent_id, channel, peer)
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
        """A binding by id, or by kind when exactly one binding of that kind exists (any tenant)."""
        if ref.startswith("chn_"):
            binding = self.bindings.get_any_tenant(ref)
            if binding is not None:
                return binding
        elif ref in KINDS:
            found = self.bindings.by_kind_any_tenant(ref)
            if len(found) == 1:
                return found[0]
        raise NotFound(f"no channel {ref!r} (use the binding id when several bindings share a kind)")

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
            kind.verify(raw, headers, url, self.secret_values(binding.id, kind.SECRET_NAMES[0]), binding.config,
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
        self.accept(binding, inbound)
        return kind.ack(inbound)

    def accept(self, binding: Binding, inbound: Inbound) -> ChannelJob | None:
        """Record the event id, open the session and queue the run; None for a replay."""
        tenant_id = binding.tenant_id
        chosen = routing.route(binding, inbound.text, self._agent_exists(tenant_id))
        now_ts, now = self.clock.time(), self.clock.iso()
        channel = routing.session_channel(binding.kind)
        peer = routing.session_peer(binding.kind, inbound)
        with self.db.write() as conn:
            if not self.bindings.remember_event(conn, binding.id, inbound.event_id, now_ts):
                log.info("channel %s: event %s already handled; not run again", binding.id, inbound.event_id)
                return None
            if chosen is None:
                self.bindings.set_error(conn, binding.id, "no agent to answer: the binding's agents were deleted")
                return None
            session_id = self._find_session(conn, tenant_id, chosen.agent_id, channel, peer)
            if session_id is None:
                title = f"{KIND_LABELS.get(binding.kind, binding.kind)} · {inbound.display_name or peer}"[:200]
                session, _ = self.ctx.sessions.open(tenant_id, chosen.agent_id, channel, peer, title)
                session_id = session.id
            job_id = self.ids.new("dlv")
            job = ChannelJob(id=job_id, tenant_id=tenant_id, binding_id=binding.id,
                             agent_id=chosen.agent_id, session_id=session_id, channel=channel,
                             inbound=self.seal_inbound(job_id, inbound), status="queued", next_attempt_ts=now_ts,
                             created_at=now, updated_at=now)
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

    # reply context: what ``send`` needs besides the chat id; may hold a credential (Discord's
    # interaction token), so it is stored encrypted like the binding's secrets
    def seal_inbound(self, job_id: str, inbound: Inbound) -> dict[str, Any]:
        stored = dataclasses.asdict(inbound)
        context = json.dumps(stored.pop("reply_context") or {})
        stored["reply_context_sealed"] = self.box.encrypt(context, f"channel-job:{job_id}:reply_context")
        return stored

    def open_inbound(self, job_id: str, stored: dict[str, Any]) -> Inbound:
        fields = dict(stored)
        sealed = fields.pop("reply_context_sealed", None)
        context = json.loads(self.box.decrypt(sealed, f"channel-job:{job_id}:reply_context")) if sealed else {}
        return Inbound(**fields, reply_context=context)

    def publish(self, tenant_id: str, agent_id: str, event: str, data: dict[str, Any]) -> None:
        """On ``agent:<id>``; the hub mirrors it to ``activity``."""
        hub = self.ctx.hub
        if hub is not None:
            hub.publish(tenant_id, f"agent:{agent_id}", event, data)

    def prune_events(self) -> int:
        return self.bindings.prune_events(self.clock.time() - EVENT_RETENTION_S)


def start_channel_worker(ctx) -> None:
    """Runtime startup hook: start the worker that runs agents and delivers replies."""
    from qorven_local.channels.outbox import ChannelWorker

    service = getattr(ctx, "channels", None)
    if service is None:
        return
    service.worker = ChannelWorker(service)
    service.worker.start()


def stop_channel_worker(ctx) -> None:
    """Runtime shutdown hook: stop claiming work and wait for jobs in progress."""
    service = getattr(ctx, "channels", None)
    if service is not None and service.worker is not None:
        service.worker.stop()
        service.worker = None
