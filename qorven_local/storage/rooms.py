"""Rooms, their members (each with the session it answers in) and their transcript."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qorven_local.models import Page
from qorven_local.storage.db import Database, dumps, loads
from qorven_local.storage.paging import fetch_page


@dataclass(frozen=True)
class RoomMember:
    agent_id: str
    position: int
    session_id: str


@dataclass
class Room:
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


def _room(row: Any) -> Room:
    return Room(id=row["id"], tenant_id=row["tenant_id"], name=row["name"], topic=row["topic"],
                chair_agent_id=row["chair_agent_id"], mode=row["mode"], status=row["status"],
                decision=loads(row["decision"]), created_at=row["created_at"], updated_at=row["updated_at"])


def _message(row: Any) -> RoomMessage:
    return RoomMessage(id=row["id"], tenant_id=row["tenant_id"], room_id=row["room_id"], role=row["role"],
                       agent_id=row["agent_id"], kind=row["kind"], content=row["content"],
                       session_id=row["session_id"], status=row["status"], error=loads(row["error"]),
                       created_at=row["created_at"])


class RoomStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, conn: Any, room: Room) -> None:
        conn.execute("INSERT INTO rooms (id, tenant_id, name, topic, chair_agent_id, mode, status, decision, "
                     "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (room.id, room.tenant_id, room.name, room.topic, room.chair_agent_id, room.mode, room.status,
                      dumps(room.decision), room.created_at, room.updated_at))
        conn.executemany("INSERT INTO room_members (room_id, agent_id, position, session_id) VALUES (?,?,?,?)",
                         [(room.id, m.agent_id, m.position, m.session_id) for m in room.members])

    def _with_members(self, conn: Any, rooms: list[Room]) -> list[Room]:
        if not rooms:
            return rooms
        by_id = {r.id: r for r in rooms}
        marks = ",".join("?" * len(by_id))
        for row in conn.execute(f"SELECT * FROM room_members WHERE room_id IN ({marks}) ORDER BY position",
                                list(by_id)):
            by_id[row["room_id"]].members.append(RoomMember(row["agent_id"], row["position"], row["session_id"]))
        return rooms

    def get(self, tenant_id: str, room_id: str) -> Room | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM rooms WHERE tenant_id = ? AND id = ?", (tenant_id, room_id)).fetchone()
            return self._with_members(conn, [_room(row)])[0] if row else None

    def page(self, tenant_id: str, *, status: str | None, limit: int | None, cursor: str | None) -> Page:
        where, args = ["tenant_id = ?"], [tenant_id]
        if status is not None:
            where.append("status = ?")
            args.append(status)
        with self.db.read() as conn:
            page = fetch_page(conn, "SELECT rowid AS _rowid, * FROM rooms", where, args, limit=limit, cursor=cursor,
                              newest_first=True, build=_room)
            self._with_members(conn, page.items)
        return page

    def mark_decided(self, conn: Any, tenant_id: str, room_id: str, decision: dict[str, Any], now: str) -> bool:
        """Record the decision if the room is still open; False if it was decided meanwhile."""
        cur = conn.execute("UPDATE rooms SET status = 'decided', decision = ?, updated_at = ? "
                           "WHERE tenant_id = ? AND id = ? AND status = 'open'",
                           (dumps(decision), now, tenant_id, room_id))
        return cur.rowcount == 1

    def add_message(self, conn: Any, message: RoomMessage) -> None:
        conn.execute("INSERT INTO room_messages (id, tenant_id, room_id, role, agent_id, kind, content, session_id, "
                     "status, error, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     (message.id, message.tenant_id, message.room_id, message.role, message.agent_id, message.kind,
                      message.content, message.session_id, message.status, dumps(message.error),
                      message.created_at))
        conn.execute("UPDATE rooms SET updated_at = ? WHERE id = ?", (message.created_at, message.room_id))

    def messages_page(self, tenant_id: str, room_id: str, *, limit: int | None, cursor: str | None) -> Page:
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM room_messages",
                              ["tenant_id = ?", "room_id = ?"], [tenant_id, room_id], limit=limit, cursor=cursor,
                              newest_first=False, build=_message)

    def unseen_by(self, tenant_id: str, room_id: str, agent_id: str) -> list[RoomMessage]:
        """The room's messages after ``agent_id``'s last one (all of them if it never spoke), oldest first."""
        rows = self.db.query(
            "SELECT * FROM room_messages WHERE tenant_id = ? AND room_id = ? AND rowid > COALESCE("
            "(SELECT max(rowid) FROM room_messages WHERE room_id = ? AND agent_id = ?), 0) ORDER BY rowid",
            (tenant_id, room_id, room_id, agent_id))
        return [_message(r) for r in rows]
