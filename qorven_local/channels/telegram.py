"""Telegram Bot API: webhooks with a secret token, replies through sendMessage.

Verify: ``X-Telegram-Bot-Api-Secret-Token`` equals the ``secret_token`` given to setWebhook.
Send: ``POST {base}/bot{bot_token}/sendMessage {chat_id, text}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from qorven_local.channels.base import (
    api_base, load_json_object, matches_any, no_handshake, ok_ack, post_json_pieces, require_header,
    require_secrets, require_send_secret,
)
from qorven_local.channels.types import Inbound
from qorven_local.errors import Unauthorized, ValidationError

if TYPE_CHECKING:
    import httpx

KIND = "telegram"
DEFAULT_API_BASE_URL = "https://api.telegram.org"
SECRET_NAMES: tuple[str, ...] = ("secret_token", "bot_token")
SEND_SECRET: str | None = "bot_token"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
SIGNED_HEADERS: tuple[str, ...] = ()  # a shared token, no signature: the body's update_id de-duplicates
MAX_TEXT = 4096
CONFIG_KEYS = {
    "api_base_url": f"Bot API base URL (default {DEFAULT_API_BASE_URL}); tests point it at a fake",
}


def verify(raw_body: bytes, headers: Mapping[str, str], url: str, secrets: list[str],
           config: dict, now: float) -> None:
    """Accept the request if its secret-token header equals one of the binding's secret tokens."""
    usable = require_secrets(secrets, KIND)
    if not matches_any(require_header(headers, HEADER, KIND), usable):
        raise Unauthorized(f"{KIND} webhook: {HEADER} does not match")


handshake = no_handshake  # setWebhook is called by us, not answered


def parse(raw_body: bytes, headers: Mapping[str, str], content_type: str) -> Inbound | None:
    """Turn an Update into an Inbound; None for edits, bots, channel posts and non-text messages."""
    update = load_json_object(raw_body, KIND)
    update_id = update.get("update_id")
    if not isinstance(update_id, int):
        raise ValidationError(f"{KIND} webhook: update_id is missing", param="update_id")
    message = update.get("message")
    if not isinstance(message, dict):
        return None  # edited_message, callback_query, my_chat_member, ...: nothing to answer
    sender = message.get("from") or {}
    chat = message.get("chat") or {}
    if not isinstance(sender, dict) or not isinstance(chat, dict) or "id" not in chat:
        raise ValidationError(f"{KIND} webhook: message has no chat", param="message.chat")
    if sender.get("is_bot") or "id" not in sender:
        return None  # other bots, or anonymous group admins / channel signatures
    text = message.get("text") or message.get("caption")
    if not isinstance(text, str) or not text.strip():
        return None  # stickers, photos without caption, service messages
    name = " ".join(p for p in (sender.get("first_name"), sender.get("last_name")) if p)
    return Inbound(
        sender=str(sender["id"]),
        text=text,
        event_id=str(update_id),
        chat_id=str(chat["id"]),
        display_name=name or sender.get("username"),
        raw_kind="message",
        is_direct=chat.get("type") == "private",
        reply_context={"message_id": message.get("message_id")},
    )


ack = ok_ack


def send(http: httpx.Client, config: dict, send_secret: str | None, inbound: Inbound,
         text: str) -> None:
    """Send the reply to the chat the message came from, in pieces of at most 4096 characters."""
    token = require_send_secret(send_secret, KIND, "bot_token")
    url = f"{api_base(config, DEFAULT_API_BASE_URL)}/bot{token}/sendMessage"
    post_json_pieces(http, url, text, MAX_TEXT, kind=KIND, secret=token,
                     body=lambda piece: {"chat_id": inbound.chat_id, "text": piece})
