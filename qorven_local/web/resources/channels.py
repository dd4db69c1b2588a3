"""/v1/channels: bindings CRUD, write-only secrets, status, deliveries and the routing dry run."""

from __future__ import annotations

from typing import Any

import falcon

from qorven_local.channels.binding import binding_to_dict, delivery_to_dict
from qorven_local.channels.kinds import KINDS
from qorven_local.channels.service import ChannelService
from qorven_local.channels.types import Binding
from qorven_local.web import schemas
from qorven_local.web.io import page_args, page_body, paged_list, principal, query_choice, read_body
from qorven_local.web.resources.webhooks import WebhookResource
from qorven_local.web.spec import PAGED, Param, Route, operation

KIND_NAMES = list(KINDS)
AGENT_REF = {"type": "string", "minLength": 1, "maxLength": 100, "description": "agent id or unique name"}
ROUTING = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "keywords": {"type": "object", "maxProperties": 100,
                     "additionalProperties": AGENT_REF, "propertyNames": {"minLength": 1, "maxLength": 100},
                     "description": "word or phrase -> agent; matched whole-word, case-insensitive, in order"},
        "default_agent_id": {"anyOf": [AGENT_REF, {"type": "null"}],
                             "description": "answers when no keyword matches (else the binding's agent)"},
    },
}
CONFIG = {"type": "object", "additionalProperties": {"type": ["string", "null"], "maxLength": 2000},
          "description": "non-secret settings; allowed keys depend on the kind (e.g. api_base_url, "
                         "public_base_url for twilio_sms, verify_token for whatsapp, reply_url for webhook)"}

CHANNEL = {
    "type": "object",
    "required": ["id", "object", "kind", "name", "agent_id", "enabled", "config", "secret_set", "routing",
                 "webhook_url", "created_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "channel"}, "kind": {"enum": KIND_NAMES},
        "name": {"type": "string"}, "agent_id": {"type": "string"}, "enabled": {"type": "boolean"},
        "config": {"type": "object"},
        "secret_set": {"type": "boolean", "description": "the verifying secret has a value"},
        "secrets": {"type": "object", "additionalProperties": {"type": "boolean"},
                    "description": "which of the kind's secret names have a value (never the values)"},
        "routing": {"type": "object", "required": ["keywords", "default_agent_id"],
                    "properties": {"keywords": {"type": "object", "additionalProperties": {"type": "string"}},
                                   "default_agent_id": schemas.NULLABLE_STR}},
        "webhook_url": {"type": "string", "description": "where the provider must send its webhooks"},
        "created_at": schemas.TIMESTAMP, "updated_at": schemas.TIMESTAMP,
    },
}

_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "agent_id": AGENT_REF,
    "enabled": {"type": "boolean"},
    "config": CONFIG,
    "routing": ROUTING,
}
CHANNEL_CREATE = {"type": "object", "additionalProperties": False, "required": ["kind", "agent_id"],
                  "properties": {"kind": {"enum": KIND_NAMES}, **_FIELDS}}
CHANNEL_PATCH = {"type": "object", "additionalProperties": False, "minProperties": 1,
                 "properties": {"kind": {"enum": KIND_NAMES}, **_FIELDS}}
