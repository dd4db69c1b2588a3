"""WhatsApp Business (Meta Cloud API): X-Hub-Signature-256, the hub.challenge handshake, Graph sends.

Verify: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, body)>``.
Handshake: ``GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`` echoes the challenge
when ``hub.verify_token`` equals ``config["verify_token"]``.
Send: ``POST {base}/{phone_number_id}/messages`` with ``Authorization: Bearer {access_token}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from qorven_local.channels.base import (
    HUB_SIGNATURE_HEADER, api_base, bearer, hub_signature, load_json_object, matches_any, ok_ack,
    post_json_pieces, require_config, require_send_secret, verify_hub_signature,
)
from qorven_local.channels.types import HandshakeReply, Inbound
from qorven_local.errors import Unauthorized, ValidationError

if TYPE_CHECKING:
    import httpx

KIND = "whatsapp"
DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"
SECRET_NAMES: tuple[str, ...] = ("app_secret", "access_token")
SEND_SECRET: str | None = "access_token"
CONFIG_KEYS = {
    "api_base_url": f"Graph API base URL (default {DEFAULT_API_BASE_URL}); tests point it at a fake",
    "verify_token": "required: the Verify Token entered in Meta's webhook setup (hub.verify_token)",
    "phone_number_id": "the business number to send from when the inbound does not name it",
}
HEADER = HUB_SIGNATURE_HEADER
SIGNED_HEADERS: tuple[str, ...] = ()  # the HMAC covers the body alone
MAX_TEXT = 4096


sign = hub_signature  # the X-Hub-Signature-256 value Meta would send for a body


def verify(raw_body: bytes, headers: Mapping[str, str], url: str, secrets: list[str],
           config: dict, now: float) -> None:
    """Accept the request if its body HMAC matches one of the app secrets (no timestamp: Meta sends none)."""
    verify_hub_signature(KIND, raw_body, headers, secrets)


def handshake(method: str, query: dict, raw_body: bytes, headers: Mapping[str, str],
              config: dict) -> HandshakeReply | None:
    """Answer Meta's GET subscription check; it is unsigned, so it checks verify_token itself."""
    if method.upper() != "GET" or _first(query.get("hub.mode")) != "subscribe":
        return None
    expected = str(config.get("verify_token") or "")
    given = _first(query.get("hub.verify_token")) or ""
    if not expected or not matches_any(given, [expected]):
        raise Unauthorized(f"{KIND} webhook: hub.verify_token does not match config.verify_token")
    return HandshakeReply.text(_first(query.get("hub.challenge")) or "")


def _first(value: Any) -> str | None:
    """Query values may arrive as a list (repeated keys) or a string."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value is None else str(value)


def parse(raw_body: bytes, headers: Mapping[str, str], content_type: str) -> Inbound | None:
    """Turn the first text message of a notification into an Inbound; None for statuses etc.

    Meta may batch several messages in one delivery; in practice it sends one per request.
    """
    payload = load_json_object(raw_body, KIND)
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise ValidationError(f"{KIND} webhook: notification without entry", param="entry")
    for entry in entries:
        for change in (entry.get("changes") or [] if isinstance(entry, dict) else []):
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            inbound = _first_text_message(value)
            if inbound:
                return inbound
    return None


def _first_text_message(value: dict) -> Inbound | None:
    names = {c.get("wa_id"): (c.get("profile") or {}).get("name")
             for c in value.get("contacts") or [] if isinstance(c, dict)}
    phone_number_id = (value.get("metadata") or {}).get("phone_number_id")
    for message in value.get("messages") or []:
        if not isinstance(message, dict) or message.get("type") != "text":
            continue  # media, reactions, interactive replies: not handled yet
        body = (message.get("text") or {}).get("body")
        sender, message_id = message.get("from"), message.get("id")
        if not sender or not message_id or not isinstance(body, str):
            raise ValidationError(f"{KIND} webhook: text message without from/id/body", param="messages")
        return Inbound(
            sender=str(sender),
            text=body,
            event_id=str(message_id),
            chat_id=str(sender),
            display_name=names.get(sender),
            raw_kind="message",
            is_direct=True,
            reply_context={"phone_number_id": phone_number_id, "message_id": message_id},
        )
    return None


ack = ok_ack


def send(http: httpx.Client, config: dict, send_secret: str | None, inbound: Inbound,
         text: str) -> None:
    """Send a text message to the sender from the business number that received theirs."""
    token = require_send_secret(send_secret, KIND, "access_token")
    phone_number_id = inbound.reply_context.get("phone_number_id") or require_config(
        config, "phone_number_id", KIND)
    url = f"{api_base(config, DEFAULT_API_BASE_URL)}/{phone_number_id}/messages"
    post_json_pieces(http, url, text, MAX_TEXT, kind=KIND, secret=token, headers=bearer(token),
                     body=lambda piece: {"messaging_product": "whatsapp", "recipient_type": "individual",
                                         "to": inbound.chat_id, "type": "text", "text": {"body": piece}})
