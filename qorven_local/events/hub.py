"""In-process pub/sub for live events, partitioned by tenant.

Publishers (the agent loop, rooms, channels, memory) call ``Hub.publish(tenant_id, topic, event,
data)``; consumers (a ``/ws`` session, an SSE stream, a test) hold a ``Subscription`` and
``drain()`` or ``wait()`` for event dicts::

    {"type": "event", "topic": "session:ses_1", "event": "message.delta", "data": {...},
     "seq": 7, "ts": "2026-01-01T00:00:00.000Z"}

Decisions:
- Tenant isolation is structural: the index is keyed by ``(tenant_id, topic)`` and a subscription
  is bound to one tenant when it is made, so it cannot name another tenant's topics.
- ``activity`` mirrors the tenant's ``session:``/``agent:``/``room:``/``channel:`` events except the
  per-token ``message.delta`` (a firehose a feed does not need; subscribe to the session for it).
  A subscription that holds both the topic and ``activity`` gets the event once, with its own topic.
- Publishing never blocks: each subscription has a bounded queue; when it is full the event is
  dropped and the subscription is marked ``overflowed`` (the ``/ws`` session then closes 1013).
- ``seq`` counts per subscription in delivery order; ``ts`` is the publish time (injectable clock).
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from qorven_local.errors import ValidationError

ACTIVITY = "activity"
MIRRORED_PREFIXES = ("session:", "agent:", "room:", "channel:")
NOT_MIRRORED_EVENTS = frozenset({"message.delta"})
_TOPIC = re.compile(r"(?:activity|(?:session|agent|room|channel):[A-Za-z0-9_.:-]{1,128})\Z")


def validate_topic(topic: Any) -> str:
    """Return ``topic`` if it is a topic a client may subscribe to, else raise ValidationError."""
    if not isinstance(topic, str) or not _TOPIC.match(topic):
        raise ValidationError(f"invalid topic {topic!r}: expected activity, session:<id>, "
                              "agent:<id>, room:<id> or channel:<id>", param="topics")
    return topic


def iso_ts(seconds: float) -> str:
    """Format unix seconds as ISO-8601 UTC with milliseconds."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


