"""Rate limits: GCRA buckets per client IP and per tenant, and caps on concurrent holders per tenant.

GCRA keeps one timestamp per key (the "theoretical arrival time"), so checks are O(1) and memory
stays small; idle keys are pruned.

Who pays for a request decides who can be locked out by it. Requests without a valid token (and
those the gate refuses) pay into the client IP's *anonymous* bucket; an authenticated request pays
into the bucket of its IP *and token*, so a web page that floods the port from the same loopback
address with refused or tokenless requests cannot starve the user's own clients. ``/ws`` handshakes
pay into their own per-IP bucket before any token work.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from qorven_local.errors import RateLimited


@dataclass(frozen=True)
class Policy:
    name: str
    rate_per_second: float
    burst: int
    window_seconds: int  # what RateLimit-Policy advertises as w

    @property
    def interval(self) -> float:
        return 1.0 / self.rate_per_second

    @property
    def header(self) -> str:
        return f'"{self.name}";q={self.burst};w={self.window_seconds}'


@dataclass(frozen=True)
class Decision:
    policy: Policy
    remaining: int
    reset_seconds: int


class Bucket:
    """One policy's GCRA state for many keys."""

    def __init__(self, policy: Policy, clock) -> None:
        self.policy = policy
        self.clock = clock
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def take(self, key: str) -> Decision:
        """Admit one request for ``key`` or raise RateLimited with Retry-After."""
        p = self.policy
        tolerance = (p.burst - 1) * p.interval
        now = self.clock.monotonic()
        with self._lock:
            if now >= self._next_prune:
                self._prune(now)
            tat = max(self._tat.get(key, now), now)
            allow_at = tat - tolerance
            if now < allow_at:
                wait = allow_at - now
                raise RateLimited(f"rate limit {p.name!r} reached ({p.burst} burst, {p.rate_per_second:g}/s); "
                                  f"retry in {math.ceil(wait)} s",
                                  retry_after=max(1, math.ceil(wait)),
                                  headers={"RateLimit-Policy": p.header,
                                           "RateLimit": f'"{p.name}";r=0;t={max(1, math.ceil(wait))}'})
            self._tat[key] = tat + p.interval
            used = (self._tat[key] - now) / p.interval
        remaining = max(0, int(p.burst - math.ceil(used)))
        return Decision(p, remaining, max(0, math.ceil(self._tat[key] - now)))

    def _prune(self, now: float) -> None:
        stale = [k for k, t in self._tat.items() if t < now]
        for key in stale:
            del self._tat[key]
        self._next_prune = now + 60


class Slot:
    """One admitted holder of a ``ConcurrencyCap``; ``release()`` gives it back (idempotent)."""

    def __init__(self, cap: ConcurrencyCap, key: str) -> None:
        self._cap, self._key = cap, key
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._cap._release(self._key)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ConcurrencyCap:
    """At most ``limit`` concurrent holders per key (e.g. a tenant's open streams)."""

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> Slot:
        """Admit one more holder for ``key`` or raise RateLimited (429, Retry-After 1)."""
        with self._lock:
            held = self._held.get(key, 0)
            if held >= self.limit:
                raise RateLimited(f"too many concurrent {self.name} for this tenant ({self.limit}); "
                                  f"retry when one ends", retry_after=1)
            self._held[key] = held + 1
        return Slot(self, key)

    def held(self, key: str) -> int:
        with self._lock:
            return self._held.get(key, 0)

    def _release(self, key: str) -> None:
        with self._lock:
            left = self._held.get(key, 0) - 1
            if left > 0:
                self._held[key] = left
            else:
                self._held.pop(key, None)


class RateLimiter:
    """The per-IP and per-tenant limits of the API contract, and the per-tenant stream cap."""

    def __init__(self, clock, ip_rps: float, ip_burst: int, tenant_per_min: int,
                 streams_per_tenant: int = 8) -> None:
        window = max(1, math.ceil(ip_burst / ip_rps))
        self.ip = Bucket(Policy("ip", ip_rps, ip_burst, window), clock)  # key: IP and token
        self.anonymous = Bucket(Policy("anonymous", ip_rps, ip_burst, window), clock)  # key: IP
        self.ws_handshake = Bucket(Policy("ws", ip_rps, ip_burst, window), clock)  # key: IP
        self.tenant = Bucket(Policy("tenant", tenant_per_min / 60.0, tenant_per_min, 60), clock)
        self.streams = ConcurrencyCap("streams", streams_per_tenant)

    def policies_header(self) -> str:
        return f"{self.ip.policy.header}, {self.tenant.policy.header}"

    def take_authenticated(self, ip: str, token_id: str | None, tenant_id: str) -> Decision:
        """Charge a request with a valid token: its IP-and-token bucket, then its tenant's."""
        decision = self.ip.take(f"{ip} {token_id or tenant_id}")
        tenant = self.tenant.take(tenant_id)
        return tenant if tenant.remaining < 50 else decision  # advertise the binding window

    @staticmethod
    def header(decision: Decision) -> str:
        return f'"{decision.policy.name}";r={decision.remaining};t={decision.reset_seconds}'
