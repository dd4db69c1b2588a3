"""The in-process hub: ordering, tenant isolation, the activity mirror, bounded queues."""

from __future__ import annotations

import threading
import time

import pytest

from qorven_local.errors import ValidationError
from qorven_local.events.hub import Hub


def test_events_arrive_in_order_with_seq_and_the_publish_time():
    hub = Hub(clock=lambda: 1767225600.25)
    sub = hub.subscribe("t1", topics=["session:s1"])
    for i in range(3):
        hub.publish("t1", "session:s1", "message.delta", {"i": i})
    events = sub.drain()
    assert [e["data"]["i"] for e in events] == [0, 1, 2]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[0] == {"type": "event", "topic": "session:s1", "event": "message.delta",
                         "data": {"i": 0}, "seq": 1, "ts": "2026-01-01T00:00:00.250Z"}
    hub.publish("t1", "session:s1", "message.completed", {})
    assert sub.drain()[0]["seq"] == 4


def test_a_subscription_never_sees_another_tenants_events():
    hub = Hub()
    mine = hub.subscribe("t1", topics=["session:s1", "activity"])
    theirs = hub.subscribe("t2", topics=["session:s1", "activity"])
    hub.publish("t2", "session:s1", "message.created", {"secret": True})
    assert mine.drain() == []
    assert len(theirs.drain()) == 1


def test_activity_mirrors_domain_topics_except_token_deltas_and_only_once():
    hub = Hub()
    feed = hub.subscribe("t1", topics=["activity"])
    both = hub.subscribe("t1", topics=["activity", "room:r1"])
    hub.publish("t1", "room:r1", "room.message", {"n": 1})
    hub.publish("t1", "session:s1", "message.delta", {"d": "x"})
    hub.publish("t1", "agent:a1", "agent.status", {"status": "thinking"})
    assert [(e["topic"], e["event"]) for e in feed.drain()] == [
        ("room:r1", "room.message"), ("agent:a1", "agent.status")]
    assert [(e["topic"], e["event"]) for e in both.drain()] == [
        ("room:r1", "room.message"), ("agent:a1", "agent.status")]


def test_a_full_queue_marks_overflow_and_the_publisher_does_not_block():
    hub = Hub(max_queue=5)
    slow = hub.subscribe("t1", topics=["activity"])
    fast = hub.subscribe("t1", topics=["activity"], max_queue=100)
    start = time.monotonic()
    for i in range(50):
        assert hub.publish("t1", "session:s1", "message.created", {"i": i}) == 2
    assert time.monotonic() - start < 0.5
    assert slow.overflowed and len(slow) == 5
    assert not fast.overflowed and len(fast.drain()) == 50


def test_wake_fires_once_per_empty_to_non_empty_transition():
    wakes = []
    hub = Hub()
    sub = hub.subscribe("t1", topics=["session:s1"], on_wake=lambda: wakes.append(1))
    for _ in range(100):
        hub.publish("t1", "session:s1", "message.delta", {})
    assert len(wakes) == 1
    sub.drain()
    hub.publish("t1", "session:s1", "message.delta", {})
    assert len(wakes) == 2


def test_wait_returns_when_another_thread_publishes():
    hub = Hub()
    sub = hub.subscribe("t1", topics=["agent:a1"])
    timer = threading.Timer(0.05, hub.publish, ("t1", "agent:a1", "agent.status", {}))
    timer.start()
    start = time.monotonic()
    events = sub.wait(5)
    assert [e["event"] for e in events] == ["agent.status"]
    assert time.monotonic() - start < 2
    assert sub.wait(0.01) == []


def test_closing_the_hub_wakes_waiters_and_later_subscriptions_start_closed():
    hub = Hub()
    sub = hub.subscribe("t1", topics=["activity"])
    threading.Timer(0.05, hub.close).start()
    assert sub.wait(5) == [] and sub.closed
    late = hub.subscribe("t1", topics=["activity"])
    assert late.closed
    assert hub.publish("t1", "session:s1", "message.created", {}) == 0


def test_remove_and_close_stop_delivery():
    hub = Hub()
    sub = hub.subscribe("t1", topics=["session:s1", "session:s2"])
    assert sub.remove(["session:s1", "session:nope"]) == ["session:s2"]
    hub.publish("t1", "session:s1", "message.created", {})
    assert sub.drain() == []
    sub.close()
    assert hub.publish("t1", "session:s2", "message.created", {}) == 0
    assert hub.subscriber_count() == 0


@pytest.mark.parametrize("topic", ["", "session:", "session", "other:1", "room:a b", 7, None])
def test_invalid_topics_are_refused(topic):
    sub = Hub().subscribe("t1")
    with pytest.raises(ValidationError):
        sub.add([topic])


def test_topic_count_is_bounded():
    sub = Hub(max_topics=3).subscribe("t1")
    with pytest.raises(ValidationError):
        sub.add([f"session:{i}" for i in range(4)])
    assert sub.topics == frozenset()


def test_publish_is_cheap_enough_for_token_deltas():
    hub = Hub()
    subs = [hub.subscribe("t1", topics=["session:s1"], max_queue=100_000) for _ in range(3)]
    n, rounds = 4_000, 5
    best = float("inf")
    for r in range(rounds):  # the best round: other processes on a loaded machine only ever add time
        start = time.perf_counter()
        for i in range(n):
            hub.publish("t1", "session:s1", "message.delta", {"i": i})
        best = min(best, (time.perf_counter() - start) / n)
    assert best < 50e-6, best  # measured ~1.7 µs here; generous for slow CI
    assert all(len(s) == n * rounds for s in subs)
