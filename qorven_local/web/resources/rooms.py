"""/v1/rooms: create and read rooms, post a turn (JSON or SSE), read the transcript, decide."""

from __future__ import annotations

import threading
from typing import Any

import falcon

from qorven_local.agents.events import AnswerDelta, Delegated, RunEvent, ToolCalled, ToolFinished
from qorven_local.rooms.service import RoomService
from qorven_local.rooms.types import RoomMessage
from qorven_local.security.ratelimit import ConcurrencyCap
from qorven_local.web.io import page_args, page_body, principal, query_choice, read_body
from qorven_local.web.schemas import NULLABLE_STR, TIMESTAMP, list_of
from qorven_local.web.spec import PAGED, Param, Route, operation
from qorven_local.web.sse import DONE, SSEBridge, bridge_for, named, respond_stream, tool_event

DECISION = {
    "type": ["object", "null"],
    "required": ["outcome", "summary", "votes", "decided_at"],
    "properties": {
        "outcome": {"type": "string"}, "summary": {"type": "string"},
        "votes": {"type": "array", "items": {
            "type": "object", "required": ["agent_id", "vote", "rationale"],
            "properties": {"agent_id": {"type": "string"},
                           "vote": {"type": ["string", "null"], "description": "null: abstained"},
                           "rationale": {"type": "string"}}}},
        "decided_at": TIMESTAMP,
        "method": {"enum": ["vote", "chair", "human"]}, "question": {"type": "string"},
    },
}

ROOM = {
    "type": "object",
    "required": ["id", "object", "name", "topic", "members", "chair_agent_id", "mode", "status", "decision",
                 "created_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "room"}, "name": {"type": "string"},
        "topic": {"type": "string"}, "members": {"type": "array", "items": {"type": "string"},
                                                 "description": "agent ids, in speaking order"},
        "chair_agent_id": {"type": "string"}, "mode": {"enum": ["round_robin", "mention"]},
        "status": {"enum": ["open", "decided"]}, "decision": DECISION, "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
}

ROOM_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["name", "members"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "topic": {"type": "string", "maxLength": 2000},
        "members": {"type": "array", "minItems": 1, "maxItems": 12,
                    "items": {"type": "string", "minLength": 1, "maxLength": 100},
                    "description": "agent ids or names, in speaking order"},
        "chair_agent_id": {"type": "string", "minLength": 1, "maxLength": 100,
                           "description": "a member (id or name); default the first member"},
        "mode": {"enum": ["round_robin", "mention"], "default": "round_robin"},
    },
}

ROOM_MESSAGE = {
    "type": "object",
    "required": ["id", "object", "room_id", "role", "agent_id", "kind", "content", "session_id", "status", "error",
                 "created_at"],
    "properties": {
        "id": {"type": "string"}, "object": {"const": "room.message"}, "room_id": {"type": "string"},
        "role": {"enum": ["user", "assistant"], "description": "user: the human; assistant: a member"},
        "agent_id": NULLABLE_STR, "kind": {"enum": ["message", "vote", "ruling"]}, "content": {"type": "string"},
        "session_id": {"type": ["string", "null"], "description": "the member's room session that produced it"},
        "status": {"enum": ["complete", "failed"]}, "error": {"type": ["object", "null"]},
        "created_at": TIMESTAMP,
    },
}

ROOM_PATCH = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"},
        "topic": {"type": "string", "maxLength": 2000},
        "status": {"enum": ["open"], "description": "reopen a decided room (its decision is cleared); a room "
                                                   "becomes decided only through POST /v1/rooms/{id}/decide"},
    },
}

ROOM_DELETED = {
    "type": "object", "required": ["id", "object", "deleted"],
    "properties": {"id": {"type": "string"}, "object": {"const": "room"}, "deleted": {"const": True}},
}

POST_REQUEST = {
    "type": "object", "additionalProperties": False, "required": ["content"],
    "properties": {"content": {"type": "string", "minLength": 1, "maxLength": 20000},
                   "stream": {"type": "boolean", "default": False}},
}