SECRET_PUT = {
    "type": "object", "additionalProperties": False, "required": ["secret"],
    "properties": {
        "secret": {"type": ["string", "null"], "maxLength": 4096,
                   "description": "the value (write-only; null removes it)"},
        "name": {"type": "string", "description": "which secret: the kind's verifying secret by default "
                                                  "(telegram: secret_token|bot_token, slack: signing_secret|"
                                                  "bot_token, discord: public_key|bot_token, whatsapp: "
                                                  "app_secret|access_token, twilio_sms: auth_token, github: "
                                                  "webhook_secret|token, webhook: signing_secret)"},
        "keep_previous": {"type": "boolean", "default": True,
                          "description": "verifying secret only: keep accepting the previous value "
                                         "until the next change (rotation); false drops it now"},
    },
}
STATUS_ITEM = {
    "type": "object",
    "required": ["id", "kind", "enabled", "healthy", "last_inbound_at", "last_error", "inbound_count",
                 "rejected_count", "outbox_pending"],
    "properties": {
        "id": {"type": "string"}, "kind": {"enum": KIND_NAMES}, "name": {"type": "string"},
        "enabled": {"type": "boolean"}, "secret_set": {"type": "boolean"},
        "healthy": {"type": "boolean", "description": "the binding can answer: no problems, and no error since "
                                                      "the last successful delivery"},
        "problems": {"type": "array", "items": {"type": "string"},
                     "description": "what keeps it from answering, as sentences: turned off, the verifying "
                                    "secret or the reply credential (e.g. Slack's bot token) missing, a "
                                    "required setting unset"},
        "last_inbound_at": schemas.NULLABLE_TIMESTAMP, "last_error": schemas.NULLABLE_STR,
        "inbound_count": {"type": "integer", "description": "accepted (verified, new) messages"},
        "rejected_count": {"type": "integer", "description": "requests refused with 401"},
        "outbox_pending": {"type": "integer", "description": "accepted messages whose reply is not yet "
                                                             "delivered (run queued/in progress or retrying)"},
    },
}
TEST_ROUTING = {
    "type": "object", "additionalProperties": False, "required": ["text", "sender"],
    "properties": {
        "binding_id": {"type": "string"}, "kind": {"enum": KIND_NAMES},
        "text": {"type": "string", "maxLength": 100_000},
        "sender": {"type": ["string", "integer"], "description": "provider id of the sender (GitHub: "
                                                                 "owner/repo#number, the session's peer)"},
    },
}
TEST_ROUTING_RESULT = {
    "type": "object", "required": ["agent_id", "session_id", "would_create_session", "matched_rule"],
    "properties": {
        "binding_id": {"type": "string"}, "agent_id": {"type": "string"},
        "session_id": {"type": ["string", "null"], "description": "the existing session, or null"},
        "would_create_session": {"type": "boolean"},
        "matched_rule": {"type": "string", "description": "keyword:<word> | default_agent | binding_agent"},
        "channel": {"type": "string"}, "peer": {"type": "string"},
    },
}
DELIVERY = {
    "type": "object",
    "required": ["id", "object", "binding_id", "agent_id", "session_id", "status", "attempts", "created_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "channel.delivery"}, "binding_id": {"type": "string"},
        "agent_id": {"type": "string"}, "session_id": {"type": "string"}, "channel": {"type": "string"},
        "event_id": schemas.NULLABLE_STR, "sender": schemas.NULLABLE_STR,
        "status": {"enum": ["queued", "running", "pending", "sending", "sent", "failed"]},
        "attempts": {"type": "integer"}, "message_id": schemas.NULLABLE_STR, "last_error": schemas.NULLABLE_STR,
        "created_at": schemas.TIMESTAMP, "updated_at": schemas.TIMESTAMP,
        "delivered_at": schemas.NULLABLE_TIMESTAMP,
    },
}


class BindingView:
    """The API's Binding object, with the webhook URL providers must call.

    That URL uses, in order: the binding's own ``public_base_url`` (Twilio signs it), the install's
    ``QORVEN_PUBLIC_BASE_URL`` (a tunnel or reverse proxy in front of this server), else this server
    as the request reached it (loopback: fine for local tests, unreachable for a provider).
    """

    def __init__(self, public_base_url: str | None) -> None:
        self.public_base_url = public_base_url

    def webhook_url(self, req: falcon.Request, binding: Binding) -> str:
        base = binding.config.get("public_base_url") or self.public_base_url or req.prefix
        return f"{base.rstrip('/')}/v1/webhooks/{binding.id}"

    def __call__(self, req: falcon.Request, binding: Binding) -> dict[str, Any]:
        return binding_to_dict(binding, self.webhook_url(req, binding), KINDS[binding.kind].SECRET_NAMES)


class ChannelsResource:
    """/v1/channels: list and create bindings."""

    def __init__(self, channels: ChannelService, render: BindingView) -> None:
        self.channels = channels
        self.render = render

    @operation(summary="List channel bindings (newest first)", tag="channels", response=schemas.list_of(CHANNEL),
               query=PAGED + (Param("kind", {"enum": KIND_NAMES}, "only this kind"),))
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page = self.channels.list_page(principal(req).tenant_id, kind=query_choice(req, "kind", tuple(KINDS)),
                                       **page_args(req))
        resp.media = page_body(page, lambda b: self.render(req, b))

    @operation(summary="Bind a channel to an agent (then set its secret)", tag="channels", request=CHANNEL_CREATE,
               response=CHANNEL, status=201, admin=True, errors=("conflict",))
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        binding = self.channels.create(principal(req).tenant_id, read_body(req, CHANNEL_CREATE))
        resp.status = 201
        resp.media = self.render(req, binding)


