"""What an agent run reports while it runs: one frozen dataclass per fact, in the order they happen.

The loop emits each fact once; every consumer renders it in its own wire format: the hub
publisher (``agents/publish.py``, for ``/ws``), the chat SSE writer, the rooms SSE writer and the
delegation forwarder (``agents/delegation.py``). Consumers ``match`` on the classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

from qorven_local.models import Message


@dataclass(frozen=True)
class RunStarted:
    """A stateful run began; ``message_id`` is the id its final assistant message will have."""

    session_id: str
    agent_id: str
    message_id: str


@dataclass(frozen=True)
class MemoryRecalled:
    """The agent's memory was consulted before the first model call."""

    recalled: list[dict[str, Any]]


@dataclass(frozen=True)
class StatusChanged:
    """The agent is ``thinking``, running a ``tool``, ``idle`` again, or ended in ``error``."""

    agent_id: str
    session_id: str | None
    status: str


@dataclass(frozen=True)
class AnswerDelta:
    """A piece of the answer's text; ``message_id`` is None for stateless runs."""

    message_id: str | None
    text: str


@dataclass(frozen=True)
class MessageStored:
    """A whole message row was written to the session (user turn, tool request, tool result)."""

    message: Message


@dataclass(frozen=True)
class MessageCompleted:
    """The run's final assistant message was written (``complete`` or ``failed``)."""

    message: Message


@dataclass(frozen=True)
class ToolCalled:
    """The model asked for a tool call; ``arguments`` as parsed (the raw string when not JSON)."""

    agent_id: str
    session_id: str | None
    call_id: str
    tool: str
    arguments: Any


@dataclass(frozen=True)
class ToolFinished:
    """A tool call ended; ``outcome`` is ``{ok, result | error, duration_ms}``."""

    agent_id: str
    session_id: str | None
    call_id: str
    tool: str
    outcome: dict[str, Any]


@dataclass(frozen=True)
class Delegated:
    """A tool event of a child run, seen by the run that delegated to it.

    ``parent_call_id`` is the parent's ``delegate`` call, ``depth`` the child's; ``agent`` is the
    child agent's name. A grandchild's events reach the grandparent as the child received them,
    so they name the grandchild and its depth.
    """

    parent_call_id: str | None
    depth: int
    agent: str
    event: ToolCalled | ToolFinished


@dataclass(frozen=True)
class RunFinished:
    """The run ended normally; ``usage`` is summed over its model calls."""

    finish_reason: str
    usage: dict[str, int] | None


@dataclass(frozen=True)
class RunFailed:
    """The run is about to raise the error it reports."""

    code: str
    message: str


RunEvent = Union[RunStarted, MemoryRecalled, StatusChanged, AnswerDelta, MessageStored, MessageCompleted,
                 ToolCalled, ToolFinished, Delegated, RunFinished, RunFailed]
RunListener = Callable[[RunEvent], None]


def tool_event_data(event: ToolCalled | ToolFinished | Delegated) -> dict[str, Any]:
    """The JSON object of a ``tool_call``/``tool_result`` stream event (chat and rooms SSE)."""
    match event:
        case ToolCalled():
            return {"call_id": event.call_id, "tool": event.tool, "arguments": event.arguments}
        case ToolFinished():
            return {"call_id": event.call_id, "tool": event.tool, **event.outcome}
        case Delegated(event=inner):
            return {"parent_call_id": event.parent_call_id, "depth": event.depth, "agent_id": inner.agent_id,
                    "agent": event.agent, "session_id": inner.session_id, **tool_event_data(inner)}
    raise TypeError(f"not a tool event: {event!r}")


def tool_event_name(event: ToolCalled | ToolFinished | Delegated) -> str:
    """``tool_call`` or ``tool_result``: the stream event name of a (possibly delegated) tool event."""
    inner = event.event if isinstance(event, Delegated) else event
    return "tool_call" if isinstance(inner, ToolCalled) else "tool_result"