POST_RESPONSE = {**list_of(ROOM_MESSAGE)}
POST_RESPONSE["properties"] = {**POST_RESPONSE["properties"], "note": {
    "type": ["string", "null"], "description": "a hint when nobody replies (a mention-mode post naming no member)"}}

DECIDE_REQUEST = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 2000, "description": "default: the topic"},
        "method": {"enum": ["chair", "vote"], "default": "vote"},
        "decision": {"type": "string", "minLength": 1, "maxLength": 5000,
                     "description": "record this human decision directly (no agent runs)"},
    },
}


class RoomsResource:
    """/v1/rooms: list and create."""

    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms

    @operation(summary="List rooms (newest first)", tag="rooms", response=list_of(ROOM),
               query=PAGED + (Param("status", {"enum": ["open", "decided"]}, "only this status"),))
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page = self.rooms.list_page(principal(req).tenant_id, status=query_choice(req, "status", ("open", "decided")),
                                    **page_args(req))
        resp.media = page_body(page)

    @operation(summary="Create a room with members (speaking order) and a chair", tag="rooms", request=ROOM_CREATE,
               response=ROOM, status=201)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        room = self.rooms.create(principal(req).tenant_id, read_body(req, ROOM_CREATE))
        resp.status = 201
        resp.media = room.to_dict()


class RoomResource:
    """/v1/rooms/{room_id}: one room: read, rename or reopen, delete."""

    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms

    @operation(summary="Get a room", tag="rooms", response=ROOM)
    def on_get(self, req: falcon.Request, resp: falcon.Response, room_id: str) -> None:
        resp.media = self.rooms.get(principal(req).tenant_id, room_id).to_dict()

    @operation(summary="Rename a room, change its topic, or reopen it after a decision", tag="rooms",
               request=ROOM_PATCH, response=ROOM, errors=("conflict",),
               description="status=open on a decided room clears its decision and opens the discussion again; "
                           "status=decided is refused (decide with POST /v1/rooms/{id}/decide). 409 conflict "
                           "while a turn runs.")
    def on_patch(self, req: falcon.Request, resp: falcon.Response, room_id: str) -> None:
        body = read_body(req, ROOM_PATCH)
        resp.media = self.rooms.update(principal(req).tenant_id, room_id, body).to_dict()

    @operation(summary="Delete a room and its transcript (the members' room sessions are kept)", tag="rooms",
               response=ROOM_DELETED, errors=("conflict",))
    def on_delete(self, req: falcon.Request, resp: falcon.Response, room_id: str) -> None:
        room = self.rooms.delete(principal(req).tenant_id, room_id)
        resp.media = {"id": room.id, "object": "room", "deleted": True}


