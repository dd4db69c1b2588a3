"""Lenient OpenAI chat input → what each upstream accepts.

Clients send the whole OpenAI surface (``developer`` role, content-part arrays, ``stop`` as a string or
list); OpenAI takes all of it, but local servers (Ollama, llama.cpp, LM Studio) often reject the newer
shapes. For those kinds, ``developer`` becomes ``system`` and text-only part arrays become strings.
Anthropic's adapter translates everything itself.
"""

from __future__ import annotations

from typing import Any

ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def content_text(content: Any) -> str:
    """The text of a message content (string or parts); non-text parts are skipped."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") or p.get("refusal", "") for p in content
                       if isinstance(p, dict) and p.get("type") in ("text", "input_text", "refusal"))
    return str(content)


def _text_only(content: Any) -> bool:
    return isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") in ("text", "input_text", "refusal") for p in content)


def for_upstream(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Messages in the shape ``kind`` accepts (a new list; the input is not changed)."""
    if kind in ("openai", "anthropic"):
        return messages
    out = []
    for msg in messages:
        role = msg.get("role")
        content = msg.get("content")
        if role == "developer" or _text_only(content):
            msg = dict(msg)
            if role == "developer":
                msg["role"] = "system"
            if _text_only(content):
                msg["content"] = content_text(content)
        out.append(msg)
    return out


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for msg in reversed(messages):
        if msg.get("role") == "user":
            return content_text(msg.get("content"))
    return ""
