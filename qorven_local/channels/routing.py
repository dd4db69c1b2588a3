"""Which agent answers an inbound message, and on which channel name and peer its session lives.

Order: the binding's keyword rules (in the order they were saved; a keyword matches as a whole
word or phrase, case-insensitively, so "bill" does not match "billing"), then the routing's
``default_agent_id``, then the binding's own ``agent_id``. A rule naming an agent that has since
been deleted is skipped.

Session channel per kind (chat-family names are canonical: one session per agent and peer):
telegram -> telegram, whatsapp -> whatsapp, twilio_sms -> sms, slack -> slack_dm,
discord -> discord_dm, all keyed by the sender. Slack/Discord channel mentions use the sender's
``*_dm`` session too: the non-canonical ``slack``/``discord`` names would start a new session for
every message and lose the conversation. ``github`` and ``webhook`` are not chat-family channels;
their sessions are reused by peer instead: one active session per issue/pull request for GitHub
(peer ``owner/repo#12``, so everyone commenting on an issue shares its thread) and one per sender
for the generic webhook.
"""

from __future__ import annotations

import re
from typing import Callable

from qorven_local.channels.types import Binding, Inbound, Route

SESSION_CHANNEL = {
    "telegram": "telegram", "whatsapp": "whatsapp", "twilio_sms": "sms", "slack": "slack_dm",
    "discord": "discord_dm", "github": "github", "webhook": "webhook",
}


def keyword_matches(keyword: str, text: str) -> bool:
    """True if ``keyword`` stands in ``text`` as a whole word or phrase, case-insensitively."""
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(part) for part in keyword.split()) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def route(binding: Binding, text: str, agent_exists: Callable[[str], bool]) -> Route | None:
    """The agent for ``text`` under ``binding``'s rules; None if no candidate agent exists."""
    routing = binding.routing or {}
    for keyword, agent_id in (routing.get("keywords") or {}).items():
        if keyword.strip() and keyword_matches(keyword, text) and agent_exists(agent_id):
            return Route(agent_id, f"keyword:{keyword}")
    default = routing.get("default_agent_id")
    if default and agent_exists(default):
        return Route(default, "default_agent")
    if binding.agent_id and agent_exists(binding.agent_id):
        return Route(binding.agent_id, "binding_agent")
    return None


def session_channel(kind: str) -> str:
    """The session channel name for a binding kind."""
    return SESSION_CHANNEL[kind]


def session_peer(kind: str, inbound: Inbound) -> str:
    """The session's peer: the issue for GitHub, else the sender's provider id."""
    return inbound.chat_id if kind == "github" else inbound.sender
