"""The channel domain's plain data: bindings, channel jobs, inbound messages, replies and routes.

The bottom layer of ``channels/``: storage returns these and every channel module passes them
around, so this module imports nothing of ours. What they look like on the wire is in
``binding.py``; the kind modules' surface is in ``base.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass
class Binding:
    """One channel account (a Telegram bot, a Slack app, ...) connected to an agent."""

    id: str
    tenant_id: str
    kind: str
    name: str
    agent_id: str
    enabled: bool
    config: dict[str, Any]
    routing: dict[str, Any]          # {"keywords": {word: agent_id}, "default_agent_id": id | None}
    created_at: str
    updated_at: str
    last_inbound_at: str | None = None
    last_error: str | None = None
    inbound_count: int = 0
    rejected_count: int = 0
    secrets_set: tuple[str, ...] = ()    # names with a current value (never the values)


@dataclass
class ChannelJob:
    """One accepted inbound message: its agent run and then its reply's delivery (the outbox)."""

    id: str
    tenant_id: str
    binding_id: str
    agent_id: str
    session_id: str
    channel: str
    inbound: dict[str, Any]
    status: str                      # queued | running | pending | sending | sent | failed
    reply: str | None = None
    message_id: str | None = None
    attempts: int = 0
    next_attempt_ts: float = 0.0
    last_error: str | None = None
    created_at: str = ""
    updated_at: str = ""
    delivered_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Inbound:
    """One message from a channel that an agent should answer."""

    sender: str               # provider's stable id of the author (routing peer, reply target)
    text: str
    event_id: str             # provider's delivery/event id, for de-duplication
    chat_id: str              # where the reply goes (chat, channel, phone number, "owner/repo#12")
    display_name: str | None  # a human name for the UI, when the provider sends one
    raw_kind: str             # provider's event type, e.g. "message", "app_mention", "issue_comment"
    is_direct: bool = False   # a 1:1 conversation (DM, SMS) rather than a group/channel/thread
    reply_context: Mapping[str, Any] = field(default_factory=dict)  # what send needs besides chat_id


@dataclass(frozen=True)
class HandshakeReply:
    """A response the webhook resource sends verbatim, without running an agent."""

    status: int
    body: bytes
    content_type: str

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> HandshakeReply:
        return cls(status, json.dumps(payload).encode(), "application/json")

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> HandshakeReply:
        return cls(status, text.encode(), content_type)


@dataclass(frozen=True)
class Route:
    """The agent an inbound message goes to, and which routing rule chose it."""

    agent_id: str
    matched_rule: str        # "keyword:<word>" | "default_agent" | "binding_agent"
