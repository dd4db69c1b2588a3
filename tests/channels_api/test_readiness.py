"""A binding is healthy only when it can answer; the webhook URL to paste can be the install's public one."""

from __future__ import annotations

from tests.channels_api.conftest import SECRET, binding_status, make_binding
from tests.support.servers import InProcessServer


def test_a_slack_binding_without_its_bot_token_is_not_healthy_and_says_why(api, shared_server):
    slack = make_binding(api, "slack")
    status = binding_status(api, slack["id"])
    assert status["healthy"] is False and status["secret_set"] is True
    assert status["problems"] == ["No bot token is set, so the agent's replies cannot be sent."]
    put = api.put(f"/v1/channels/{slack['id']}/secret", json={"name": "bot_token", "secret": "xoxb-" + SECRET})
    assert put.status_code == 200, put.text
    assert binding_status(api, slack["id"]) | {"problems": None} == status | {"healthy": True, "problems": None}
    assert binding_status(api, slack["id"])["problems"] == []


def test_each_missing_piece_is_named(api, shared_server):
    bare = make_binding(api, "whatsapp", secret=None)
    problems = binding_status(api, bare["id"])["problems"]
    assert any("No app secret is set" in p for p in problems), problems
    assert any("No access token is set" in p for p in problems), problems
    assert any("verify token is not set" in p for p in problems), problems
    off = make_binding(api, "webhook", enabled=False)
    assert binding_status(api, off["id"])["problems"] == ["The binding is turned off."]


def test_the_webhook_url_is_this_server_unless_a_public_base_url_is_set(api, shared_server, tmp_path):
    local = make_binding(api, "telegram")
    assert local["webhook_url"] == f"{shared_server.url}/v1/webhooks/{local['id']}"
    with InProcessServer(tmp_path / "home", settings={"public_base_url": "https://bot.example.test/"}) as public:
        with public.client() as them:
            b = make_binding(them, "telegram")
            assert b["webhook_url"] == f"https://bot.example.test/v1/webhooks/{b['id']}"
            assert them.get(f"/v1/channels/{b['id']}").json()["webhook_url"] == b["webhook_url"]
            twilio = make_binding(them, "twilio_sms", config={"public_base_url": "https://sms.example.test"})
            assert twilio["webhook_url"].startswith("https://sms.example.test/v1/webhooks/")
