"""What an agent run reports while it runs: one frozen dataclass per fact, in the order they happen.

The loop emits each fact once; every consumer renders it in its own wire format: the hub
publisher (``agents/publish.py``, for ``/ws``), the chat and rooms SSE writers (with
``web/sse.py``) and the delegation forwarder (``agents/delegation.py``). Consumers ``match`` on
the classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

from qorven_local.agents.types import Message


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
    """The run ended normally; ``usage`` is summed over its model calls; ``tool_calls`` are client tool calls
    (OpenAI format) the run ended on, for the client to run."""

    finish_reason: str
    usage: dict[str, int] | None
    tool_calls: list[dict[str, Any]] | None = None


RunEvent = Union[RunStarted, MemoryRecalled, StatusChanged, AnswerDelta, MessageStored, MessageCompleted,
                 ToolCalled, ToolFinished, Delegated, RunFinished]
RunListener = Callable[[RunEvent], None]

