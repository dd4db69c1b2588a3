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
    """One heading per turn (a run's tool calls and its answer read under one), each tool call with its
    arguments and result, times in UTC to the minute."""
    lines = [f"# {session.title or 'Conversation with ' + agent_name}", "",
             f"*{agent_name} · {session.channel} · started {_when(session.created_at)} · "
             f"exported {_when(exported_at)}*", ""]
    results = {m.tool_call_id: m for m in messages if m.role == "tool" and m.tool_call_id}
    previous = ""
    for m in messages:
        if m.role == "tool":
            if m.tool_call_id in results:
                continue  # shown under the call that asked for it
            lines += ["**Tool result**", "", *_fenced(m.content or ""), ""]
            continue
        author = "You" if m.role == "user" else agent_name if m.role == "assistant" else m.role
        if m.role != "assistant" or previous != "assistant":
            model = f" · {m.model}" if m.model else ""  # which model wrote the answer, when known
            lines += [f"## {author} · {_when(m.created_at)}{model}", ""]
        previous = m.role
        if m.content:
            lines += [m.content, ""]
        for call in m.tool_calls or []:
            lines += _tool_call(call, results.get(str(call.get("id") or "")))
        if m.status == "stopped":
            lines += ["*(stopped)*", ""]
        elif m.status == "failed":
            lines += [f"*(failed: {(m.error or {}).get('message', 'the reply failed')})*", ""]
    return "\n".join(lines)


def _tool_call(call: dict[str, Any], result: Message | None) -> list[str]:
    """A tool call as the reader wants it: which tool, with what, and what came back."""
    args = (call.get("function") or {}).get("arguments", call.get("arguments"))
    lines = [f"**Tool `{_tool_name(call)}`**", "", "Arguments:", "", *_fenced(args), ""]
    if result is not None:
        lines += ["Result:", "", *_fenced(result.content or ""), ""]
    return lines


def _fenced(value: Any) -> list[str]:
    """``value`` in a code fence: JSON pretty-printed, the fence longer than any backtick run inside."""
    text, lang = value if isinstance(value, str) else json.dumps(value), ""
    try:
        text, lang = json.dumps(json.loads(text), ensure_ascii=False, indent=2), "json"
    except (TypeError, ValueError):
        pass
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return [fence + lang, text, fence]


def _when(iso: str | None) -> str:
    """``2026-12-02T13:16:53.263Z`` as ``2026-12-02 13:16 UTC`` (stored times are UTC)."""
    if not iso:
        return ""
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 and iso.endswith("Z") else iso


def _tool_name(call: dict[str, Any]) -> str:
    return str((call.get("function") or {}).get("name") or call.get("name") or "tool")


def _slug(title: str | None) -> str:
    """A file-name-safe ASCII slug of a title (empty when nothing usable is left)."""
    return re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")[:48].strip("-")
