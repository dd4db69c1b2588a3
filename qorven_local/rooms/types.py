"""Rooms as the domain sees them: a room with its members, and one message of its transcript."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RoomMember:
    """A member agent, its place in the speaking order, and the session it answers in."""

    agent_id: str
    position: int
    session_id: str


@dataclass
class Room:
    """A conversation of several agents with a chair, a turn-taking mode and, once decided, a decision."""

    id: str
    tenant_id: str
    name: str
    topic: str
    chair_agent_id: str
    mode: str
    status: str
    decision: dict[str, Any] | None
    created_at: str
    updated_at: str
    members: list[RoomMember] = field(default_factory=list)

    @property
    def member_ids(self) -> list[str]:
        return [m.agent_id for m in self.members]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "object": "room", "name": self.name, "topic": self.topic, "members": self.member_ids,
                "chair_agent_id": self.chair_agent_id, "mode": self.mode, "status": self.status,
                "decision": self.decision, "created_at": self.created_at, "updated_at": self.updated_at}


@dataclass
class RoomMessage:
    """One message of a room's transcript: the human's post or a member's answer, vote or ruling."""

    id: str
    tenant_id: str
    room_id: str
    role: str                 # user (the human) | assistant (a member)
    agent_id: str | None
    kind: str                 # message | vote | ruling
    content: str
    session_id: str | None
    status: str = "complete"
    error: dict[str, Any] | None = None
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "object": "room.message", "room_id": self.room_id, "role": self.role,
                "agent_id": self.agent_id, "kind": self.kind, "content": self.content,
                "session_id": self.session_id, "status": self.status, "error": self.error,
                "created_at": self.created_at}
