"""Discord interactions endpoint: Ed25519 signatures, replies as interaction follow-ups.

Verify: ``X-Signature-Ed25519`` (hex) is the Ed25519 signature of ``X-Signature-Timestamp + body``
under the application's public key (hex; stored as the binding's verifying "secret"), with the
timestamp within 300 s. Discord probes the endpoint with bad signatures and expects 401.
Send: ``POST {base}/webhooks/{application_id}/{interaction_token}`` (no bot token needed, valid
15 minutes after the interaction); without an interaction token, ``POST {base}/channels/{id}/messages``
with ``Authorization: Bot {bot_token}``. ``cryptography`` is imported on first use (start-up time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from qorven_local.channels.base import (
    api_base, load_json_object, post_json_pieces, require_secrets, require_send_secret,
    timestamped_signature,
)
from qorven_local.channels.types import HandshakeReply, Inbound
from qorven_local.errors import Unauthorized, ValidationError

if TYPE_CHECKING:
    import httpx
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KIND = "discord"
DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
SECRET_NAMES: tuple[str, ...] = ("public_key", "bot_token")
SEND_SECRET: str | None = "bot_token"
CONFIG_KEYS = {
    "api_base_url": f"API base URL (default {DEFAULT_API_BASE_URL}); tests point it at a fake",
    "application_id": "the application id, if interactions ever arrive without one",
}
TIMESTAMP_HEADER = "X-Signature-Timestamp"
SIGNED_HEADERS: tuple[str, ...] = (TIMESTAMP_HEADER,)  # Ed25519 over timestamp + body
MAX_TEXT = 2000

PING, APPLICATION_COMMAND = 1, 2
PONG, DEFERRED_CHANNEL_MESSAGE = 1, 5


def sign(private_key: Ed25519PrivateKey, timestamp: str, raw_body: bytes) -> str:
    """The X-Signature-Ed25519 value Discord would send (for tests and local tools)."""
    return private_key.sign(timestamp.encode() + raw_body).hex()


def verify(raw_body: bytes, headers: Mapping[str, str], url: str, secrets: list[str],
           config: dict, now: float) -> None:
    """Accept a fresh request signed by one of the configured application public keys."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = require_secrets(secrets, KIND)
    signature_hex, timestamp = timestamped_signature(headers, now, KIND, "X-Signature-Ed25519",
                                                     TIMESTAMP_HEADER)
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise Unauthorized(f"{KIND} webhook: X-Signature-Ed25519 is not hex") from None
    message = timestamp.encode() + raw_body
    for key_hex in keys:
        try:
            public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex.strip()))
        except ValueError:
            continue  # a malformed stored key must not block the other rotation slot
        try:
            public_key.verify(signature, message)
            return
        except InvalidSignature:
            continue
    raise Unauthorized(f"{KIND} webhook: X-Signature-Ed25519 does not match the body")


def handshake(method: str, query: dict, raw_body: bytes, headers: Mapping[str, str],
              config: dict) -> HandshakeReply | None:
    """Answer PING with PONG. Call only after verify passed."""
    if method.upper() != "POST":
        return None
    if load_json_object(raw_body, KIND).get("type") == PING:
        return HandshakeReply.json({"type": PONG})
    return None


def parse(raw_body: bytes, headers: Mapping[str, str], content_type: str) -> Inbound | None:
    """Turn a slash-command interaction into an Inbound (text = its option values, in order)."""
    interaction = load_json_object(raw_body, KIND)
    if interaction.get("type") != APPLICATION_COMMAND:
        return None  # PING is a handshake; components/autocomplete/modals are not ours
    interaction_id = interaction.get("id")
    data = interaction.get("data")
    if not interaction_id or not isinstance(data, dict):
        raise ValidationError(f"{KIND} webhook: interaction without id/data", param="id")
    member = interaction.get("member")
    # In a guild the user is under member.user; in a DM it is top-level user.
    user = member.get("user") if isinstance(member, dict) else None
    user = user or interaction.get("user")
    if not isinstance(user, dict) or "id" not in user:
        raise ValidationError(f"{KIND} webhook: interaction without a user", param="user")
    if user.get("bot"):
        return None
    text = " ".join(_option_values(data.get("options") or [])).strip() or str(data.get("name") or "")
    if not text:
        return None
    channel = interaction.get("channel")
    channel_id = interaction.get("channel_id") or (channel.get("id") if isinstance(channel, dict) else None)
    return Inbound(
        sender=str(user["id"]),
        text=text,
        event_id=str(interaction_id),
        chat_id=str(channel_id or ""),
        display_name=user.get("global_name") or user.get("username"),
        raw_kind="application_command",
        is_direct=not interaction.get("guild_id"),
        reply_context={"application_id": interaction.get("application_id"),
                       "interaction_token": interaction.get("token"),
                       "command": data.get("name")},
    )


def _option_values(options: list[Any]) -> list[str]:
    """Flatten option values, descending into subcommands and groups."""
    values: list[str] = []
    for option in options:
        if not isinstance(option, dict):
            continue
        if "value" in option:
            values.append(str(option["value"]))
        values.extend(_option_values(option.get("options") or []))
    return values


def ack(inbound: Inbound) -> HandshakeReply:
    """Defer: Discord needs an answer within 3 s; the reply follows as a follow-up message."""
    return HandshakeReply.json({"type": DEFERRED_CHANNEL_MESSAGE})


def send(http: httpx.Client, config: dict, send_secret: str | None, inbound: Inbound,
         text: str) -> None:
    """Post the reply as the interaction's follow-up, or in the channel with the bot token."""
    base = api_base(config, DEFAULT_API_BASE_URL)
    application_id = inbound.reply_context.get("application_id") or config.get("application_id")
    interaction_token = inbound.reply_context.get("interaction_token")
    if application_id and interaction_token:
        url, secret = f"{base}/webhooks/{application_id}/{interaction_token}", interaction_token
        headers = None
    else:
        secret = require_send_secret(send_secret, KIND, "bot_token")
        url, headers = f"{base}/channels/{inbound.chat_id}/messages", {"Authorization": f"Bot {secret}"}
    post_json_pieces(http, url, text, MAX_TEXT, kind=KIND, secret=secret, headers=headers,
                     body=lambda piece: {"content": piece,
                                         "allowed_mentions": {"parse": []}})  # never ping @everyone
