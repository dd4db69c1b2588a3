"""The agents' domain types: agents, sessions (conversations) and their messages. Imports nothing of ours."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CHAT_FAMILY_CHANNELS = ("web", "desktop", "cli", "api", "telegram", "whatsapp", "slack_dm", "discord_dm", "sms")
DEFAULT_MAX_RECALL = 5  # memories an agent's run recalls at most unless its memory.max_recall says otherwise
OTHER_CHANNELS = ("room", "task", "webhook", "slack", "discord", "github")
CHANNELS = CHAT_FAMILY_CHANNELS + OTHER_CHANNELS



def _api_fields(record: Session | Message, object_name: str) -> dict[str, Any]:
    """Every field but the tenant (implied by the token), plus the API's ``object`` name."""
    fields = asdict(record)
    fields.pop("tenant_id")
    fields["object"] = object_name
    return fields


@dataclass
class Agent:
    """An agent of a tenant: its instructions, model, tools and memory settings."""

    id: str
    tenant_id: str
    name: str
    display_name: str
    description: str
    instructions: str
    model: str | None
    tools: list[str]
    memory_enabled: bool
    memory_auto_save: bool
    temperature: float | None
    builtin: bool
    created_at: str
    updated_at: str
    deleted_at: str | None = None
    memory_max_recall: int = DEFAULT_MAX_RECALL  # memories a run recalls at most

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "object": "agent", "name": self.name, "display_name": self.display_name,
            "description": self.description, "instructions": self.instructions, "model": self.model,
            "tools": list(self.tools),
            "memory": {"enabled": self.memory_enabled, "auto_save": self.memory_auto_save,
                       "max_recall": self.memory_max_recall},
            "temperature": self.temperature, "builtin": self.builtin,
            "created_at": self.created_at, "updated_at": self.updated_at, "deleted_at": self.deleted_at,
        }


@dataclass
class Session:
    """A conversation of one agent on one channel (with one peer, for chat-family channels)."""

    id: str
    tenant_id: str
    agent_id: str
    channel: str
    peer: str | None
    title: str | None
    status: str
    message_count: int
    created_at: str
    updated_at: str
    last_message_at: str | None
    model: str | None = None             # this conversation's model override (None: the agent's)

    def to_dict(self) -> dict[str, Any]:
        return _api_fields(self, "session")


@dataclass
class Message:
    """One message of a session, stored whole."""

    id: str
    tenant_id: str
    session_id: str
    agent_id: str | None
    role: str
    content: str | None
    channel: str
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    status: str = "complete"
    error: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
    created_at: str = ""
    recalled: list[dict[str, Any]] | None = None  # an answer's recalled memories: [{id, score, content, document?}]
    model: str | None = None  # the <provider>/<model> that wrote an assistant message

    def to_dict(self) -> dict[str, Any]:
        return _api_fields(self, "message")
