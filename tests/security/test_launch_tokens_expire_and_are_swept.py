"""Per-launch desktop tokens cannot outlive a crashed launch: they expire unless the running launch
renews them, and the next launch revokes any left over before minting its own."""

from __future__ import annotations

from qorven_local.config import load_config
from qorven_local.desktop.tokens import LaunchTokens
from qorven_local.security.tokens import hash_token, new_token
from qorven_local.storage import migrations
from qorven_local.storage.db import Database
from tests.support.servers import InProcessServer
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


def test_launch_tokens_from_before_the_marker_are_swept_too(tmp_path, monkeypatch):
    """Migration m009 marks the old launcher's live tokens (labels ``desktop window``/``browser``) as launch
    tokens, so the first launch after the upgrade revokes a crash's leftovers."""
    home = tmp_path / "home"
    config = load_config({"home": str(home)}, env={})
    config.ensure_dirs()
    everything = migrations.discover
    monkeypatch.setattr(migrations, "discover", lambda: [m for m in everything() if m[0] < "m009_token_expiry"])
    db = Database(config.db_path)
    migrations.migrate(db, "2026-01-01T00:00:00Z")
    old_launch, kept = new_token(), new_token()
    with db.write() as conn:  # what the previous version left behind after a crash
        conn.execute("INSERT INTO tenants (id, created_at) VALUES ('default', '2026-01-01T00:00:00Z')")
        for token_id, token, label in (("tok_old", old_launch, "desktop window"), ("tok_kept", kept, "ci")):
            conn.execute("INSERT INTO tokens (id, tenant_id, token_hash, scope, label, hint, created_at) "
                         "VALUES (?, 'default', ?, 'admin', ?, 'x', '2026-01-01T00:00:00Z')",
                         (token_id, hash_token(token), label))
    db.close()
    monkeypatch.setattr(migrations, "discover", everything)

    with InProcessServer(home) as server:
        assert status(server, old_launch) == 200   # migrated, not yet swept
        assert LaunchTokens(server.ctx.tokens).sweep() == 1
        assert status(server, old_launch) == 401
        assert status(server, kept) == 200
