"""/v1/sessions and /v1/messages: thin resources over SessionService."""

from __future__ import annotations

import falcon

from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.agents.transcript import FORMATS
from qorven_local.agents.types import CHANNELS
from qorven_local.web import schemas
from qorven_local.web.io import (page_args, page_body, principal, query_bool, query_choice, query_required,
                                 read_body)
from qorven_local.web.spec import PAGED, Param, operation

SESSION_FILTERS = (
    Param("agent_id", {"type": "string"}, "only this agent's sessions"),
    Param("channel", {"enum": list(CHANNELS)}, "only this channel"),
    Param("status", {"enum": ["active", "archived"]}, "only this status"),
    Param("q", {"type": "string", "maxLength": 200},
          "search titles and message text (FTS5); results come best first instead of newest first"),
)


class SessionsResource:
    """/v1/sessions: list and open sessions."""

    def __init__(self, sessions: SessionService, agents: AgentService) -> None:
        self.sessions = sessions
        self.agents = agents

    @operation(summary="List sessions (newest first)", tag="sessions", response=schemas.list_of(schemas.SESSION),
               query=PAGED + SESSION_FILTERS)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = {"agent_id": req.get_param("agent_id"), "channel": query_choice(req, "channel", CHANNELS),
                   "status": query_choice(req, "status", ("active", "archived")), "q": req.get_param("q")}
        page = self.sessions.list_page(principal(req).tenant_id, filters=filters, **page_args(req))
        resp.media = page_body(page)

    @operation(summary="Open a session: the canonical one for chat-family channels (200 if it existed, 201 if "
                       "created); other channels always create", tag="sessions", request=schemas.SESSION_CREATE,
               response=schemas.SESSION, status=201, extra_statuses={200: "The existing canonical session"})
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, schemas.SESSION_CREATE)
        tenant = principal(req).tenant_id
        agent = self.agents.require(tenant, body["agent_id"], param="agent_id")
        session, created = self.sessions.open(tenant, agent.id, body.get("channel", "web"), body.get("peer"),
                                              body.get("title"))
        resp.status = 201 if created else 200
        resp.media = session.to_dict()


class SessionResource:
    """/v1/sessions/{session_id}: read, update, archive one session."""

    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions

    @operation(summary="Get a session", tag="sessions", response=schemas.SESSION)
    def on_get(self, req: falcon.Request, resp: falcon.Response, session_id: str) -> None:
        resp.media = self.sessions.get(principal(req).tenant_id, session_id).to_dict()

    @operation(summary="Rename, archive/unarchive or set the model of a session", tag="sessions", request=schemas.SESSION_PATCH,
               response=schemas.SESSION, errors=("conflict",))
    def on_patch(self, req: falcon.Request, resp: falcon.Response, session_id: str) -> None:
        body = read_body(req, schemas.SESSION_PATCH)
        resp.media = self.sessions.update(principal(req).tenant_id, session_id, body).to_dict()

    @operation(summary="Archive a session (messages are kept); ?purge=true deletes it and its messages for good",
               tag="sessions", response={"oneOf": [schemas.SESSION, schemas.SESSION_DELETED]}, errors=("conflict",),
               query=(Param("purge", {"type": "boolean", "default": False},
                            "delete the session and its messages for good (answers {id, object, deleted})"),))
    def on_delete(self, req: falcon.Request, resp: falcon.Response, session_id: str) -> None:
        tenant = principal(req).tenant_id
        if query_bool(req, "purge"):
            self.sessions.purge(tenant, session_id)
            resp.media = {"id": session_id, "object": "session", "deleted": True}
        else:
            resp.media = self.sessions.archive(tenant, session_id).to_dict()


class SessionExportResource:
    """/v1/sessions/{session_id}/export: the conversation as a file to download."""

    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions

    @operation(summary="Export a session as a Markdown or JSON file (an attachment download)", tag="sessions",
               response={"type": "object", "required": ["object", "session", "messages"],
                         "properties": {"object": {"const": "conversation"}, "session": schemas.SESSION,
                                        "messages": {"type": "array", "items": schemas.MESSAGE}}},
               query=(Param("format", {"enum": list(FORMATS), "default": "markdown"}, "markdown or json"),),
               also_answers=("text/markdown",),
               description="format=markdown (the default) answers text/markdown; format=json the object above. "
                           "Both carry Content-Disposition: attachment with a file name made of the title and date.")
    def on_get(self, req: falcon.Request, resp: falcon.Response, session_id: str) -> None:
        fmt = query_choice(req, "format", FORMATS) or "markdown"
        export = self.sessions.export(principal(req).tenant_id, session_id, fmt)
        resp.content_type = export.media_type
        resp.downloadable_as = export.filename
        resp.data = export.body


class MessagesResource:
    """/v1/messages: one session's messages."""

    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions

    @operation(summary="List a session's messages (oldest first)", tag="messages",
               response=schemas.list_of(schemas.MESSAGE),
               query=(Param("session_id", {"type": "string"}, "the session", required=True),
                      Param("channel", {"type": "string", "enum": list(CHANNELS)}, "only messages that came through this channel"))
               + PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session_id = query_required(req, "session_id")
        page = self.sessions.list_messages(principal(req).tenant_id, session_id,
                                           channel=req.get_param("channel"), **page_args(req))
        resp.media = page_body(page)


class MessageResource:
    """/v1/messages/{message_id}: cut a stopped answer back to what was shown; delete one message (an
    assistant turn with its tool messages)."""

    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions

    @operation(summary="Cut a stopped answer back to the text its reader saw (a start of its stored text)",
               tag="messages", request=schemas.MESSAGE_PATCH, response=schemas.MESSAGE, errors=("conflict",))
    def on_patch(self, req: falcon.Request, resp: falcon.Response, message_id: str) -> None:
        body = read_body(req, schemas.MESSAGE_PATCH)
        resp.media = self.sessions.keep_shown(principal(req).tenant_id, message_id, body["content"]).to_dict()

    @operation(summary="Delete a message; an assistant or tool message takes its whole turn", tag="messages",
               response=schemas.MESSAGES_DELETED)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, message_id: str) -> None:
        deleted = self.sessions.delete_message(principal(req).tenant_id, message_id)
        resp.media = {"id": message_id, "object": "message", "deleted": True, "deleted_ids": deleted}
