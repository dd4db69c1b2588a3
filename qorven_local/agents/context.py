"""The model's context for one run: instructions, recalled memories and history within a token budget.

Tokens are estimated (4 characters per token, plus a little per message): good enough to keep a
long session inside a model's window without a tokenizer per provider.
"""

from __future__ import annotations

import json
from typing import Any

from qorven_local.agents.types import Agent, Message
from qorven_local.providers.normalize import content_text

CHARS_PER_TOKEN = 4
PER_MESSAGE_TOKENS = 4
DEFAULT_CONTEXT_TOKENS = 8192     # when the catalog does not say how large the model's window is
ANSWER_RESERVE_TOKENS = 1024      # room left for the answer
HISTORY_LIMIT = 200               # stored messages considered at most


def estimate_tokens(message: dict[str, Any]) -> int:
    size = len(content_text(message.get("content")))
    if message.get("tool_calls"):
        size += len(json.dumps(message["tool_calls"]))
    return size // CHARS_PER_TOKEN + PER_MESSAGE_TOKENS


def system_prompt(agent: Agent, extra_system: str | None, memories: list[dict[str, Any]]) -> str:
    """The agent's instructions, then any extra context, then the recalled memories."""
    parts = [agent.instructions.strip() or f"You are {agent.display_name}, a helpful assistant."]
    if extra_system:
        parts.append(extra_system.strip())
    if memories:
        lines = "\n".join(f"- {source_label(m)}{m.get('content', '')}" for m in memories)
        parts.append("Things you remember that may be relevant (they may be outdated; prefer what the user "
                     "says now):\n" + lines)
        if any(m.get("document") for m in memories):
            parts.append("Passages marked [from \"title\", place] come from the user's documents: when you use "
                         "one, cite it by that title and place.")
    return "\n\n".join(parts)


def source_label(memory: dict[str, Any]) -> str:
    """``[from "Title", p. 3] `` for a passage of a document (so the answer can cite it), else ''."""
    document = memory.get("document") or {}
    if not document.get("title"):
        return ""
    place = f", {document['locator']}" if document.get("locator") else ""
    return f"[from \"{document['title']}\"{place}] "


def stored_to_openai(message: Message) -> dict[str, Any]:
    """A stored message as an OpenAI chat message."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = message.tool_calls
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def paired_tool_calls(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History that providers accept: an assistant's ``tool_calls`` only when every call has its
    ``tool`` result right after it, and no ``tool`` message without its call (e.g. after a crash)."""
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(history):
        message = history[i]
        if message.get("role") == "assistant" and message.get("tool_calls"):
            wanted = {c.get("id") for c in message["tool_calls"]}
            j = i + 1
            results = []
            while j < len(history) and history[j].get("role") == "tool":
                results.append(history[j])
                j += 1
            if wanted == {r.get("tool_call_id") for r in results}:
                out.append(message)
                out.extend(results)
            elif message.get("content"):
                out.append({"role": "assistant", "content": message["content"]})
            i = j
            continue
        if message.get("role") != "tool":
            out.append(message)
        i += 1
    return out


def fit_history(history: list[dict[str, Any]], budget_tokens: int) -> list[dict[str, Any]]:
    """The newest messages that fit ``budget_tokens``; never starts with an orphaned tool result."""
    kept: list[dict[str, Any]] = []
    used = 0
    for message in reversed(history):
        cost = estimate_tokens(message)
        if used + cost > budget_tokens:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    if not kept and history:  # the newest turn always goes, even over budget
        return [history[-1]]
    while kept and kept[0].get("role") == "tool":
        kept.pop(0)
    return kept


def build_messages(*, agent: Agent, history: list[dict[str, Any]], user_message: str | None,
                   memories: list[dict[str, Any]], extra_system: str | None = None,
                   context_tokens: int | None = None) -> list[dict[str, Any]]:
    """System prompt + as much recent history as fits + the new user turn (if any)."""
    system = {"role": "system", "content": system_prompt(agent, extra_system, memories)}
    user = [{"role": "user", "content": user_message}] if user_message is not None else []
    window = context_tokens or DEFAULT_CONTEXT_TOKENS
    budget = window - ANSWER_RESERVE_TOKENS - estimate_tokens(system) - sum(estimate_tokens(u) for u in user)
    return [system] + fit_history(history, max(0, budget)) + user
