"""Every channel kind Qorven Local speaks, by binding ``kind`` name (see base.py for the surface)."""

from __future__ import annotations

from qorven_local.channels import discord, github, slack, telegram, twilio_sms, webhook, whatsapp
from qorven_local.channels.base import ChannelKind
from qorven_local.errors import ValidationError

KINDS: dict[str, ChannelKind] = {
    "telegram": telegram,      # secret token header; Bot API sendMessage
    "slack": slack,            # v0 HMAC + timestamp; chat.postMessage
    "discord": discord,        # Ed25519 + timestamp; interaction follow-up
    "whatsapp": whatsapp,      # Meta X-Hub-Signature-256 + hub.challenge; Graph messages
    "twilio_sms": twilio_sms,  # HMAC-SHA1 of public URL + sorted params; Messages API
    "github": github,          # X-Hub-Signature-256; issue comments
    "webhook": webhook,        # generic HMAC + timestamp; optional signed reply_url
}


def channel_kind(name: str) -> ChannelKind:
    """The module for a binding kind, or ValidationError naming the known kinds."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValidationError(f"unknown channel kind {name!r}; known: {', '.join(KINDS)}",
                              param="kind") from None


def secret_name(kind: ChannelKind, name: str | None) -> str:
    """Check a secret's name against the kind's SECRET_NAMES; None means the verifying one."""
    if name is None:
        return kind.SECRET_NAMES[0]
    if name not in kind.SECRET_NAMES:
        raise ValidationError(f"{kind.KIND} secrets are named {', '.join(kind.SECRET_NAMES)}; not {name!r}",
                              param="name")
    return name