class Subscription:
    """One consumer's view of one tenant's topics: a bounded queue fed by the hub.

    Thread-safe: publishers run on any thread; the consumer drains from its own.
    """

    def __init__(self, hub: Hub, tenant_id: str, *, max_queue: int, max_topics: int,
                 on_wake: Callable[[], None] | None) -> None:
        self.tenant_id = tenant_id
        self.topics: frozenset[str] = frozenset()
        self.overflowed = False
        self.closed = False
        self._hub = hub
        self._max_queue = max_queue
        self._max_topics = max_topics
        self._on_wake = on_wake
        self._queue: deque[tuple[str, str, Any, float]] = deque()
        self._seq = 0
        # Set on the empty -> non-empty transition only, so a token stream costs one wake per
        # drain, not one per delta.
        self._pending = False
        self._ready = threading.Event()

    def add(self, topics: Iterable[str]) -> list[str]:
        """Subscribe to more topics (validated); return the topics now held, sorted."""
        wanted = {validate_topic(t) for t in topics}
        if len(self.topics | wanted) > self._max_topics:
            raise ValidationError(f"at most {self._max_topics} topics per subscription",
                                  param="topics")
        self._hub._retopic(self, self.topics | wanted)
        return sorted(self.topics)

    def remove(self, topics: Iterable[str]) -> list[str]:
        """Unsubscribe from topics (unknown ones are ignored); return the topics still held."""
        self._hub._retopic(self, self.topics - set(topics))
        return sorted(self.topics)

    def drain(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Take queued events (all, or at most ``limit``) as event dicts, oldest first."""
        self._pending = False
        self._ready.clear()
        out: list[dict[str, Any]] = []
        queue = self._queue
        last_ts, last_iso = None, ""
        while queue and (limit is None or len(out) < limit):
            topic, event, data, ts = queue.popleft()
            if ts != last_ts:  # a token burst shares timestamps: format each once
                last_ts, last_iso = ts, iso_ts(ts)
            self._seq += 1
            out.append({"type": "event", "topic": topic, "event": event, "data": data,
                        "seq": self._seq, "ts": last_iso})
        if queue:  # left some behind: stay "pending" so the consumer comes back
            self._pending = True
            self._ready.set()
        return out

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Block until events arrive, the subscription closes or overflows, or ``timeout``;
        return what was drained (empty on timeout)."""
        if not self._queue and not self.closed and not self.overflowed:
            self._ready.wait(timeout)
        return self.drain()

    def __len__(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        """Stop receiving; wakes a consumer blocked in ``wait``."""
        if not self.closed:
            self._hub._forget(self)
            self._wake()

    # Called by the hub on the publisher's thread: must stay cheap and never block.
    def _offer(self, item: tuple[str, str, Any, float]) -> None:
        if self.closed:  # a publisher may still hold an index snapshot that names us
            return
        if len(self._queue) >= self._max_queue:
            if not self.overflowed:
                self.overflowed = True
                self._wake()
            return
        self._queue.append(item)
        if not self._pending:
            self._pending = True
            self._wake()

    def _wake(self) -> None:
        self._ready.set()
        if self._on_wake is not None:
            self._on_wake()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Hub:
    """Routes published events to the subscriptions of the same tenant."""

    def __init__(self, *, clock: Callable[[], float] = time.time, max_queue: int = 1024,
                 max_topics: int = 256) -> None:
        self._clock = clock
        self._max_queue = max_queue
        self._max_topics = max_topics
        # (tenant, topic) -> tuple of subscriptions. Replaced, never mutated, under _lock, so
        # publish() reads it without locking.
        self._index: dict[tuple[str, str], tuple[Subscription, ...]] = {}
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self.closed = False

    def subscribe(self, tenant_id: str, *, topics: Iterable[str] = (),
                  on_wake: Callable[[], None] | None = None,
                  max_queue: int | None = None) -> Subscription:
        """Open a subscription for one tenant. ``on_wake`` is called (on the publisher's thread,
        so it must not block) when the queue goes from empty to non-empty, overflows or closes.
        A closed hub returns an already closed subscription."""
        sub = Subscription(self, tenant_id, max_queue=max_queue or self._max_queue,
                           max_topics=self._max_topics, on_wake=on_wake)
        with self._lock:
            if self.closed:
                sub.closed = True
                return sub
            self._subs.add(sub)
        if topics:
            try:
                sub.add(topics)
            except Exception:
                sub.close()
                raise
        return sub

    def publish(self, tenant_id: str, topic: str, event: str, data: Any = None) -> int:
        """Offer an event to the tenant's subscribers of ``topic`` (and of ``activity`` when it
        mirrors); return how many subscriptions it was offered to. Never blocks."""
        index = self._index
        subs = index.get((tenant_id, topic), ())
        if event not in NOT_MIRRORED_EVENTS and topic.startswith(MIRRORED_PREFIXES):
            feed = index.get((tenant_id, ACTIVITY), ())
            if feed:
                subs = subs + tuple(s for s in feed if s not in subs) if subs else feed
        if not subs:
            return 0
        item = (topic, event, data, self._clock())
        for sub in subs:
            sub._offer(item)
        return len(subs)

    def subscriber_count(self, tenant_id: str | None = None) -> int:
        """Open subscriptions, of one tenant or of all."""
        with self._lock:
            return sum(1 for s in self._subs if tenant_id is None or s.tenant_id == tenant_id)

    def close(self) -> None:
        """Close every subscription (waking blocked consumers); later subscriptions start closed."""
        with self._lock:
            self.closed = True
            subs = list(self._subs)
        for sub in subs:
            sub.close()

    def _retopic(self, sub: Subscription, topics: frozenset[str] | set[str]) -> None:
        topics = frozenset(topics)
        with self._lock:
            if sub.closed:
                return
            for topic in sub.topics - topics:
                key = (sub.tenant_id, topic)
                rest = tuple(s for s in self._index.get(key, ()) if s is not sub)
                if rest:
                    self._index[key] = rest
                else:
                    self._index.pop(key, None)
            for topic in topics - sub.topics:
                key = (sub.tenant_id, topic)
                self._index[key] = self._index.get(key, ()) + (sub,)
            sub.topics = topics

    def _forget(self, sub: Subscription) -> None:
        self._retopic(sub, frozenset())
        with self._lock:
            sub.closed = True
            self._subs.discard(sub)
