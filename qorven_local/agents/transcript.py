"""A conversation written out for people to keep: Markdown to read, JSON to process."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from qorven_local.agents.types import Message, Session

FORMATS = ("markdown", "json")


@dataclass(frozen=True)
class Transcript:
    """An export ready to download: its file name, media type and bytes."""

    filename: str
    media_type: str
    body: bytes


def transcript(session: Session, messages: list[Message], agent_name: str, fmt: str, exported_at: str) -> Transcript:
    """``session`` with its ``messages`` (oldest first) as a Markdown or JSON file."""
    stem = f"conversation-{_slug(session.title) or session.id}-{(session.created_at or exported_at)[:10]}"
    if fmt == "json":
        data = {"object": "conversation", "exported_at": exported_at, "agent": agent_name,
                "session": session.to_dict(), "messages": [m.to_dict() for m in messages]}
        return Transcript(stem + ".json", "application/json",
                          json.dumps(data, ensure_ascii=False, indent=2).encode())
    return Transcript(stem + ".md", "text/markdown; charset=utf-8", _markdown(session, messages, agent_name,
                                                                                 exported_at).encode())


def _markdown(session: Session, messages: list[Message], agent_name: str, exported_at: str) -> str:
    lines = [f"# {session.title or 'Conversation with ' + agent_name}", "",
             f"*{agent_name} · {session.channel} · started {session.created_at} · exported {exported_at}*", ""]
    for m in messages:
        if m.role == "tool":
            continue  # a call's result is summarised on the call itself; raw JSON does not read
        if m.role == "user":
            lines += [f"## You · {m.created_at}", ""]
        elif m.role == "assistant":
            lines += [f"## {agent_name} · {m.created_at}", ""]
        else:
            lines += [f"## {m.role} · {m.created_at}", ""]
        if m.content:
            lines += [m.content, ""]
        for call in m.tool_calls or []:
            lines += [f"> used the tool `{_tool_name(call)}`", ""]
        if m.status == "stopped":
            lines += ["*(stopped)*", ""]
        elif m.status == "failed":
            lines += [f"*(failed: {(m.error or {}).get('message', 'the reply failed')})*", ""]
    return "\n".join(lines)


def _tool_name(call: dict[str, Any]) -> str:
    return str((call.get("function") or {}).get("name") or call.get("name") or "tool")


def _slug(title: str | None) -> str:
    """A file-name-safe ASCII slug of a title (empty when nothing usable is left)."""
    return re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")[:48].strip("-")
