"""Slack Events API: v0 request signatures, replies through chat.postMessage.

Verify: ``X-Slack-Signature: v0=<hex HMAC-SHA256(signing_secret, "v0:{ts}:{body}")>`` with
``X-Slack-Request-Timestamp`` within 300 s. Send: ``POST {base}/chat.postMessage`` with the bot token.
Slack retries (``X-Slack-Retry-Num``) carry the same event_id, so de-duplication absorbs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from qorven_local.channels.base import (
    api_base, bearer, hmac_sha256_hex, load_json_object, ok_ack, post_json_pieces, require_send_secret,
    verify_timestamped_hmac,
)
from qorven_local.channels.types import HandshakeReply, Inbound
from qorven_local.errors import ChannelSendError, ValidationError

if TYPE_CHECKING:
    import httpx

KIND = "slack"
DEFAULT_API_BASE_URL = "https://slack.com/api"
SECRET_NAMES: tuple[str, ...] = ("signing_secret", "bot_token")
SEND_SECRET: str | None = "bot_token"
CONFIG_KEYS = {
    "api_base_url": f"Web API base URL (default {DEFAULT_API_BASE_URL}); tests point it at a fake",
}
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNED_HEADERS: tuple[str, ...] = (TIMESTAMP_HEADER,)  # v0:{ts}:{body}
MAX_TEXT = 3900  # Slack truncates text past 40k, but advises messages under 4k characters

# Message subtypes that are a person writing; everything else (edits, joins, bot_message) is not.
_HUMAN_SUBTYPES = {None, "file_share", "thread_broadcast"}


def sign(secret: str, timestamp: str, raw_body: bytes) -> str:
    """The X-Slack-Signature value for a body sent at ``timestamp``."""
    return "v0=" + hmac_sha256_hex(secret, b"v0:" + timestamp.encode() + b":" + raw_body)


def verify(raw_body: bytes, headers: Mapping[str, str], url: str, secrets: list[str],
           config: dict, now: float) -> None:
    """Accept a fresh request whose v0 signature matches one of the signing secrets."""
    verify_timestamped_hmac(KIND, raw_body, headers, secrets, now, signature_header="X-Slack-Signature",
                            timestamp_header=TIMESTAMP_HEADER, sign=sign)


def handshake(method: str, query: dict, raw_body: bytes, headers: Mapping[str, str],
              config: dict) -> HandshakeReply | None:
    """Answer ``url_verification`` with its challenge. Call only after verify passed."""
    if method.upper() != "POST":
        return None
    payload = load_json_object(raw_body, KIND)
    if payload.get("type") != "url_verification":
        return None
    challenge = payload.get("challenge")
    if not isinstance(challenge, str):
        raise ValidationError(f"{KIND} webhook: url_verification without a challenge", param="challenge")
    return HandshakeReply.json({"challenge": challenge})


def parse(raw_body: bytes, headers: Mapping[str, str], content_type: str) -> Inbound | None:
    """Turn an event_callback carrying a person's message or mention into an Inbound."""
    payload = load_json_object(raw_body, KIND)
    if payload.get("type") != "event_callback":
        return None
    event = payload.get("event")
    event_id = payload.get("event_id")
    if not isinstance(event, dict) or not isinstance(event_id, str):
        raise ValidationError(f"{KIND} webhook: event_callback without event/event_id", param="event")
    event_type = event.get("type")
    if event_type not in ("message", "app_mention"):
        return None
    if event.get("bot_id") or event.get("subtype") not in _HUMAN_SUBTYPES:
        return None  # our own replies and other bots' messages come back as events too
    user, channel, text = event.get("user"), event.get("channel"), event.get("text")
    if not user or not channel or not isinstance(text, str) or not text.strip():
        return None
    bot_users = _bot_user_ids(payload)
    if user in bot_users:
        return None
    if event_type == "message" and event.get("channel_type") != "im" and any(
            f"<@{bot}>" in text for bot in bot_users):
        return None  # Slack also sends this as an app_mention (another event_id): run once
    context: dict[str, Any] = {"team_id": payload.get("team_id")}
    thread_ts = event.get("thread_ts")
    if thread_ts:
        context["thread_ts"] = thread_ts  # keep the conversation in its thread
    return Inbound(
        sender=str(user),
        text=text,
        event_id=event_id,
        chat_id=str(channel),
        display_name=None,  # events carry user ids only; names need users.info
        raw_kind=event_type,
        is_direct=event.get("channel_type") == "im",
        reply_context=context,
    )


def _bot_user_ids(payload: dict) -> set[str]:
    """The app's own bot user ids, from the event's ``authorizations`` ."""
    ids = {a.get("user_id") for a in payload.get("authorizations") or []
           if isinstance(a, dict) and a.get("is_bot")}
    return {i for i in ids if i}


ack = ok_ack


def send(http: httpx.Client, config: dict, send_secret: str | None, inbound: Inbound,
         text: str) -> None:
    """Post the reply in the message's channel (and thread, if it came from one)."""
    token = require_send_secret(send_secret, KIND, "bot_token")
    url = f"{api_base(config, DEFAULT_API_BASE_URL)}/chat.postMessage"

    def body(piece: str) -> dict[str, Any]:
        message: dict[str, Any] = {"channel": inbound.chat_id, "text": piece}
        if inbound.reply_context.get("thread_ts"):
            message["thread_ts"] = inbound.reply_context["thread_ts"]  # keep the reply in its thread
        return message

    post_json_pieces(http, url, text, MAX_TEXT, kind=KIND, secret=token, headers=bearer(token), body=body,
                     check=_check_ok)


def _check_ok(response: httpx.Response) -> None:
    """Slack answers most failures with HTTP 200 and ``{"ok": false, "error": "..."}``."""
    try:
        result = response.json()
    except ValueError:
        raise ChannelSendError(f"{KIND} API answered {response.status_code} without JSON",
                               status_code=response.status_code) from None
    if not isinstance(result, dict) or not result.get("ok"):
        error = result.get("error") if isinstance(result, dict) else None
        raise ChannelSendError(f"{KIND} API refused the message: {error or 'unknown error'}",
                               status_code=response.status_code)
