"""Sessions and their messages: the canonical session per (agent, channel, peer)."""

from __future__ import annotations

from typing import Any, Callable

from qorven_local.agents.service import AgentService
from qorven_local.agents.transcript import Transcript, transcript
from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import Conflict, NotFound, ValidationError
from qorven_local.agents.types import CHANNELS, CHAT_FAMILY_CHANNELS, Message, Session
from qorven_local.models import Page
from qorven_local.storage.db import Database, IntegrityError
from qorven_local.storage.paging import page_items
from qorven_local.storage.sessions import MessageStore, SessionStore


class SessionService:
    """Open, read, update and archive sessions; store and read their messages."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, agents: AgentService,
                 check_model: Callable[[str, str], None] | None = None) -> None:
        self.db = db
        self._check_model = check_model  # (tenant, model id): refuses a model no provider offers
        self.clock = clock
        self.ids = ids
        self.agents = agents
        self.store = SessionStore(db)
        self.messages = MessageStore(db)

    def open(self, tenant_id: str, agent_id: str, channel: str = "web", peer: str | None = None,
             title: str | None = None) -> tuple[Session, bool]:
        """The canonical session for chat-family channels (created on first use); else a new one.

        Returns (session, created). The writer lock plus the partial unique index make
        concurrent calls for the same key return one session.
        """
        if channel not in CHANNELS:
            raise ValidationError(f"unknown channel {channel!r}", param="channel")
        agent = self.agents.get(tenant_id, agent_id)
        canonical = channel in CHAT_FAMILY_CHANNELS
        with self.db.write() as conn:
            if canonical:
                existing = self.store.find_canonical(conn, tenant_id, agent.id, channel, peer or "")
                if existing:
                    return existing, False
            now = self.clock.iso()
            session = Session(id=self.ids.new("ses"), tenant_id=tenant_id, agent_id=agent.id, channel=channel,
                              peer=peer, title=title, status="active", message_count=0, created_at=now,
                              updated_at=now, last_message_at=None)
            try:
                self.store.insert(conn, session, canonical=canonical)
            except IntegrityError:  # another process won the race; the index kept it to one
                existing = self.store.find_canonical(conn, tenant_id, agent.id, channel, peer or "")
                if existing is None:
                    raise
                return existing, False
        return session, True

    def get(self, tenant_id: str, session_id: str) -> Session:
        session = self.store.get(tenant_id, session_id)
        if session is None:
            raise NotFound(f"session {session_id} not found")
        return session

    def list_page(self, tenant_id: str, *, filters: dict[str, Any], limit: int | None, cursor: str | None) -> Page:
        """Sessions newest first (every agent's unless ``filters`` names one); with ``q``, search results
        best first: titles containing it, then sessions whose messages match its words."""
        text = (filters.get("q") or "").strip()
        if not text:
            return self.store.page(tenant_id, filters=filters, limit=limit, cursor=cursor)
        found = self.store.search(tenant_id, text, filters=filters)
        return page_items(found, limit=limit, cursor=cursor, key=lambda s: s.id)

    def check_model(self, tenant_id: str, model: str, param: str = "model") -> None:
        """Refuse (``validation_error`` naming ``param``) a model id no provider of the tenant offers."""
        if self._check_model is None:
            return
        try:
            self._check_model(tenant_id, model)
        except ValidationError as exc:
            raise ValidationError(exc.message, param=param) from None

    def update(self, tenant_id: str, session_id: str, fields: dict[str, Any]) -> Session:
        """Rename, archive or unarchive a session, or set its model override (None: the agent's)."""
        if fields.get("model") is not None:
            self.check_model(tenant_id, fields["model"])
        with self.db.write() as conn:
            session = self.get(tenant_id, session_id)
            status = fields.get("status")
            try:
                self.store.update_fields(conn, tenant_id, session_id, title=fields.get("title", ...),
                                         status=status if status != session.status else None,
                                         model=fields.get("model", ...), now=self.clock.iso())
            except IntegrityError:
                raise Conflict("another active session already exists for this agent, channel and peer; "
                               "archive it first", param="status") from None
        return self.get(tenant_id, session_id)

    def archive(self, tenant_id: str, session_id: str) -> Session:
        return self.update(tenant_id, session_id, {"status": "archived"})

    def purge(self, tenant_id: str, session_id: str) -> None:
        """Delete a session and its messages for good, in one transaction."""
        with self.db.write() as conn:
            self.get(tenant_id, session_id)
            try:
                self.store.delete(conn, tenant_id, session_id)
            except IntegrityError:  # a room member's session: the room still points at it
                raise Conflict(f"session {session_id} belongs to a room; delete the room instead") from None

    def export(self, tenant_id: str, session_id: str, fmt: str) -> Transcript:
        """The whole conversation as a Markdown or JSON file."""
        session = self.get(tenant_id, session_id)
        with self.db.read() as conn:
            messages = self.messages.all_of(conn, tenant_id, session_id)
        agent = self.agents.get(tenant_id, session.agent_id, include_deleted=True)
        return transcript(session, messages, agent.display_name or agent.name, fmt, self.clock.iso())

    # messages -----------------------------------------------------------------------------------
    def store_message(self, message: Message) -> None:
        """Write one whole message row into its session."""
        with self.db.write() as conn:
            self.messages.insert(conn, message)

    def finish_message(self, message: Message) -> None:
        """Store a run's answer whole over its ``streaming`` row, placed after the run's tool messages."""
        with self.db.write() as conn:
            self.messages.replace(conn, message)

    def end_interrupted_answers(self) -> int:
        """At start: answers left ``streaming`` by a process that ended mid-run become ``failed`` (no run
        of this process can be writing them yet); how many there were."""
        with self.db.write() as conn:
            return self.messages.end_streaming(conn, {
                "code": "interrupted", "message": "Qorven stopped before this answer was finished; ask again."})

    def list_messages(self, tenant_id: str, session_id: str, *, channel: str | None, limit: int | None,
                      cursor: str | None) -> Page:
        self.get(tenant_id, session_id)
        return self.messages.page(tenant_id, session_id, channel=channel, limit=limit, cursor=cursor)

    def recent_messages(self, tenant_id: str, session_id: str, limit: int = 50) -> list[Message]:
        return self.messages.recent(tenant_id, session_id, limit)

    def get_message(self, tenant_id: str, message_id: str) -> Message:
        message = self.messages.get(tenant_id, message_id)
        if message is None:
            raise NotFound(f"message {message_id} not found")
        return message

    def delete_message(self, tenant_id: str, message_id: str) -> list[str]:
        """Delete a message; an assistant or tool message takes its whole turn (every assistant and tool
        message between the user messages around it). Returns the ids deleted, oldest first."""
        session_id = self.get_message(tenant_id, message_id).session_id
        with self.db.write() as conn:
            rows = self.messages.all_of(conn, tenant_id, session_id)
            at = next((i for i, m in enumerate(rows) if m.id == message_id), None)
            if at is None:  # deleted by someone else meanwhile
                raise NotFound(f"message {message_id} not found")
            if rows[at].role in ("user", "system"):
                ids = [message_id]
            else:
                start = next((i + 1 for i in range(at - 1, -1, -1) if rows[i].role == "user"), 0)
                end = next((i for i in range(at + 1, len(rows)) if rows[i].role == "user"), len(rows))
                ids = [m.id for m in rows[start:end] if m.role in ("assistant", "tool")]
            self.messages.delete(conn, tenant_id, session_id, ids, self.clock.iso())
        return ids

    def keep_shown(self, tenant_id: str, message_id: str, content: str) -> Message:
        """Cut a stopped answer back to ``content``, the part its reader saw before pressing Stop (the run
        streams on for a moment before it learns of the stop). Only a stopped answer, and only to the
        start of its own text: nothing else about a message can be rewritten."""
        with self.db.write() as conn:
            message = self.get_message(tenant_id, message_id)
            if message.role != "assistant" or message.status != "stopped":
                raise Conflict("only an answer that was stopped can be cut back to what was shown", param="content")
            if not (message.content or "").startswith(content):
                raise ValidationError("content must be the start of the stopped answer's text", param="content")
            if content != message.content:
                self.messages.set_content(conn, tenant_id, message_id, content)
                message.content = content
        return message

    def rewind_point(self, tenant_id: str, session_id: str, message_id: str | None, *, param: str) -> Message:
        """The user message a run may restart from: ``message_id`` (one of this session's user messages),
        or the session's last user message when None. ``validation_error`` naming ``param`` otherwise."""
        with self.db.read() as conn:
            return _rewind_point(self.messages.all_of(conn, tenant_id, session_id), message_id, param)[1]

    def rewind(self, tenant_id: str, session_id: str, message_id: str, text: str | None) -> Message:
        """In one transaction: give the user message ``message_id`` the new ``text`` (None keeps it) and
        delete everything after it, so a new run answers it afresh. Returns the message as it now reads."""
        with self.db.write() as conn:
            rows = self.messages.all_of(conn, tenant_id, session_id)
            at, message = _rewind_point(rows, message_id, "edit_message_id")
            if text is not None and text != message.content:
                self.messages.set_content(conn, tenant_id, message_id, text)
                message.content = text
            self.messages.delete(conn, tenant_id, session_id, [m.id for m in rows[at + 1:]], self.clock.iso())
        return message


def _rewind_point(rows: list[Message], message_id: str | None, param: str) -> tuple[int, Message]:
    users = [(i, m) for i, m in enumerate(rows) if m.role == "user"]
    if message_id is None:
        if not users:
            raise ValidationError("this conversation has no message to answer again", param=param)
        return users[-1]
    for i, m in users:
        if m.id == message_id:
            return i, m
    if any(m.id == message_id for m in rows):
        raise ValidationError(f"message {message_id} is not one of your messages; only those can be edited",
                              param=param)
    raise ValidationError(f"message {message_id} is not in this session", param=param)
