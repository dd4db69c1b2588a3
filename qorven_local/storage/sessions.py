"""Session and message rows."""

from __future__ import annotations

from typing import Any

from qorven_local.agents.types import CHAT_FAMILY_CHANNELS, Message, Session
from qorven_local.models import Page
from qorven_local.storage.db import Database, dumps, loads
from qorven_local.storage.paging import fetch_page


def row_to_session(row: Any) -> Session:
    return Session(id=row["id"], tenant_id=row["tenant_id"], agent_id=row["agent_id"], channel=row["channel"],
                   peer=row["peer"], title=row["title"], status=row["status"],
                   message_count=row["message_count"], created_at=row["created_at"],
                   updated_at=row["updated_at"], last_message_at=row["last_message_at"])


def row_to_message(row: Any) -> Message:
    return Message(id=row["id"], tenant_id=row["tenant_id"], session_id=row["session_id"],
                   agent_id=row["agent_id"], role=row["role"], content=row["content"], channel=row["channel"],
                   tool_calls=loads(row["tool_calls"]), tool_call_id=row["tool_call_id"], status=row["status"],
                   error=loads(row["error"]), usage=loads(row["usage"]), created_at=row["created_at"],
                   recalled=loads(row["recalled"]))


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def find_canonical(self, conn: Any, tenant_id: str, agent_id: str, channel: str, peer_key: str) -> Session | None:
        row = conn.execute("SELECT * FROM sessions WHERE tenant_id = ? AND agent_id = ? AND channel = ? "
                           "AND peer_key = ? AND canonical = 1", (tenant_id, agent_id, channel, peer_key)).fetchone()
        return row_to_session(row) if row else None

    def insert(self, conn: Any, session: Session, *, canonical: bool) -> None:
        conn.execute(
            "INSERT INTO sessions (id, tenant_id, agent_id, channel, peer, peer_key, canonical, title, status, "
            "message_count, created_at, updated_at, last_message_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (session.id, session.tenant_id, session.agent_id, session.channel, session.peer, session.peer or "",
             1 if canonical else None, session.title, session.status, session.message_count,
             session.created_at, session.updated_at, session.last_message_at))

    def get(self, tenant_id: str, session_id: str) -> Session | None:
        row = self.db.query_one("SELECT * FROM sessions WHERE tenant_id = ? AND id = ?", (tenant_id, session_id))
        return row_to_session(row) if row else None

    def update_fields(self, conn: Any, tenant_id: str, session_id: str, *, title: Any = ..., status: str | None = None,
                      now: str) -> None:
        sets, args = ["updated_at = ?"], [now]
        if title is not ...:
            sets.append("title = ?")
            args.append(title)
        if status is not None:
            sets.append("status = ?")
            args.append(status)
            if status == "archived":
                sets.append("canonical = NULL")
            else:
                chat = ", ".join("'%s'" % c for c in CHAT_FAMILY_CHANNELS)
                sets.append(f"canonical = CASE WHEN channel IN ({chat}) THEN 1 ELSE NULL END")
        conn.execute(f"UPDATE sessions SET {', '.join(sets)} WHERE tenant_id = ? AND id = ?",
                     args + [tenant_id, session_id])

    def page(self, tenant_id: str, *, filters: dict[str, Any], limit: int | None, cursor: str | None) -> Page:
        where, args = ["tenant_id = ?"], [tenant_id]
        for column in ("agent_id", "channel", "status"):
            if filters.get(column) is not None:
                where.append(f"{column} = ?")
                args.append(filters[column])
        if filters.get("q"):
            where.append("title LIKE ? ESCAPE '\\'")
            q = filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{q}%")
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM sessions", where, args,
                              limit=limit, cursor=cursor, newest_first=True, build=row_to_session)


class MessageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, conn: Any, message: Message) -> None:
        conn.execute(
            "INSERT INTO messages (id, tenant_id, session_id, agent_id, role, content, channel, tool_calls, "
            "tool_call_id, status, error, usage, created_at, recalled) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (message.id, message.tenant_id, message.session_id, message.agent_id, message.role, message.content,
             message.channel, dumps(message.tool_calls), message.tool_call_id, message.status,
             dumps(message.error), dumps(message.usage), message.created_at, dumps(message.recalled)))
        conn.execute("UPDATE sessions SET message_count = message_count + 1, last_message_at = ?, updated_at = ? "
                     "WHERE id = ?", (message.created_at, message.created_at, message.session_id))

    def page(self, tenant_id: str, session_id: str, *, channel: str | None, limit: int | None,
             cursor: str | None) -> Page:
        where, args = ["tenant_id = ?", "session_id = ?"], [tenant_id, session_id]
        if channel:
            where.append("channel = ?")
            args.append(channel)
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM messages", where, args,
                              limit=limit, cursor=cursor, newest_first=False, build=row_to_message)

    def recent(self, tenant_id: str, session_id: str, limit: int) -> list[Message]:
        """The last ``limit`` complete messages of a session, oldest first."""
        rows = self.db.query(
            "SELECT * FROM (SELECT rowid AS _r, * FROM messages WHERE tenant_id = ? AND session_id = ? "
            "AND status = 'complete' ORDER BY rowid DESC LIMIT ?) ORDER BY _r ASC", (tenant_id, session_id, limit))
        return [row_to_message(r) for r in rows]
