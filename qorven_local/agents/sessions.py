"""Sessions and their messages: the canonical session per (agent, channel, peer)."""

from __future__ import annotations

from typing import Any

from qorven_local.agents.service import AgentService
from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import Conflict, NotFound, ValidationError
from qorven_local.agents.types import CHANNELS, CHAT_FAMILY_CHANNELS, Message, Session
from qorven_local.models import Page
from qorven_local.storage.db import Database, IntegrityError
from qorven_local.storage.sessions import MessageStore, SessionStore


class SessionService:
    """Open, read, update and archive sessions; store and read their messages."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, agents: AgentService) -> None:
        self.db = db
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
        return self.store.page(tenant_id, filters=filters, limit=limit, cursor=cursor)

    def update(self, tenant_id: str, session_id: str, fields: dict[str, Any]) -> Session:
        with self.db.write() as conn:
            session = self.get(tenant_id, session_id)
            status = fields.get("status")
            try:
                self.store.update_fields(conn, tenant_id, session_id, title=fields.get("title", ...),
                                         status=status if status != session.status else None,
                                         now=self.clock.iso())
            except IntegrityError:
                raise Conflict("another active session already exists for this agent, channel and peer; "
                               "archive it first", param="status") from None
        return self.get(tenant_id, session_id)

    def archive(self, tenant_id: str, session_id: str) -> Session:
        return self.update(tenant_id, session_id, {"status": "archived"})

    # messages -----------------------------------------------------------------------------------
    def store_message(self, message: Message) -> None:
        """Write one whole message row into its session."""
        with self.db.write() as conn:
            self.messages.insert(conn, message)

    def list_messages(self, tenant_id: str, session_id: str, *, channel: str | None, limit: int | None,
                      cursor: str | None) -> Page:
        self.get(tenant_id, session_id)
        return self.messages.page(tenant_id, session_id, channel=channel, limit=limit, cursor=cursor)

    def recent_messages(self, tenant_id: str, session_id: str, limit: int = 50) -> list[Message]:
        return self.messages.recent(tenant_id, session_id, limit)
