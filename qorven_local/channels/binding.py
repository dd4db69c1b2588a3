"""The Binding (a channel connected to an agent) and the channel-job row, as plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Binding:
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

    def to_dict(self, webhook_url: str, secret_names: tuple[str, ...]) -> dict[str, Any]:
        """The API's Binding object; ``secret_set`` is about the verifying secret (the first name)."""
        return {
            "id": self.id, "object": "channel", "kind": self.kind, "name": self.name,
            "agent_id": self.agent_id, "enabled": self.enabled, "config": dict(self.config),
            "secret_set": bool(secret_names) and secret_names[0] in self.secrets_set,
            "secrets": {name: name in self.secrets_set for name in secret_names},
            "routing": {"keywords": dict(self.routing.get("keywords") or {}),
                        "default_agent_id": self.routing.get("default_agent_id")},
            "webhook_url": webhook_url, "created_at": self.created_at, "updated_at": self.updated_at,
        }


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "object": "channel.delivery", "binding_id": self.binding_id,
            "agent_id": self.agent_id, "session_id": self.session_id, "channel": self.channel,
            "event_id": self.inbound.get("event_id"), "sender": self.inbound.get("sender"),
            "status": self.status, "attempts": self.attempts, "message_id": self.message_id,
            "last_error": self.last_error, "created_at": self.created_at, "updated_at": self.updated_at,
            "delivered_at": self.delivered_at,
        }
