"""The ``/ws`` view of an agent run: its events rendered as hub events on ``session:<id>`` and ``agent:<id>``.

    StatusChanged     agent.status       {agent_id, status, session_id}       agent:<id>
    MessageStored     message.created    the message                          session:<id>
    AnswerDelta       message.delta      {message_id, delta}                  session:<id>
    ToolCalled        tool.started       {call_id, tool, arguments, agent_id, session_id}
    ToolFinished      tool.finished      {call_id, tool, ok, result | error, duration_ms, agent_id, session_id}
    MessageCompleted  message.completed  the message                          session:<id>

Stateless runs publish only ``agent.status``. A delegated child publishes on its own session.
"""

from __future__ import annotations

from qorven_local.agents.events import (AnswerDelta, MessageCompleted, MessageStored, RunEvent, StatusChanged,
                                        ToolCalled, ToolFinished)
from qorven_local.events.hub import Hub


class HubPublisher:
    """A run listener that publishes one run's events to the hub."""

    def __init__(self, hub: Hub, tenant_id: str, session_id: str | None) -> None:
        self.hub = hub
        self.tenant_id = tenant_id
        self.session_topic = f"session:{session_id}" if session_id is not None else None

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, StatusChanged):
            self.hub.publish(self.tenant_id, f"agent:{event.agent_id}", "agent.status",
                             {"agent_id": event.agent_id, "status": event.status, "session_id": event.session_id})
            return
        topic = self.session_topic
        if topic is None:
            return
        match event:
            case AnswerDelta():
                self.hub.publish(self.tenant_id, topic, "message.delta",
                                 {"message_id": event.message_id, "delta": event.text})
            case MessageStored():
                self.hub.publish(self.tenant_id, topic, "message.created", event.message.to_dict())
            case MessageCompleted():
                self.hub.publish(self.tenant_id, topic, "message.completed", event.message.to_dict())
            case ToolCalled():
                self.hub.publish(self.tenant_id, topic, "tool.started", {
                    "call_id": event.call_id, "tool": event.tool, "arguments": event.arguments,
                    "agent_id": event.agent_id, "session_id": event.session_id})
            case ToolFinished():
                self.hub.publish(self.tenant_id, topic, "tool.finished", {
                    "call_id": event.call_id, "tool": event.tool, **event.outcome,
                    "agent_id": event.agent_id, "session_id": event.session_id})
