"""/v1/channels: bindings CRUD, write-only secrets, status and the routing dry run, over real HTTP."""

from __future__ import annotations

import pytest

from tests.channels_api.conftest import SIGNERS, binding_status, count, make_binding, product_log

TOKEN_VALUE = "bot-token-9f8e7d6c5b4a39281706"


def agent_id(api, name: str) -> str:
    return next(a["id"] for a in api.get("/v1/agents", params={"limit": 200}).json()["data"] if a["name"] == name)


def test_create_get_list_patch_delete(api, shared_server):
    created = api.post("/v1/channels", json={
        "kind": "telegram", "name": "support bot", "agent_id": "prime",
        "config": {"api_base_url": "http://127.0.0.1:9"},
        "routing": {"keywords": {"invoice": "analyst"}, "default_agent_id": "writer"}})
    assert created.status_code == 201, created.text
    binding = created.json()
    assert binding["id"].startswith("chn_") and binding["object"] == "channel"
    assert binding["agent_id"] == agent_id(api, "prime")
    assert binding["routing"] == {"keywords": {"invoice": agent_id(api, "analyst")},
                                  "default_agent_id": agent_id(api, "writer")}
    assert binding["secret_set"] is False and binding["secrets"] == {"secret_token": False, "bot_token": False}
    assert binding["webhook_url"] == f"{shared_server.url}/v1/webhooks/{binding['id']}"
    assert api.get(f"/v1/channels/{binding['id']}").json() == binding
    assert api.get(f"/api/channels/{binding['id']}").json() == binding
    assert binding["id"] in [b["id"] for b in api.get("/v1/channels", params={"kind": "telegram"}).json()["data"]]
    assert binding["id"] not in [b["id"] for b in api.get("/v1/channels", params={"kind": "slack"}).json()["data"]]

    assert api.post("/v1/channels", json={"kind": "telegram", "name": "support bot",
                                          "agent_id": "prime"}).status_code == 409
    patched = api.patch(f"/v1/channels/{binding['id']}", json={"enabled": False, "agent_id": "writer",
                                                               "routing": {"keywords": {}}})
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False and patched.json()["agent_id"] == agent_id(api, "writer")
    assert patched.json()["routing"] == {"keywords": {}, "default_agent_id": None}
    assert api.patch(f"/v1/channels/{binding['id']}", json={"kind": "slack"}).status_code == 400

    assert api.delete(f"/v1/channels/{binding['id']}").status_code == 200
    assert api.get(f"/v1/channels/{binding['id']}").status_code == 404
    assert count(shared_server, "channel_secrets WHERE binding_id = ?", binding["id"]) == 0


@pytest.mark.parametrize("body, param", [
    ({"kind": "carrier-pigeon", "agent_id": "prime"}, "kind"),
    ({"kind": "telegram"}, "agent_id"),
    ({"kind": "telegram", "agent_id": "nobody"}, "agent_id"),
    ({"kind": "telegram", "agent_id": "prime", "config": {"bot_token": "x"}}, "config.bot_token"),
    ({"kind": "telegram", "agent_id": "prime", "config": {"api_base_url": "ftp://x"}}, "config.api_base_url"),
    ({"kind": "telegram", "agent_id": "prime", "config": {"api_base_url": "http://api.example.com"}},
     "config.api_base_url"),
    ({"kind": "telegram", "agent_id": "prime", "config": {"api_base_url": "https://u:p@api.example.com"}},
     "config.api_base_url"),
    ({"kind": "webhook", "agent_id": "prime", "routing": {"keywords": {"help": "nobody"}}}, "routing.keywords.help"),
    ({"kind": "webhook", "agent_id": "prime", "secret": "in the wrong place"}, "secret"),
])
def test_invalid_bindings_name_the_field(api, body, param):
    response = api.post("/v1/channels", json=body)
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["param"] == param


def test_urls_may_be_https_anywhere_or_http_on_loopback(api):
    for url in ("https://api.telegram.org", "http://127.0.0.1:8081", "http://localhost:9", "http://[::1]:9"):
        assert api.post("/v1/channels", json={"kind": "telegram", "agent_id": "prime", "name": url,
                                              "config": {"api_base_url": url}}).status_code == 201


def test_secrets_are_write_only_and_encrypted(api, shared_server, caplog):
    caplog.set_level("DEBUG")
    binding = make_binding(api, "telegram", secret=None)
    put = api.put(f"/v1/channels/{binding['id']}/secret", json={"secret": TOKEN_VALUE, "name": "bot_token"})
    assert put.status_code == 200 and put.json()["secrets"] == {"secret_token": False, "bot_token": True}
    assert put.json()["secret_set"] is False  # the verifying secret is the other one
    put = api.put(f"/v1/channels/{binding['id']}/secret", json={"secret": TOKEN_VALUE + "-verify"})
    assert put.json()["secret_set"] is True
    bad_name = api.put(f"/v1/channels/{binding['id']}/secret", json={"secret": "x", "name": "password"})
    assert bad_name.status_code == 400 and bad_name.json()["error"]["param"] == "name"
    assert api.put(f"/v1/channels/{binding['id']}/secret", json={"secret": ""}).status_code == 400

    everything = [api.get(f"/v1/channels/{binding['id']}").text, api.get("/v1/channels").text,
                  api.get("/v1/channels/status").text, api.get("/openapi.json").text, caplog.text]
    assert not any(TOKEN_VALUE in text for text in everything)
    logs = product_log()
    database = b"".join(p.read_bytes() for p in shared_server.home.glob("qorven.db*"))
    assert TOKEN_VALUE.encode() not in logs and TOKEN_VALUE.encode() not in database
    rows = shared_server.ctx.db.query("SELECT * FROM channel_secrets WHERE binding_id = ?", (binding["id"],))
    assert {r["name"] for r in rows} == {"bot_token", "secret_token"}
    assert all(r["ciphertext"].startswith("v1:") for r in rows)

    removed = api.put(f"/v1/channels/{binding['id']}/secret", json={"secret": None, "name": "bot_token"})
    assert removed.json()["secrets"]["bot_token"] is False


