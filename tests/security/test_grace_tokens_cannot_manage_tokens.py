"""A token rotated out but still in its grace period works for the API, but may not manage tokens:
it cannot rotate again (which used to extend its own life and revoke the owner's new token), list,
create or revoke tokens."""

from __future__ import annotations

import pytest

from qorven_local.errors import QorvenError
from qorven_local.models import Principal


def _rotate_with_grace(admin) -> str:
    r = admin.post("/v1/auth/rotate", json={"grace_seconds": 3600})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def _assert_grace_refused(r) -> None:
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "grace_token" and "rotated out" in error["message"]


def test_grace_token_gets_403_on_every_token_route(server, admin):
    new = _rotate_with_grace(admin)   # `admin` holds the old token, now in its grace
    assert admin.get("/v1/agents").status_code == 200  # the grace still lets it use the API
    with server.client(token=new) as fresh:
        new_id = fresh.get("/v1/auth/tokens").json()["data"][0]["id"]

        _assert_grace_refused(admin.post("/v1/auth/rotate", json={"grace_seconds": 86400}))
        _assert_grace_refused(admin.get("/v1/auth/tokens"))
        _assert_grace_refused(admin.delete(f"/v1/auth/tokens/{new_id}"))

        assert fresh.get("/v1/agents").status_code == 200  # the owner's new token survived
        listed = fresh.get("/v1/auth/tokens").json()["data"]
        assert len(listed) == 2 and all(t["revoked_at"] is None for t in listed)
        assert [t["revoke_after"] is None for t in listed] == [True, False]  # only the old one ends


def test_grace_token_cannot_create_tokens(server, admin):
    # No HTTP route creates tokens; the service refuses a grace caller the same way for when one does.
    old_token = admin.headers["Authorization"].split()[1]
    _rotate_with_grace(admin)
    old = server.ctx.tokens.authenticate(old_token)
    with pytest.raises(QorvenError) as created:
        server.ctx.tokens.issue("default", "admin", by=old)
    with pytest.raises(QorvenError) as rotated:
        server.ctx.tokens.rotate_admin("default", by=Principal("default", "admin", old.token_id))
    assert created.value.code == rotated.value.code == "grace_token" and created.value.status == 403


def test_a_later_rotation_never_postpones_a_grace(server, admin):
    _rotate_with_grace(admin)
    old = server.ctx.tokens.authenticate(admin.headers["Authorization"].split()[1])
    before = server.ctx.tokens.store.get(old.token_id)["revoke_after"]
    server.ctx.tokens.rotate_admin("default", grace_seconds=30 * 86400)  # the operator, with a longer grace
    assert server.ctx.tokens.store.get(old.token_id)["revoke_after"] == before
