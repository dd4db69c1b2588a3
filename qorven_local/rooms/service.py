"""Rooms: several agents in one conversation, taking turns, and deciding together.

Turn-taking. A human post is stored, then members answer one after another, each as a plan-run
through the AgentRunner (so each counts against the tenant's concurrency limit while it runs).
``round_robin``: every member, in member order; ``mention``: only the members named ``@name`` in
the post, in mention order. Every member answers in its own ``room`` session, created with the
room; its prompt is the room's messages since that member last spoke, as ``[name]: text`` lines,
so a later member sees the earlier replies of the same turn and the session history carries
everything before. One turn (post or decide) runs at a time per room; another one meanwhile is a
409. A member whose run fails leaves a ``failed`` room message with the error and the turn goes on.

Deciding. Every member states a position as JSON ``{"vote", "rationale"}`` (parsed leniently: an
answer without such an object is an abstention with the text as rationale). ``vote``: the most
votes win (compared case-insensitively); a tie goes to the chair's vote if it is one of the tied
options, else the chair is asked to pick between them. ``chair``: the chair reads the positions
and rules with ``{"outcome", "summary"}``. A human decision is recorded as given. The room is then
``decided`` (a second decide is a 409, and so is posting: the discussion is closed). A vote that
is not a real choice (empty, or the template's ``<placeholder>`` echoed back) is an abstention; a
vote with no real votes at all decides nothing and says so. Reopening a decided room (``update``
with ``status: open``) clears its decision so the discussion can go on.

A ``mention`` post naming no member is stored but nobody answers: ``mention_note`` says so, naming
the members to address, and the API passes that note on.
"""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from functools import partial
from typing import Any, Callable, Iterator

from qorven_local.agents.events import RunEvent
from qorven_local.agents.runner import AgentRunner
from qorven_local.agents.runs import RunRequest
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.clock import Clock, IdFactory
from qorven_local.errors import Conflict, NotFound, QorvenError, ValidationError
from qorven_local.events.hub import Hub
from qorven_local.agents.types import Agent
from qorven_local.models import Page
from qorven_local.rooms.types import Room, RoomMember, RoomMessage
from qorven_local.storage.db import Database
from qorven_local.storage.rooms import RoomStore

MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9_-]{0,47})", re.IGNORECASE)
MAX_MEMBERS = 12
HUMAN = "human"

VOTE_INSTRUCTIONS = (
    'Reply with only a JSON object, no other text: {"vote": "<your choice, in a few words>", '
    '"rationale": "<one or two sentences>"}')
RULING_INSTRUCTIONS = (
    'Reply with only a JSON object, no other text: {"outcome": "<the decision, in a few words>", '
    '"summary": "<why, in two or three sentences>"}')

OnMessage = Callable[[RoomMessage], None]
OnEvent = Callable[[RoomMessage, RunEvent], None]
Members = list[tuple[Agent, str]]   # (agent, its room session id), in speaking order


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in a model's answer (bare, fenced, or inside prose), else None."""
    start = text.find("{")
    decoder = json.JSONDecoder()
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def parse_vote(text: str) -> tuple[str | None, str]:
    """(vote, rationale) from a member's answer; no usable vote is an abstention (None, the text)."""
    data = parse_json_object(text or "")
    if data is not None:
        vote = data.get("vote")
        if isinstance(vote, (int, float)) and not isinstance(vote, bool):
            vote = str(vote)
        if isinstance(vote, str) and is_real_choice(vote):
            rationale = data.get("rationale")
            return vote.strip(), rationale.strip() if isinstance(rationale, str) else ""
    return None, (text or "").strip()


PLACEHOLDER = re.compile(r"^\s*<[^<>]*>\s*$")


def is_real_choice(vote: str) -> bool:
    """A vote names a choice: not blank, not bare punctuation, not a ``<placeholder>`` echoed back."""
    return bool(re.search(r"\w", vote)) and not PLACEHOLDER.match(vote)


def quoted(text: str) -> str:
    """``text`` in typographic quotes, as people read a choice in a summary (repr() shows Python's quoting)."""
    return f"“{text}”"


def vote_key(vote: str) -> str:
    """Votes that differ only in case, spacing or trailing punctuation are the same vote."""
    return " ".join(vote.casefold().split()).rstrip(".!")


def mentioned(content: str, members: list[Agent]) -> list[Agent]:
    """The members named ``@name`` in ``content``, in mention order, each once."""
    by_name = {a.name.lower(): a for a in members}
    chosen: list[Agent] = []
    for match in MENTION.finditer(content):
        agent = by_name.get(match.group(1).lower())
        if agent is not None and agent not in chosen:
            chosen.append(agent)
    return chosen


