"""Generic signed webhook: any system that can compute an HMAC can talk to an agent.

Verify: ``X-Qorven-Signature: sha256=<hex HMAC-SHA256(signing_secret, ts + "." + body)>`` with
``X-Qorven-Timestamp`` (unix seconds) within 300 s.
Body: ``{"text": "...", "sender": "...", "id"?: "...", "chat_id"?: "...", "display_name"?: "..."}``
(``message`` is accepted for ``text``); the event id is ``X-Qorven-Event-Id`` or the body's ``id``.
Send: if ``config["reply_url"]`` is set, POST the reply there as JSON, signed the same way with the
same secret; otherwise the reply is only stored.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Mapping

from qorven_local.channels.base import (
    header, hmac_sha256_hex, load_json_object, no_handshake, ok_ack, post, require_send_secret,
    verify_timestamped_hmac,
)
from qorven_local.channels.types import Inbound
from qorven_local.errors import ValidationError

if TYPE_CHECKING:
    import httpx

KIND = "webhook"
DEFAULT_API_BASE_URL = ""  # no provider API: replies go to config["reply_url"]
SECRET_NAMES: tuple[str, ...] = ("signing_secret",)  # the one secret verifies inbound and signs outbound
SEND_SECRET: str | None = "signing_secret"
TIMESTAMP_HEADER = "X-Qorven-Timestamp"
SIGNATURE_HEADER = "X-Qorven-Signature"
EVENT_ID_HEADER = "X-Qorven-Event-Id"  # not signed: de-duplication also keys on the signed bytes
SIGNED_HEADERS: tuple[str, ...] = (TIMESTAMP_HEADER,)  # ts + "." + body
CONFIG_KEYS = {
    "reply_url": "where replies are POSTed, signed like inbound requests (unset: replies are only stored)",
}


def sign(secret: str, timestamp: str, raw_body: bytes) -> str:
    """The X-Qorven-Signature value for a body sent at ``timestamp``."""
    return "sha256=" + hmac_sha256_hex(secret, timestamp.encode() + b"." + raw_body)


def signed_headers(secret: str, raw_body: bytes, now: float, event_id: str | None = None) -> dict[str, str]:
    """Headers that make ``raw_body`` a valid signed request at ``now`` (outbound replies, tests)."""
    timestamp = str(int(now))
    headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, raw_body),
               "Content-Type": "application/json"}
    if event_id:
        headers[EVENT_ID_HEADER] = event_id
    return headers


def verify(raw_body: bytes, headers: Mapping[str, str], url: str, secrets: list[str],
           config: dict, now: float) -> None:
    """Accept a fresh request whose signature matches one of the signing secrets."""
    verify_timestamped_hmac(KIND, raw_body, headers, secrets, now, signature_header=SIGNATURE_HEADER,
                            timestamp_header=TIMESTAMP_HEADER, sign=sign)


handshake = no_handshake


def parse(raw_body: bytes, headers: Mapping[str, str], content_type: str) -> Inbound | None:
    """Turn ``{"text", "sender", ...}`` into an Inbound; an event id is required for de-duplication."""
    payload = load_json_object(raw_body, KIND)
    text = payload.get("text", payload.get("message"))
    sender = payload.get("sender")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"{KIND} webhook: text must be a non-empty string", param="text")
    if not isinstance(sender, (str, int)) or sender == "":
        raise ValidationError(f"{KIND} webhook: sender is required", param="sender")
    event_id = header(headers, EVENT_ID_HEADER) or payload.get("id")
    if not isinstance(event_id, (str, int)) or event_id == "":
        raise ValidationError(f"{KIND} webhook: send {EVENT_ID_HEADER} or a body id", param="id")
    chat_id = payload.get("chat_id") or sender
    return Inbound(
        sender=str(sender),
        text=text,
        event_id=str(event_id),
        chat_id=str(chat_id),
        display_name=payload.get("display_name") if isinstance(payload.get("display_name"), str) else None,
        raw_kind="message",
        is_direct=str(chat_id) == str(sender),
        reply_context={},
    )


ack = ok_ack


def send(http: httpx.Client, config: dict, send_secret: str | None, inbound: Inbound,
         text: str) -> None:
    """POST the signed reply to config.reply_url; without one there is nowhere to deliver it."""
    reply_url = config.get("reply_url")
    if not reply_url:
        return
    secret = require_send_secret(send_secret, KIND, "signing_secret")
    body = json.dumps({"in_reply_to": inbound.event_id, "chat_id": inbound.chat_id,
                       "recipient": inbound.sender, "text": text}).encode()
    # Wall clock, not the context clock: the receiver checks it against its own real time.
    headers = signed_headers(secret, body, time.time())
    post(http, str(reply_url), kind=KIND, secret=secret, content=body, headers=headers)
