"""/v1/webhooks/{channel}: inbound deliveries, verified by each channel's own signature scheme."""

from __future__ import annotations

import falcon

from qorven_local.channels.service import ChannelService
from qorven_local.channels.types import HandshakeReply
from qorven_local.errors import PayloadTooLarge
from qorven_local.web.spec import operation

WEBHOOK_ERRORS = ("unauthorized", "validation_error", "not_found", "payload_too_large", "method_not_allowed")


def _raw_body(req: falcon.Request) -> bytes:
    limit = getattr(req.context, "body_limit", 5 * 1024 * 1024)
    raw = req.bounded_stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    return raw


def _signed_url(req: falcon.Request) -> str:
    """The path and query as the sender called them (before the /api alias was mapped), for Twilio."""
    path = req.env.get("PATH_INFO") or req.path
    query = req.env.get("QUERY_STRING") or ""
    return path + (f"?{query}" if query else "")


def _answer(resp: falcon.Response, reply: HandshakeReply) -> None:
    resp.status = reply.status
    resp.content_type = reply.content_type
    resp.data = reply.body


class WebhookResource:
    """Hands each webhook request's raw bytes to the channel pipeline and answers its reply verbatim."""

    def __init__(self, channels: ChannelService) -> None:
        self.channels = channels

    @operation(summary="Receive a channel's webhook (verified by the channel's signature, not a token)",
               tag="webhooks", public=True, errors=WEBHOOK_ERRORS, response={"type": "object"},
               content_types=("application/json", "application/x-www-form-urlencoded"),
               description="`{channel}` is a binding id, or its kind when exactly one binding of that kind "
                           "exists. The signature is checked on the raw body before anything else (401 "
                           "`unauthorized` otherwise, counted in status). A delivery whose event id or "
                           "signed bytes (body, and timestamp where signed) were already accepted in the "
                           "last 7 days answers 200 again and runs nothing. Accepted messages answer "
                           "200 at once with the channel's acknowledgement (Discord: a deferred response, "
                           "Twilio: empty TwiML); the agent answers in the background, as a plan-run, in "
                           "the sender's session (channel telegram, whatsapp, sms, slack_dm or discord_dm: the "
                           "canonical session per sender; github: one session per issue, webhook: one per "
                           "sender), and the reply is delivered from an outbox with retries "
                           "(GET /v1/channels/{id}/deliveries).")
    def on_post(self, req: falcon.Request, resp: falcon.Response, channel: str) -> None:
        raw = _raw_body(req)
        reply = self.channels.receive(channel, "POST", raw, req.context.headers, _signed_url(req),
                                          dict(req.params), req.content_type or "")
        _answer(resp, reply)

    @operation(summary="Answer a provider's subscription check (Meta's hub.challenge)", tag="webhooks",
               public=True, errors=WEBHOOK_ERRORS, response={"type": "string"},
               description="Only WhatsApp (Meta) verifies a webhook with a GET; it must carry the binding's "
                           "config.verify_token. Other kinds answer 405.")
    def on_get(self, req: falcon.Request, resp: falcon.Response, channel: str) -> None:
        reply = self.channels.receive(channel, "GET", b"", req.context.headers, _signed_url(req),
                                          dict(req.params), req.content_type or "")
        _answer(resp, reply)
