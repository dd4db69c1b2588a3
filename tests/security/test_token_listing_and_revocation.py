"""Admins list their tenant's tokens (never a token or its hash) and revoke any of them, user tokens included."""

from __future__ import annotations

from qorven_local.client import Client, NotFound
from qorven_local.security.tokens import hash_token

FIELDS = {"id", "tenant_id", "scope", "label", "hint", "kind", "created_at", "last_used_at", "revoked_at",
          "revoke_after", "expires_at"}


def test_admin_lists_the_tenants_tokens_without_secrets_paginated(server, admin):
    tokens = server.ctx.tokens
    user = tokens.issue("default", "user", label="script")
    other = tokens.issue("acme", "admin", label="acme admin")
    assert admin.get("/v1/agents", headers={"Authorization": f"Bearer {user}"}).status_code == 200

    first = admin.get("/v1/auth/tokens", params={"limit": 1})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["object"] == "list" and body["has_more"] is True and len(body["data"]) == 1
    rest = admin.get("/v1/auth/tokens", params={"cursor": body["next_cursor"]}).json()
    listed = body["data"] + rest["data"]
    assert [t["label"] for t in listed] == ["script", "first admin"]  # newest first, only tenant default
    for item in listed:
        assert set(item) == FIELDS and item["id"].startswith("tok_") and item["tenant_id"] == "default"
    text = first.text + str(rest)
    for secret in (user, server.admin_token, other, hash_token(user), hash_token(server.admin_token)):
        assert secret not in text
    assert listed[0]["scope"] == "user" and listed[0]["last_used_at"] and listed[0]["hint"] == "…" + user[-4:]


def test_revoking_a_user_token_makes_it_401(server, admin):
    user = server.ctx.tokens.issue("default", "user", label="laptop")
    with server.client(token=user) as as_user:
        assert as_user.get("/v1/agents").status_code == 200
        token_id = next(t["id"] for t in admin.get("/v1/auth/tokens").json()["data"] if t["label"] == "laptop")
        r = admin.delete(f"/v1/auth/tokens/{token_id}")
        assert r.status_code == 200, r.text
        assert r.json()["id"] == token_id and r.json()["revoked_at"]
        denied = as_user.get("/v1/agents")
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"
    assert admin.get("/v1/agents").status_code == 200  # the admin's own token is untouched


def test_another_tenants_token_id_is_not_found_and_stays_valid(server, admin):
    theirs = server.ctx.tokens.issue("acme", "user", label="acme script")
    with server.client(token=server.ctx.tokens.issue("acme", "admin")) as acme_admin:
        their_id = next(t["id"] for t in acme_admin.get("/v1/auth/tokens").json()["data"]
                        if t["label"] == "acme script")
    r = admin.delete(f"/v1/auth/tokens/{their_id}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert admin.delete("/v1/auth/tokens/tok_nope").status_code == 404
    with server.client(token=theirs) as as_them:
        assert as_them.get("/v1/agents").status_code == 200


def test_user_tokens_cannot_list_or_revoke(server, admin):
    user = server.ctx.tokens.issue("default", "user")
    with server.client(token=user) as as_user:
        assert as_user.get("/v1/auth/tokens").json()["error"]["code"] == "admin_only"
        own_id = admin.get("/v1/auth/tokens").json()["data"][0]["id"]
        assert as_user.delete(f"/v1/auth/tokens/{own_id}").status_code == 403


def test_client_lists_and_revokes_tokens(server):
    user = server.ctx.tokens.issue("default", "user", label="from the client")
    with Client(server.url, server.admin_token) as client:
        listed = list(client.tokens.iterate())
        mine = next(t for t in listed if t["label"] == "from the client")
        assert client.tokens.list(limit=1).has_more is True
        assert client.tokens.revoke(mine["id"])["revoked_at"]
        try:
            client.tokens.revoke("tok_missing")
            raise AssertionError("a missing id must be NotFound")
        except NotFound:
            pass
    with server.client(token=user) as as_user:
        assert as_user.get("/v1/agents").status_code == 401
