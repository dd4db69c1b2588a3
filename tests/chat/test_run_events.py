"""A run's typed events, as the hub (/ws), the streams and a delegating parent see them."""

from __future__ import annotations

import threading

from qorven_local.agents.delegation import ParentRun, forwarder_to
from qorven_local.agents.events import (AnswerDelta, Delegated, MemoryRecalled, MessageCompleted, RunEvent,
                                        RunFinished, StatusChanged, ToolCalled, ToolFinished)
from qorven_local.agents.publish import HubPublisher
from qorven_local.events.hub import Hub
from qorven_local.agents.types import Agent, Message
from qorven_local.web.sse import tool_event

CALLED = ToolCalled(agent_id="agt_r", session_id="ses_r", call_id="call_r", tool="http_get",
                    arguments={"url": "https://example.org"})
FINISHED = ToolFinished(agent_id="agt_r", session_id="ses_r", call_id="call_r", tool="http_get",
                        outcome={"ok": True, "result": {"status": 200}, "duration_ms": 3})


def agent(name: str) -> Agent:
    return Agent(id=f"agt_{name}", tenant_id="t", name=name, display_name=name, description="", instructions="",
                 model=None, tools=[], memory_enabled=False, memory_auto_save=False, temperature=None,
                 builtin=False, created_at="", updated_at="")


def published(session_id: str | None, *run_events: RunEvent) -> list[tuple[str, str, object]]:
    hub = Hub()
    with hub.subscribe("t", topics=["agent:agt_r", "session:ses_r"]) as sub:
        publish = HubPublisher(hub, "t", session_id)
        for event in run_events:
            publish(event)
        return [(e["topic"], e["event"], e["data"]) for e in sub.drain()]


def test_a_stateful_run_publishes_each_fact_on_its_session_and_agent_topics():
    answer = Message(id="msg_a", tenant_id="t", session_id="ses_r", agent_id="agt_r", role="assistant",
                     content="done", channel="task")
    assert published("ses_r", StatusChanged("agt_r", "ses_r", "tool"), CALLED, FINISHED,
                     AnswerDelta("msg_a", "do"), MessageCompleted(answer), RunFinished("stop", None)) == [
        ("agent:agt_r", "agent.status", {"agent_id": "agt_r", "status": "tool", "session_id": "ses_r"}),
        ("session:ses_r", "tool.started", {"call_id": "call_r", "tool": "http_get",
                                           "arguments": {"url": "https://example.org"}, "agent_id": "agt_r",
                                           "session_id": "ses_r"}),
        ("session:ses_r", "tool.finished", {"call_id": "call_r", "tool": "http_get", "ok": True,
                                            "result": {"status": 200}, "duration_ms": 3, "agent_id": "agt_r",
                                            "session_id": "ses_r"}),
        ("session:ses_r", "message.delta", {"message_id": "msg_a", "delta": "do"}),
        ("session:ses_r", "message.completed", answer.to_dict()),
    ]


def test_a_stateless_run_publishes_only_its_status():
    assert published(None, StatusChanged("agt_r", None, "thinking"), AnswerDelta(None, "hi"),
                     MemoryRecalled([])) == [
        ("agent:agt_r", "agent.status", {"agent_id": "agt_r", "status": "thinking", "session_id": None})]


def test_a_child_forwards_its_tool_events_wrapped_and_a_grandchilds_as_they_came():
    seen: list[RunEvent] = []
    parent = ParentRun(emit=seen.append, cancel=threading.Event(), call_id="call_p")
    forward = forwarder_to(parent, agent("researcher"), 2)
    grandchild = Delegated(parent_call_id="call_r0", depth=3, agent="writer", event=CALLED)
    for event in (AnswerDelta("msg_r", "x"), CALLED, grandchild, FINISHED, RunFinished("stop", None)):
        forward(event)
    assert seen == [Delegated("call_p", 2, "researcher", CALLED), grandchild,
                    Delegated("call_p", 2, "researcher", FINISHED)]


def test_stream_shape_of_own_and_delegated_tool_events():
    assert tool_event(CALLED) == ("tool_call", {"call_id": "call_r", "tool": "http_get",
                                                "arguments": {"url": "https://example.org"}})
    name, data = tool_event(Delegated("call_p", 1, "researcher", FINISHED))
    assert name == "tool_result"
    assert list(data) == ["parent_call_id", "depth", "agent_id", "agent", "session_id", "call_id", "tool", "ok",
                          "result", "duration_ms"]
    assert data["agent_id"] == "agt_r" and data["session_id"] == "ses_r" and data["parent_call_id"] == "call_p"
