"""Rooms, their members (each with the session it answers in) and their transcript."""

from __future__ import annotations

from typing import Any

from qorven_local.models import Page
from qorven_local.rooms.types import Room, RoomMember, RoomMessage
from qorven_local.storage.db import Database, dumps, loads
from qorven_local.storage.paging import fetch_page


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

    def update(self, conn: Any, tenant_id: str, room_id: str, changes: dict[str, Any], *, reopen: bool,
               now: str) -> None:
        """Apply ``changes`` (name, topic); ``reopen`` makes a decided room open again without its decision."""
        sets, args = ["updated_at = ?"], [now]
        for key in ("name", "topic"):
            if key in changes:
                sets.append(f"{key} = ?")
                args.append(changes[key])
        if reopen:
            sets.append("status = 'open', decision = NULL")
        conn.execute(f"UPDATE rooms SET {', '.join(sets)} WHERE tenant_id = ? AND id = ?", (*args, tenant_id, room_id))

    def delete(self, conn: Any, tenant_id: str, room_id: str) -> None:
        """Remove a room, its member list and its transcript."""
        conn.execute("DELETE FROM room_messages WHERE tenant_id = ? AND room_id = ?", (tenant_id, room_id))
        conn.execute("DELETE FROM room_members WHERE room_id = ? AND room_id IN "
                     "(SELECT id FROM rooms WHERE tenant_id = ?)", (room_id, tenant_id))
        conn.execute("DELETE FROM rooms WHERE tenant_id = ? AND id = ?", (tenant_id, room_id))

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
