"""Per-launch desktop tokens cannot outlive a crashed launch: they expire unless the running launch
renews them, and the next launch revokes any left over before minting its own."""

from __future__ import annotations

from qorven_local.desktop.tokens import LaunchTokens
from tests.support.wait import wait_until


def status(server, token: str) -> int:
    with server.client(token=token) as c:
        return c.get("/v1/agents").status_code


def test_the_next_launch_sweeps_a_crashed_launchs_tokens(server):
    crashed = LaunchTokens(server.ctx.tokens, renew_every=3600)
    left_over = crashed.issue("desktop window")   # the launch dies here: revoke_all never runs
    assert status(server, left_over) == 200

    next_launch = LaunchTokens(server.ctx.tokens)
    assert next_launch.sweep() == 1
    assert status(server, left_over) == 401
    assert status(server, server.admin_token) == 200  # ordinary tokens are not launch tokens
    fresh = next_launch.issue("browser")
    assert status(server, fresh) == 200
    next_launch.revoke_all()
    assert status(server, fresh) == 401
    crashed.revoke_all()  # only to end the "crashed" launch's renewer thread


def test_a_launch_token_expires_unless_renewed(server, admin):
    crashed = LaunchTokens(server.ctx.tokens, ttl=0.5, renew_every=3600)  # nobody renews: a crashed launch
    token = crashed.issue("desktop window")
    listed = next(t for t in admin.get("/v1/auth/tokens").json()["data"] if t["kind"] == "launch")
    assert listed["expires_at"] and listed["scope"] == "admin"
    wait_until(lambda: status(server, token) == 401, timeout=3, message="the launch token never expired")
    crashed.revoke_all()


def test_a_running_launch_keeps_renewing_its_tokens(server, admin):
    running = LaunchTokens(server.ctx.tokens, ttl=60, renew_every=0.05)

    def expiry() -> str:
        return next(t["expires_at"] for t in admin.get("/v1/auth/tokens").json()["data"] if t["kind"] == "launch")

    token = running.issue("desktop window")
    first = expiry()
    wait_until(lambda: expiry() > first, timeout=3, message="the launch never renewed its token")
    assert status(server, token) == 200
    running.revoke_all()