class ChannelResource:
    """/v1/channels/{id}: read, edit and delete one binding."""

    def __init__(self, channels: ChannelService, render: BindingView) -> None:
        self.channels = channels
        self.render = render

    @operation(summary="Get a channel binding", tag="channels", response=CHANNEL)
    def on_get(self, req: falcon.Request, resp: falcon.Response, binding_id: str) -> None:
        resp.media = self.render(req, self.channels.get(principal(req).tenant_id, binding_id))

    @operation(summary="Edit a channel binding (kind is fixed)", tag="channels", request=CHANNEL_PATCH,
               response=CHANNEL, admin=True, errors=("conflict",),
               description="`config` replaces the whole config. Moving where the binding sends "
                           "(`api_base_url`, or the generic webhook's `reply_url`) to another scheme, host "
                           "or port clears all of its secrets: they never follow a URL elsewhere.")
    def on_patch(self, req: falcon.Request, resp: falcon.Response, binding_id: str) -> None:
        binding = self.channels.update(principal(req).tenant_id, binding_id, read_body(req, CHANNEL_PATCH))
        resp.media = self.render(req, binding)

    @operation(summary="Delete a channel binding, its secrets and its deliveries (sessions are kept)",
               tag="channels", response=CHANNEL, admin=True)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, binding_id: str) -> None:
        resp.media = self.render(req, self.channels.delete(principal(req).tenant_id, binding_id))


class ChannelSecretResource:
    """/v1/channels/{id}/secret: set or remove a write-only secret."""

    def __init__(self, channels: ChannelService, render: BindingView) -> None:
        self.channels = channels
        self.render = render

    @operation(summary="Set a channel secret (write-only; stored encrypted, never returned)", tag="channels",
               request=SECRET_PUT, response=CHANNEL, admin=True,
               description="Setting the verifying secret keeps the previous value accepted until the next "
                           "change, so the provider can be switched over without losing deliveries.")
    def on_put(self, req: falcon.Request, resp: falcon.Response, binding_id: str) -> None:
        binding = self.channels.set_secret(principal(req).tenant_id, binding_id, read_body(req, SECRET_PUT))
        resp.media = self.render(req, binding)


class ChannelStatusResource:
    """/v1/channels/status: every binding's health and counters."""

    def __init__(self, channels: ChannelService) -> None:
        self.channels = channels

    @operation(summary="Health and counters of every channel binding", tag="channels",
               response=schemas.list_of(STATUS_ITEM), query=PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = paged_list(req, self.channels.status(principal(req).tenant_id))


class ChannelDeliveriesResource:
    """/v1/channels/{id}/deliveries: accepted messages and their replies' delivery."""

    def __init__(self, channels: ChannelService) -> None:
        self.channels = channels

    @operation(summary="A binding's accepted messages and their replies' delivery status (newest first)",
               tag="channels", response=schemas.list_of(DELIVERY), query=PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response, binding_id: str) -> None:
        page = self.channels.deliveries(principal(req).tenant_id, binding_id, **page_args(req))
        resp.media = page_body(page, delivery_to_dict)


class ChannelTestRoutingResource:
    """/v1/channels/test-routing: where a message would go, nothing stored."""

    def __init__(self, channels: ChannelService) -> None:
        self.channels = channels

    @operation(summary="Dry run: which agent and session a message would reach (nothing is stored)",
               tag="channels", request=TEST_ROUTING, response=TEST_ROUTING_RESULT)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.channels.test_routing(principal(req).tenant_id, read_body(req, TEST_ROUTING))


def channel_routes(channels: ChannelService, public_base_url: str | None = None) -> list[Route]:
    """The channel and webhook routes, for ``web.app``."""
    render = BindingView(public_base_url)
    return [
        Route("/v1/channels", ChannelsResource(channels, render)),
        Route("/v1/channels/status", ChannelStatusResource(channels)),
        Route("/v1/channels/test-routing", ChannelTestRoutingResource(channels)),
        Route("/v1/channels/{binding_id}", ChannelResource(channels, render)),
        Route("/v1/channels/{binding_id}/secret", ChannelSecretResource(channels, render)),
        Route("/v1/channels/{binding_id}/deliveries", ChannelDeliveriesResource(channels)),
        Route("/v1/webhooks/{channel}", WebhookResource(channels)),
    ]
