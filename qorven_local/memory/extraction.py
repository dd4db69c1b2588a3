"""Memories from a finished exchange: the model call that asks for them and a tolerant reply parser.

``MemoryService.after_run`` sends ``extraction_messages`` to the agent's model and saves what
``parse_extracted`` finds in the reply (at most ``MAX_EXTRACTED``).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from qorven_local.memory.types import KINDS

MAX_EXTRACTED = 5             # memories saved from one run at most

EXTRACTION_PROMPT = """You maintain an assistant's long-term memory. From the exchange below, pick out what is \
worth remembering in later conversations: durable facts about the user or their work, stated preferences, \
decisions, names, identifiers and how-tos. Skip small talk, one-off requests and anything only true right now.

Answer with JSON only, no prose:
{"memories": [{"content": "<one self-contained sentence>", "kind": "fact|preference|note|skill|summary", \
"importance": <0..1>}]}
Answer {"memories": []} when nothing is worth keeping."""


def extraction_messages(user_text: str, answer_text: str) -> list[dict[str, str]]:
    """The one model call of the post-run step."""
    exchange = f"User:\n{user_text.strip()[:6000]}\n\nAssistant:\n{(answer_text or '').strip()[:6000]}"
    return [{"role": "system", "content": EXTRACTION_PROMPT}, {"role": "user", "content": exchange}]


def _json_values(text: str) -> Iterator[Any]:
    """Every JSON object or array that can be decoded starting at a ``{`` or ``[`` in ``text``."""
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                value, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            yield value


def parse_extracted(reply: str) -> list[dict[str, Any]]:
    """Memories from the model's reply, tolerating code fences, prose around the JSON, a bare
    list, strings instead of objects and unknown kinds (which become ``fact``)."""
    if not isinstance(reply, str):
        return []
    for value in _json_values(reply):
        items = None
        if isinstance(value, dict):
            for key in ("memories", "facts", "items"):
                if isinstance(value.get(key), list):
                    items = value[key]
                    break
            if items is None and isinstance(value.get("content"), str):
                items = [value]
        elif isinstance(value, list):
            items = value
        if items is None:
            continue
        out = []
        for item in items:
            if isinstance(item, str):
                item = {"content": item}
            if not isinstance(item, dict):
                continue
            content = item.get("content") or item.get("fact") or item.get("text")
            if not isinstance(content, str) or not content.strip():
                continue
            kind = item.get("kind") if item.get("kind") in KINDS else "fact"
            importance = item.get("importance")
            if isinstance(importance, bool) or not isinstance(importance, (int, float)):
                importance = None
            else:
                importance = min(1.0, max(0.0, float(importance)))
            out.append({"content": content.strip()[:2000], "kind": kind, "importance": importance})
        return out
    return []
