"""Session and message rows."""

from __future__ import annotations

import re
from typing import Any

from qorven_local.agents.types import CHAT_FAMILY_CHANNELS, Message, Session
from qorven_local.models import Page
from qorven_local.storage.db import Database, dumps, loads
from qorven_local.storage.paging import fetch_page

SEARCH_CAP = 1000  # sessions a search ranks at most; its pages are cut from this list


def row_to_session(row: Any) -> Session:
    return Session(id=row["id"], tenant_id=row["tenant_id"], agent_id=row["agent_id"], channel=row["channel"],
                   peer=row["peer"], title=row["title"], status=row["status"],
                   message_count=row["message_count"], created_at=row["created_at"],
                   updated_at=row["updated_at"], last_message_at=row["last_message_at"], model=row["model"])


def row_to_message(row: Any) -> Message:
    return Message(id=row["id"], tenant_id=row["tenant_id"], session_id=row["session_id"],
                   agent_id=row["agent_id"], role=row["role"], content=row["content"], channel=row["channel"],
                   tool_calls=loads(row["tool_calls"]), tool_call_id=row["tool_call_id"], status=row["status"],
                   error=loads(row["error"]), usage=loads(row["usage"]), created_at=row["created_at"],
                   recalled=loads(row["recalled"]), model=row["model"])


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
                      model: Any = ..., now: str) -> None:
        sets, args = ["updated_at = ?"], [now]
        for column, value in (("title", title), ("model", model)):
            if value is not ...:
                sets.append(f"{column} = ?")
                args.append(value)
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
        """Sessions matching the column filters (every agent's when ``agent_id`` is None), newest first."""
        where, args = _filters(tenant_id, filters)
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM sessions", where, args,
                              limit=limit, cursor=cursor, newest_first=True, build=row_to_session)

    def search(self, tenant_id: str, text: str, *, filters: dict[str, Any]) -> list[Session]:
        """Sessions whose title contains ``text`` or whose messages match its words, best first.

        Title matches come first (newest first among them), then sessions by their best message's
        BM25 rank. Words are quoted for FTS5 (so no user text is read as query syntax) and the last
        one matches as a prefix, as people type. A title matches when it holds the text as typed or
        every word of it, so quotes and punctuation around words do not hide a title.
        """
        where, args = _filters(tenant_id, filters, table="s.")
        words = _words(text)
        likes = [_like(text)] + [_like(w) for w in words]
        contains = "s.title LIKE ? ESCAPE '\\'"
        title_sql = f"({contains} OR ({' AND '.join([contains] * len(words))}))" if words else f"({contains})"
        match = fts_query(text)
        # FTS5's hidden ``rank`` column is its BM25 score (bm25() itself cannot sit under an aggregate)
        hits = ("SELECT m.session_id AS sid, min(f.rank) AS rank FROM messages_fts f "
                "JOIN messages m ON m.rowid = f.rowid WHERE messages_fts MATCH ? "
                "AND m.tenant_id = ? GROUP BY m.session_id") if match else "SELECT NULL AS sid, NULL AS rank WHERE 0"
        sql = (f"WITH hits AS ({hits}) SELECT s.*, coalesce({title_sql}, 0) AS in_title, hits.rank "
               f"FROM sessions s LEFT JOIN hits ON hits.sid = s.id "
               f"WHERE {' AND '.join(where)} AND (hits.sid IS NOT NULL OR {title_sql}) "
               f"ORDER BY in_title DESC, hits.rank, s.rowid DESC LIMIT {SEARCH_CAP}")
        params = ([match, tenant_id] if match else []) + likes + args + likes
        return [row_to_session(r) for r in self.db.query(sql, params)]

    def delete(self, conn: Any, tenant_id: str, session_id: str) -> None:
        """Delete a session and all its messages for good (their search entries go with them)."""
        conn.execute("DELETE FROM messages WHERE tenant_id = ? AND session_id = ?", (tenant_id, session_id))
        conn.execute("DELETE FROM sessions WHERE tenant_id = ? AND id = ?", (tenant_id, session_id))


def _filters(tenant_id: str, filters: dict[str, Any], table: str = "") -> tuple[list[str], list[Any]]:
    where, args = [f"{table}tenant_id = ?"], [tenant_id]
    for column in ("agent_id", "channel", "status"):
        if filters.get(column) is not None:
            where.append(f"{table}{column} = ?")
            args.append(filters[column])
    return where, args