class RoomMessagesResource:
    """/v1/rooms/{room_id}/messages: the transcript, and posting a turn (JSON or SSE)."""

    def __init__(self, rooms: RoomService, sse_ping_s: float, streams: ConcurrencyCap) -> None:
        self.rooms = rooms
        self.sse_ping_s = sse_ping_s
        self.streams = streams

    @operation(summary="The room's transcript (oldest first)", tag="rooms", response=list_of(ROOM_MESSAGE),
               query=PAGED)
    def on_get(self, req: falcon.Request, resp: falcon.Response, room_id: str) -> None:
        page = self.rooms.messages_page(principal(req).tenant_id, room_id, **page_args(req))
        resp.media = page_body(page)

    @operation(summary="Post to a room: the members answer in turn (JSON list of the new messages, or SSE)",
               tag="rooms", request=POST_REQUEST, response=POST_RESPONSE, stream=True,
               errors=("conflict", "too_many_runs"),
               description="round_robin: every member answers, each seeing the earlier replies; mention: only "
                           "the members named @name, in mention order. Each answer is a plan-run. With "
                           "stream=true the answer is SSE: `event: room.message` per stored message (the human's "
                           "first), `event: room.delta` {message_id, agent_id, text} per token, `event: "
                           "tool_call`/`tool_result` with agent_id, then `data: [DONE]`. A mention-mode post that names no "
                           "member is stored but nobody replies: the JSON answer's `note` (else null), or `event: "
                           "room.note` {note}, says so and names the members to address. A member whose run failed "
                           "appears as a message with status failed and its error. 409 conflict when the room is "
                           "decided or busy with another turn; 503 too_many_runs when no run slot is free.")
    def on_post(self, req: falcon.Request, resp: falcon.Response, room_id: str) -> None:
        body = read_body(req, POST_REQUEST)
        tenant = principal(req).tenant_id
        if not body.get("stream"):
            notes: list[str] = []
            messages = self.rooms.post(tenant, room_id, body["content"], on_note=notes.append)
            resp.media = {"object": "list", "data": [m.to_dict() for m in messages], "has_more": False,
                          "next_cursor": None, "note": notes[0] if notes else None}
            return
        cancel = threading.Event()
        bridge = bridge_for(req, cancel, self.sse_ping_s, self.streams.acquire(tenant))
        put = bridge.put

        def on_message(message: RoomMessage) -> None:
            put(named("room.message", message.to_dict()))

        def on_note(note: str) -> None:
            put(named("room.note", {"note": note}))

        def on_event(message: RoomMessage, event: RunEvent) -> None:
            match event:
                case AnswerDelta():
                    put(named("room.delta", {"message_id": message.id, "agent_id": message.agent_id,
                                             "text": event.text}))
                case ToolCalled() | ToolFinished() | Delegated():
                    name, data = tool_event(event)
                    put(named(name, {"message_id": message.id, "agent_id": message.agent_id, **data}))

        def produce(_: SSEBridge) -> None:
            self.rooms.post(tenant, room_id, body["content"], on_message=on_message, on_event=on_event,
                            cancel=cancel, on_note=on_note)
            put(DONE)

        bridge.start(produce, name="room-turn")
        # failures before the first event (404, 409, 503) keep their HTTP status
        respond_stream(resp, bridge, getattr(req.context, "request_id", None))


class RoomDecideResource:
    """/v1/rooms/{room_id}/decide: reach and record the room's decision."""

    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms

    @operation(summary="Decide: by vote (majority, ties to the chair), by the chair's ruling, or record a human "
                       "decision", tag="rooms", request=DECIDE_REQUEST, response=ROOM,
               errors=("conflict", "too_many_runs"),
               description="Each member states a position as {vote, rationale} (an answer that is not such JSON, "
                           "or whose vote is no real choice, e.g. blank or the instructions' <placeholder> echoed "
                           "back, counts as an abstention with its text as rationale; with no real vote at all the "
                           "outcome is \"no decision\" and the summary says so). method=vote: most votes win; a "
                           "tie goes to the chair. method=chair: the chair reads the positions and rules. "
                           "{\"decision\": \"text\"} records a human decision without agent runs. The room becomes "
                           "decided; deciding again is 409 conflict.")
    def on_post(self, req: falcon.Request, resp: falcon.Response, room_id: str) -> None:
        body: dict[str, Any] = read_body(req, DECIDE_REQUEST)
        room = self.rooms.decide(principal(req).tenant_id, room_id, method=body.get("method"),
                                 question=body.get("question"), decision=body.get("decision"))
        resp.media = room.to_dict()


def room_routes(rooms: RoomService, sse_ping_s: float, streams: ConcurrencyCap) -> list[Route]:
    """The /v1/rooms routes over the RoomService."""
    return [
        Route("/v1/rooms", RoomsResource(rooms)),
        Route("/v1/rooms/{room_id}", RoomResource(rooms)),
        Route("/v1/rooms/{room_id}/messages", RoomMessagesResource(rooms, sse_ping_s, streams)),
        Route("/v1/rooms/{room_id}/decide", RoomDecideResource(rooms)),
    ]
