"""``/v1/webhooks/{kind}`` resolves only when exactly one binding of the kind exists on the whole
install; a binding's own id answers whatever other tenants have (API.md "Webhooks")."""

from __future__ import annotations

import json

from tests.channels_api.conftest import count, make_binding, sign_webhook


def _message(text: str) -> bytes:
    return json.dumps({"text": text, "sender": "ada"}).encode()


def test_a_second_tenants_binding_makes_the_kind_ambiguous_but_ids_keep_working(admin, server):
    ours = make_binding(admin, "webhook")
    assert sign_webhook(ours).post(admin, "webhook").status_code == 200

    other_token = server.ctx.tokens.issue("tenant-b", "admin", label="second tenant")
    with server.client(token=other_token) as them:
        theirs = make_binding(them, "webhook")
        assert them.get("/v1/channels").json()["data"][0]["id"] == theirs["id"]

        ambiguous = sign_webhook(ours).post(admin, "webhook")
        assert ambiguous.status_code == 404, ambiguous.text
        error = ambiguous.json()["error"]
        assert error["code"] == "not_found" and "/v1/webhooks/<binding id>" in error["message"]
        assert count(server, "channel_jobs WHERE binding_id = ?", ours["id"]) == 1

        for binding, client in ((ours, admin), (theirs, them)):
            assert sign_webhook(binding, body=_message("by id")).post(client, binding["id"]).status_code == 200
        rows = server.ctx.db.query("SELECT binding_id, tenant_id FROM channel_jobs ORDER BY rowid")
        assert [(r["binding_id"], r["tenant_id"]) for r in rows] == [
            (ours["id"], "default"), (ours["id"], "default"), (theirs["id"], "tenant-b")]

        # A binding id answers with that binding's own secret only, whichever tenant signs.
        assert sign_webhook(theirs, secret="another-tenants-secret-0123456789").post(
            them, theirs["id"]).status_code == 401


def test_the_only_binding_of_a_kind_in_another_tenant_still_answers_by_kind(server):
    other_token = server.ctx.tokens.issue("tenant-b", "admin", label="second tenant")
    with server.client(token=other_token) as them:
        theirs = make_binding(them, "webhook")
        assert sign_webhook(theirs).post(them, "webhook").status_code == 200
        assert count(server, "channel_jobs WHERE binding_id = ?", theirs["id"]) == 1