def _like(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') for titles containing ``text``."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _words(text: str) -> list[str]:
    """The words of a search text, at most 20: what its title and FTS5 matches are built from."""
    return re.findall(r"\w+", text)[:20]


def fts_query(text: str) -> str | None:
    """An FTS5 query matching every word of ``text`` (the last as a prefix); None when it has no words."""
    words = _words(text)
    if not words:
        return None
    return " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'


class MessageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, conn: Any, message: Message) -> None:
        self._insert_row(conn, message)
        conn.execute("UPDATE sessions SET message_count = message_count + 1, last_message_at = ?, updated_at = ? "
                     "WHERE id = ?", (message.created_at, message.created_at, message.session_id))

    def replace(self, conn: Any, message: Message) -> None:
        """Write ``message`` over the row with its id, placed last in its session (an answer that was
        stored ``streaming`` when its run began is stored whole after the tool messages of its run)."""
        gone = conn.execute("DELETE FROM messages WHERE tenant_id = ? AND id = ?",
                            (message.tenant_id, message.id)).rowcount
        self._insert_row(conn, message)
        conn.execute("UPDATE sessions SET message_count = message_count + ?, last_message_at = ?, updated_at = ? "
                     "WHERE id = ?", (1 - gone, message.created_at, message.created_at, message.session_id))

    @staticmethod
    def _insert_row(conn: Any, message: Message) -> None:
        conn.execute(
            "INSERT INTO messages (id, tenant_id, session_id, agent_id, role, content, channel, tool_calls, "
            "tool_call_id, status, error, usage, created_at, recalled, model) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (message.id, message.tenant_id, message.session_id, message.agent_id, message.role, message.content,
             message.channel, dumps(message.tool_calls), message.tool_call_id, message.status,
             dumps(message.error), dumps(message.usage), message.created_at, dumps(message.recalled), message.model))

    def end_streaming(self, conn: Any, error: dict[str, Any]) -> int:
        """Mark every answer still ``streaming`` as ``failed`` with ``error``; how many there were."""
        return conn.execute("UPDATE messages SET status = 'failed', error = ? WHERE status = 'streaming'",
                            (dumps(error),)).rowcount

    def page(self, tenant_id: str, session_id: str, *, channel: str | None, limit: int | None,
             cursor: str | None) -> Page:
        where, args = ["tenant_id = ?", "session_id = ?"], [tenant_id, session_id]
        if channel:
            where.append("channel = ?")
            args.append(channel)
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM messages", where, args,
                              limit=limit, cursor=cursor, newest_first=False, build=row_to_message)

    def get(self, tenant_id: str, message_id: str) -> Message | None:
        row = self.db.query_one("SELECT * FROM messages WHERE tenant_id = ? AND id = ?", (tenant_id, message_id))
        return row_to_message(row) if row else None

    def all_of(self, conn: Any, tenant_id: str, session_id: str) -> list[Message]:
        """Every message of a session, oldest first, read on ``conn`` (a write transaction's, to act on it)."""
        rows = conn.execute("SELECT * FROM messages WHERE tenant_id = ? AND session_id = ? ORDER BY rowid",
                            (tenant_id, session_id)).fetchall()
        return [row_to_message(r) for r in rows]

    def set_content(self, conn: Any, tenant_id: str, message_id: str, content: str) -> None:
        conn.execute("UPDATE messages SET content = ? WHERE tenant_id = ? AND id = ?", (content, tenant_id, message_id))

    def delete(self, conn: Any, tenant_id: str, session_id: str, message_ids: list[str], now: str) -> None:
        """Delete these messages of one session and keep its ``message_count`` true."""
        if not message_ids:
            return
        marks = ",".join("?" * len(message_ids))
        deleted = conn.execute(f"DELETE FROM messages WHERE tenant_id = ? AND session_id = ? AND id IN ({marks})",
                               [tenant_id, session_id, *message_ids]).rowcount
        conn.execute("UPDATE sessions SET message_count = max(0, message_count - ?), updated_at = ? WHERE id = ?",
                     (deleted, now, session_id))

    def recent(self, tenant_id: str, session_id: str, limit: int) -> list[Message]:
        """The last ``limit`` complete messages of a session, oldest first."""
        rows = self.db.query(
            "SELECT * FROM (SELECT rowid AS _r, * FROM messages WHERE tenant_id = ? AND session_id = ? "
            "AND status = 'complete' ORDER BY rowid DESC LIMIT ?) ORDER BY _r ASC", (tenant_id, session_id, limit))
        return [row_to_message(r) for r in rows]