def mention_note(members: list[Agent]) -> str:
    """The hint for a mention-mode post that names no member: who can be addressed, and how."""
    names = ", ".join(f"@{a.name}" for a in members)
    return f"Nobody was mentioned, so no member replies. In this room, address members by name: {names}."


class RoomService:
    """Create and read rooms, post turns, decide."""

    def __init__(self, *, db: Database, agents: AgentService, sessions: SessionService, runner: AgentRunner,
                 hub: Hub, ids: IdFactory, clock: Clock) -> None:
        self.db = db
        self.agents = agents
        self.sessions = sessions
        self.runner = runner
        self.hub = hub
        self.ids = ids
        self.clock = clock
        self.store = RoomStore(db)
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()

    # -- rooms ------------------------------------------------------------------------------------
    def create(self, tenant_id: str, fields: dict[str, Any]) -> Room:
        """A room with its members (ids or names, in speaking order) and a chair among them."""
        refs = list(fields["members"])
        agents: list[Agent] = []
        for ref in refs:
            agent = self.agents.require(tenant_id, ref, param="members")
            if agent in agents:
                raise ValidationError(f"agent {agent.name} is listed twice", param="members")
            agents.append(agent)
        chair_ref = fields.get("chair_agent_id")
        chair = agents[0] if chair_ref is None else self.agents.resolve(tenant_id, chair_ref)
        if chair is None or chair not in agents:
            raise ValidationError("the chair must be one of the members", param="chair_agent_id")
        now = self.clock.iso()
        room = Room(id=self.ids.new("room"), tenant_id=tenant_id, name=fields["name"],
                    topic=fields.get("topic") or "", chair_agent_id=chair.id, mode=fields.get("mode", "round_robin"),
                    status="open", decision=None, created_at=now, updated_at=now)
        with self.db.write() as conn:
            for position, agent in enumerate(agents):
                session, _ = self.sessions.open(tenant_id, agent.id, "room", None, f"Room: {room.name}")
                room.members.append(RoomMember(agent.id, position, session.id))
            self.store.insert(conn, room)
        return room

    def get(self, tenant_id: str, room_id: str) -> Room:
        room = self.store.get(tenant_id, room_id)
        if room is None:
            raise NotFound(f"room {room_id} not found")
        return room

    def list_page(self, tenant_id: str, *, status: str | None, limit: int | None, cursor: str | None) -> Page:
        return self.store.page(tenant_id, status=status, limit=limit, cursor=cursor)

    def messages_page(self, tenant_id: str, room_id: str, *, limit: int | None, cursor: str | None) -> Page:
        self.get(tenant_id, room_id)
        return self.store.messages_page(tenant_id, room_id, limit=limit, cursor=cursor)

    # -- turns ------------------------------------------------------------------------------------
    def update(self, tenant_id: str, room_id: str, fields: dict[str, Any]) -> Room:
        """Rename a room, change its topic, or reopen it (``status: open`` clears the decision)."""
        room = self.get(tenant_id, room_id)
        status = fields.get("status")
        changes: dict[str, Any] = {key: fields[key] for key in ("name", "topic") if key in fields}
        reopen = status == "open" and room.status == "decided"
        with self._turn(room):
            with self.db.write() as conn:
                self.store.update(conn, tenant_id, room.id, changes, reopen=reopen, now=self.clock.iso())
        return self.get(tenant_id, room.id)

    def delete(self, tenant_id: str, room_id: str) -> Room:
        """Delete a room and its transcript (the members' room sessions stay, like any conversation)."""
        room = self.get(tenant_id, room_id)
        with self._turn(room):
            with self.db.write() as conn:
                self.store.delete(conn, tenant_id, room.id)
        return room

    def post(self, tenant_id: str, room_id: str, content: str, *, on_message: OnMessage | None = None,
             on_event: OnEvent | None = None, cancel: threading.Event | None = None,
             on_note: Callable[[str], None] | None = None) -> list[RoomMessage]:
        """Store the human's message, then let the members answer; returns every new message.

        ``on_note`` hears the hint when a mention-mode post names no member (nobody answers then)."""
        room = self.get(tenant_id, room_id)
        if room.status != "open":
            raise Conflict(f"room {room.id} is decided; its discussion is closed")
        with self._turn(room):
            members = self._members(room)
            speakers = [a for a, _ in members] if room.mode == "round_robin" else \
                mentioned(content, [a for a, _ in members])
            if speakers:
                self.runner.check_capacity(tenant_id)
            new = [self._add(room, role="user", agent_id=None, kind="message", content=content,
                             on_message=on_message)]
            if not speakers and on_note is not None:
                on_note(mention_note([a for a, _ in members]))
            sessions = {a.id: s for a, s in members}
            for agent in speakers:
                if cancel is not None and cancel.is_set():
                    break
                new.append(self._reply(room, agent, sessions[agent.id], members, None, kind="message",
                                       on_message=on_message, on_event=on_event, cancel=cancel))
        return new

    def decide(self, tenant_id: str, room_id: str, *, method: str | None, question: str | None,
               decision: str | None = None, on_message: OnMessage | None = None) -> Room:
        """Reach and record the room's decision (see the module docstring)."""
        room = self.get(tenant_id, room_id)
        if room.status != "open":
            raise Conflict(f"room {room.id} is already decided")
        question = (question or room.topic or "the matter under discussion").strip()
        with self._turn(room):
            if decision is not None:
                result = {"method": "human", "question": question, "outcome": decision, "summary": decision,
                          "votes": []}
            else:
                result = self._deliberate(room, method or "vote", question, on_message)
            result["decided_at"] = now = self.clock.iso()
            with self.db.write() as conn:
                if not self.store.mark_decided(conn, tenant_id, room.id, result, now):
                    raise Conflict(f"room {room.id} is already decided")
        room = self.get(tenant_id, room.id)
        self._publish(room, "room.decided", room.to_dict())
        return room

    def _deliberate(self, room: Room, method: str, question: str, on_message: OnMessage | None) -> dict[str, Any]:
        members = self._members(room)
        self.runner.check_capacity(room.tenant_id)
        chair = next(a for a, _ in members if a.id == room.chair_agent_id)
        chair_session = next(s for a, s in members if a.id == chair.id)
        votes: list[dict[str, Any]] = []
        prompt = f"The room must now decide: {question}\nState your position. {VOTE_INSTRUCTIONS}"
        for agent, session_id in members:
            message = self._reply(room, agent, session_id, members, prompt, kind="vote", on_message=on_message)
            vote, rationale = parse_vote(message.content) if message.status == "complete" else (None, "")
            if message.status != "complete":
                rationale = f"no answer: {(message.error or {}).get('message', 'the run failed')}"
            votes.append({"agent_id": agent.id, "vote": vote, "rationale": rationale})
        if method == "chair":
            positions = "\n".join(f"- {a.name}: {v['vote'] or 'abstains'} — {v['rationale']}"
                                  for (a, _), v in zip(members, votes))
            ruling = self._reply(room, chair, chair_session, members,
                                 f"As chair, rule on: {question}\nThe positions:\n{positions}\n{RULING_INSTRUCTIONS}",
                                 kind="ruling", on_message=on_message)
            data = parse_json_object(ruling.content) or {}
            outcome = data.get("outcome") if isinstance(data.get("outcome"), str) else None
            if outcome is not None and not is_real_choice(outcome):
                outcome = None
            summary = data.get("summary") if isinstance(data.get("summary"), str) else None
            text = ruling.content.strip()
            return {"method": "chair", "question": question,
                    "outcome": (outcome or (text.splitlines()[0] if text else "no ruling"))[:500],
                    "summary": summary or text, "votes": votes}
        return self._count(room, chair, chair_session, members, question, votes, on_message)

    def _count(self, room: Room, chair: Agent, chair_session: str, members: Members, question: str,
               votes: list[dict[str, Any]], on_message: OnMessage | None) -> dict[str, Any]:
        tally: dict[str, list[str]] = {}   # key -> [first spelling, *voter ids]
        for v in votes:
            if v["vote"] is not None:
                tally.setdefault(vote_key(v["vote"]), [v["vote"]]).append(v["agent_id"])
        counted = sum(len(t) - 1 for t in tally.values())
        if not tally:
            return {"method": "vote", "question": question, "outcome": "no decision",
                    "summary": f"No member cast a real vote ({len(votes)} abstained or gave no choice), "
                               "so nothing was decided.", "votes": votes}
        best = max(len(t) - 1 for t in tally.values())
        tied = [key for key, t in tally.items() if len(t) - 1 == best]
        names = {a.id: a.name for a, _ in members}
        if len(tied) == 1:
            winner = tied[0]
            how = f"{best} of {len(votes)} members voted for {quoted(tally[winner][0])}"
        else:
            chair_vote = next((v["vote"] for v in votes if v["agent_id"] == chair.id), None)
            if chair_vote is not None and vote_key(chair_vote) in tied:
                winner = vote_key(chair_vote)
            else:
                options = " and ".join(quoted(tally[k][0]) for k in tied)
                ruling = self._reply(room, chair, chair_session, members,
                                     f"The vote on {quoted(question)} is tied between {options}. As chair, break the tie "
                                     f"by choosing one of them. {VOTE_INSTRUCTIONS}", kind="ruling",
                                     on_message=on_message)
                pick, _ = parse_vote(ruling.content) if ruling.status == "complete" else (None, "")
                winner = vote_key(pick) if pick is not None and vote_key(pick) in tied else tied[0]
            how = (f"the vote tied {best}-{best} between " + " and ".join(quoted(tally[k][0]) for k in tied)
                   + f"; the chair ({names[chair.id]}) broke the tie for {quoted(tally[winner][0])}")
        others = ", ".join(f"{len(t) - 1} for {quoted(tally[k][0])}" for k, t in tally.items() if k != winner)
        abstained = len(votes) - counted
        summary = how + (f" ({others})" if others else "") + \
            (f"; {abstained} abstained" if abstained else "") + "."
        return {"method": "vote", "question": question, "outcome": tally[winner][0], "summary": summary[0].upper()
                + summary[1:], "votes": votes}

    # -- one member's answer ---------------------------------------------------------------------
    def _reply(self, room: Room, agent: Agent, session_id: str, members: Members, instruction: str | None, *,
               kind: str, on_message: OnMessage | None, on_event: OnEvent | None = None,
               cancel: threading.Event | None = None) -> RoomMessage:
        """Run ``agent`` on what it has not seen yet (plus ``instruction``); store its answer."""
        tenant = room.tenant_id
        names = {a.id: a.name for a, _ in members}
        unseen = self.store.unseen_by(tenant, room.id, agent.id)
        lines = [f"[{names.get(m.agent_id, 'former member') if m.agent_id else HUMAN}]: {m.content}"
                 for m in unseen if m.status == "complete"]
        if instruction:
            lines.append(instruction)
        message = RoomMessage(id=self.ids.new("msg"), tenant_id=tenant, room_id=room.id, role="assistant",
                              agent_id=agent.id, kind=kind, content="", session_id=session_id)
        forward = partial(on_event, message) if on_event is not None else None
        try:
            session = self.sessions.get(tenant, session_id)
            result = self.runner.run(RunRequest(
                tenant_id=tenant, agent=agent, session=session, user_message="\n\n".join(lines) or "(no new messages)",
                channel="room", extra_system=self._room_brief(room, agent, members), cancel=cancel,
                on_event=forward))
            message.content = result.content
            if result.finish_reason == "cancelled":
                message.status, message.error = "failed", {"code": "cancelled", "message": "the run was cancelled"}
        except QorvenError as exc:
            message.status, message.error = "failed", {"code": exc.code, "message": exc.message}
        return self._store(message, on_message)

    def _room_brief(self, room: Room, agent: Agent, members: Members) -> str:
        roster = "\n".join(f"- {a.name}" + (" (chair)" if a.id == room.chair_agent_id else "")
                           + (" (you)" if a.id == agent.id else "") + (f": {a.description}" if a.description else "")
                           for a, _ in members)
        topic = f" about: {room.topic}" if room.topic else ""
        return (f"You are {agent.name}, a member of the room \"{room.name}\"{topic}. Members:\n{roster}\n"
                f"Room messages reach you as \"[name]: text\" lines; [{HUMAN}] is the person running the room. "
                "Answer with your own contribution only, briefly, without speaking for the others.")

    # -- helpers ----------------------------------------------------------------------------------
    def _members(self, room: Room) -> Members:
        """(agent, session id) of each member that still exists, in speaking order."""
        out = []
        for member in room.members:
            agent = self.agents.resolve(room.tenant_id, member.agent_id)
            if agent is not None:
                out.append((agent, member.session_id))
        if not out:
            raise Conflict(f"room {room.id} has no remaining members")
        return out

    @contextmanager
    def _turn(self, room: Room) -> Iterator[None]:
        with self._busy_lock:
            if room.id in self._busy:
                raise Conflict(f"room {room.id} is busy with another turn; retry when it ends")
            self._busy.add(room.id)
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy.discard(room.id)

    def _add(self, room: Room, *, role: str, agent_id: str | None, kind: str, content: str,
             on_message: OnMessage | None) -> RoomMessage:
        message = RoomMessage(id=self.ids.new("msg"), tenant_id=room.tenant_id, room_id=room.id, role=role,
                              agent_id=agent_id, kind=kind, content=content, session_id=None)
        return self._store(message, on_message)

    def _store(self, message: RoomMessage, on_message: OnMessage | None) -> RoomMessage:
        message.created_at = self.clock.iso()
        with self.db.write() as conn:
            self.store.add_message(conn, message)
        self._publish_message(message)
        if on_message is not None:
            on_message(message)
        return message

    def _publish_message(self, message: RoomMessage) -> None:
        self.hub.publish(message.tenant_id, f"room:{message.room_id}", "room.message", message.to_dict())

    def _publish(self, room: Room, event: str, data: dict[str, Any]) -> None:
        self.hub.publish(room.tenant_id, f"room:{room.id}", event, data)