def test_user_tokens_read_but_cannot_change_bindings(api, shared_server):
    binding = make_binding(api, "webhook")
    user = shared_server.ctx.tokens.issue("default", "user", label="reader")
    with shared_server.client(token=user) as reader:
        assert reader.get(f"/v1/channels/{binding['id']}").status_code == 200
        assert reader.get("/v1/channels/status").status_code == 200
        for response in (reader.post("/v1/channels", json={"kind": "webhook", "agent_id": "prime"}),
                         reader.patch(f"/v1/channels/{binding['id']}", json={"enabled": False}),
                         reader.put(f"/v1/channels/{binding['id']}/secret", json={"secret": "x" * 20}),
                         reader.delete(f"/v1/channels/{binding['id']}")):
            assert response.status_code == 403 and response.json()["error"]["code"] == "admin_only"


def test_another_tenant_sees_none_of_it(api, shared_server):
    binding = make_binding(api, "webhook")
    other = shared_server.ctx.tokens.issue("tenant-b", "admin", label="other")
    with shared_server.client(token=other) as them:
        assert them.get(f"/v1/channels/{binding['id']}").status_code == 404
        assert them.put(f"/v1/channels/{binding['id']}/secret", json={"secret": "x" * 20}).status_code == 404
        assert them.delete(f"/v1/channels/{binding['id']}").status_code == 404
        assert them.get("/v1/channels").json()["data"] == []
        assert them.get("/v1/channels/status").json()["data"] == []
        assert them.post("/v1/channels/test-routing", json={"binding_id": binding["id"], "text": "hi",
                                                            "sender": "x"}).status_code == 404


def test_status_counts_inbound_and_rejected(api, shared_server):
    binding = make_binding(api, "webhook")
    fresh = binding_status(api, binding["id"])
    assert fresh == {"id": binding["id"], "kind": "webhook", "name": binding["name"], "enabled": True,
                     "healthy": True, "problems": [], "secret_set": True, "last_inbound_at": None, "last_error": None,
                     "inbound_count": 0, "rejected_count": 0, "outbox_pending": 0}
    SIGNERS["webhook"](binding, secret="wrong-wrong-wrong-wrong").post(api, binding["id"])
    assert binding_status(api, binding["id"])["rejected_count"] == 1
    unsigned = make_binding(api, "webhook", secret=None)
    assert binding_status(api, unsigned["id"])["healthy"] is False


def test_routing_dry_run_follows_keywords_then_default_then_the_binding(api, shared_server):
    binding = make_binding(api, "telegram", routing={"keywords": {"invoice": "analyst", "bug report": "developer"},
                                                     "default_agent_id": "writer"})
    sessions, messages = count(shared_server, "sessions"), count(shared_server, "messages")

    def dry(text, sender="42", **extra):
        response = api.post("/v1/channels/test-routing", json={"binding_id": binding["id"], "text": text,
                                                               "sender": sender, **extra})
        assert response.status_code == 200, response.text
        return response.json()

    assert dry("About my INVOICE, please")["matched_rule"] == "keyword:invoice"
    assert dry("About my INVOICE, please")["agent_id"] == agent_id(api, "analyst")
    assert dry("I have a Bug  Report")["agent_id"] == agent_id(api, "developer")
    assert dry("invoices are words too")["matched_rule"] == "default_agent"  # whole words only
    first = dry("hello")
    assert first["agent_id"] == agent_id(api, "writer") and first["channel"] == "telegram"
    assert first["session_id"] is None and first["would_create_session"] is True
    assert (count(shared_server, "sessions"), count(shared_server, "messages")) == (sessions, messages)

    existing = api.post("/v1/sessions", json={"agent_id": "writer", "channel": "telegram", "peer": "42"}).json()
    again = dry("hello")
    assert again["session_id"] == existing["id"] and again["would_create_session"] is False

    api.patch(f"/v1/channels/{binding['id']}", json={"routing": {"keywords": {}}})
    assert dry("hello")["matched_rule"] == "binding_agent"
    assert dry("hello")["agent_id"] == agent_id(api, "prime")


def test_routing_by_kind_needs_exactly_one_binding(tmp_path):
    from tests.support.servers import InProcessServer
    with InProcessServer(tmp_path / "home") as server, server.client() as api:
        body = {"kind": "twilio_sms", "text": "hi", "sender": "+1555"}
        assert api.post("/v1/channels/test-routing", json=body).status_code == 404
        make_binding(api, "twilio_sms")
        assert api.post("/v1/channels/test-routing", json=body).json()["channel"] == "sms"
        make_binding(api, "twilio_sms")
        assert api.post("/v1/channels/test-routing", json=body).status_code == 404


def test_every_channel_route_is_in_the_openapi_document(api):
    spec = api.get("/openapi.json").json()
    for path in ("/v1/channels", "/v1/channels/{binding_id}", "/v1/channels/{binding_id}/secret",
                 "/v1/channels/status", "/v1/channels/test-routing", "/v1/channels/{binding_id}/deliveries",
                 "/v1/webhooks/{channel}"):
        assert path in spec["paths"], path
    assert spec["paths"]["/v1/webhooks/{channel}"]["post"]["security"] == []
    assert spec["paths"]["/v1/channels"]["post"].get("x-qorven-admin") is True
