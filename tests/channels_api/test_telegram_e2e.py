"""An inbound message becomes an agent reply delivered to the channel's API (fakes on loopback).

The server is real (waitress, SQLite), the LLM is the fake provider server and the Telegram Bot API
is a small recording http.server; nothing of ours is patched. The worker's backoff base is shortened
through its public attribute so retry tests stay fast.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.channels_api.conftest import (SECRET, WRONG, binding_status, make_binding, product_log, settled, sign_discord,
                                         sign_telegram, telegram_body)
from tests.fakes import FakeProvider, Reply
from tests.support.upstream import configure_upstream
from tests.support.wait import wait_until

BOT_TOKEN = "123456:bot-token-AAbbCCddEEff0123456789"


@pytest.fixture
def telegram(admin, server, llm, channel_api):
    """A configured server with a Telegram binding whose Bot API is the recording fake."""
    configure_upstream(admin, llm)
    binding = make_binding(admin, "telegram", config={"api_base_url": channel_api.base_url})
    assert admin.put(f"/v1/channels/{binding['id']}/secret",
                     json={"secret": BOT_TOKEN, "name": "bot_token"}).status_code == 200
    server.ctx.channels.worker.base_delay = 0.05
    return binding


def answers(fake: FakeProvider, text: str) -> list:
    """The model calls that answered ``text`` (agents may also call the model to save memories)."""
    return [r for r in fake.chat_requests() if (r.body.get("messages") or [{}])[-1].get("content") == text]


def test_a_telegram_message_gets_the_agents_reply_in_the_senders_session(admin, telegram, llm, channel_api):
    llm.enqueue(Reply.text("Hi Ada, how can I help?"))
    first = sign_telegram(telegram, body=telegram_body(sender=42, text="hello agent"))
    assert first.post(admin, telegram["id"]).status_code == 200

    call = channel_api.wait_for(1)[0]
    assert call.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert call.json() == {"chat_id": "42", "text": "Hi Ada, how can I help?"}
    assert settled(admin, telegram["id"])["healthy"] is True

    sessions = admin.get("/v1/sessions", params={"channel": "telegram"}).json()["data"]
    assert len(sessions) == 1 and sessions[0]["peer"] == "42" and sessions[0]["agent_id"] == telegram["agent_id"]
    session_id = sessions[0]["id"]
    messages = admin.get("/v1/messages", params={"session_id": session_id}).json()["data"]
    assert [(m["role"], m["channel"], m["content"]) for m in messages] == [
        ("user", "telegram", "hello agent"), ("assistant", "telegram", "Hi Ada, how can I help?")]

    # the same sender again: the same session, and the model sees the earlier turn
    llm.enqueue(Reply.text("Still here."))
    assert sign_telegram(telegram, body=telegram_body(sender=42, text="are you there?")).post(
        admin, telegram["id"]).status_code == 200
    assert channel_api.wait_for(2)[1].json() == {"chat_id": "42", "text": "Still here."}
    status = settled(admin, telegram["id"])
    assert status["inbound_count"] == 2 and status["outbox_pending"] == 0 and status["last_error"] is None
    assert [s["id"] for s in admin.get("/v1/sessions", params={"channel": "telegram"}).json()["data"]] == [session_id]
    [answer] = answers(llm, "are you there?")
    history = [m["content"] for m in answer.body["messages"] if m["role"] in ("user", "assistant")]
    assert history[-3:] == ["hello agent", "Hi Ada, how can I help?", "are you there?"]
    assert len(admin.get("/v1/messages", params={"session_id": session_id}).json()["data"]) == 4

    deliveries = admin.get(f"/v1/channels/{telegram['id']}/deliveries").json()["data"]
    assert [d["status"] for d in deliveries] == ["sent", "sent"] and deliveries[0]["session_id"] == session_id

    # a replayed update answers 200 and runs nothing: no model call, no send, no message
    assert first.post(admin, telegram["id"]).status_code == 200
    time.sleep(0.3)  # a fixed time on purpose: nothing may happen, and an absence cannot be polled for
    assert len(answers(llm, "hello agent")) == 1 and len(channel_api.calls) == 2
    assert len(admin.get("/v1/messages", params={"session_id": session_id}).json()["data"]) == 4


def test_the_bot_token_stays_out_of_logs_and_the_database(admin, server, telegram, llm, channel_api):
    sign_telegram(telegram).post(admin, telegram["id"])
    assert channel_api.wait_for(1)[0].path == f"/bot{BOT_TOKEN}/sendMessage"
    settled(admin, telegram["id"])
    logs = product_log()
    database = b"".join(p.read_bytes() for p in server.home.glob("qorven.db*"))
    assert BOT_TOKEN.encode() not in logs and BOT_TOKEN.encode() not in database
    assert BOT_TOKEN not in admin.get(f"/v1/channels/{telegram['id']}").text


def test_another_sender_gets_another_session(admin, telegram, llm, channel_api):
    for sender in (42, 43):
        sign_telegram(telegram, body=telegram_body(sender=sender)).post(admin, telegram["id"])
    calls = channel_api.wait_for(2)
    assert {c.json()["chat_id"] for c in calls} == {"42", "43"}
    peers = {s["peer"] for s in admin.get("/v1/sessions", params={"channel": "telegram"}).json()["data"]}
    assert peers == {"42", "43"}


def test_rejected_requests_reach_neither_the_model_nor_the_channel(admin, telegram, llm, channel_api):
    for secret in (WRONG, ""):
        response = sign_telegram(telegram, secret=secret).post(admin, telegram["id"])
        assert response.status_code == 401
    time.sleep(0.3)  # a fixed time on purpose: nothing may happen, and an absence cannot be polled for
    assert llm.requests == [] and channel_api.calls == []
    assert admin.get("/v1/sessions", params={"channel": "telegram"}).json()["data"] == []
    assert binding_status(admin, telegram["id"])["rejected_count"] == 2


def test_failed_sends_are_retried_with_backoff_and_retry_after(admin, telegram, llm, channel_api):
    channel_api.script = [(502, {}), (429, {"Retry-After": "1"}), (200, {})]
    sign_telegram(telegram, body=telegram_body(text="flaky network")).post(admin, telegram["id"])
    calls = channel_api.wait_for(3, timeout=15)
    assert [c.json()["text"] for c in calls] == ["flaky network"] * 3  # the fake LLM echoes
    status = settled(admin, telegram["id"])
    assert status["outbox_pending"] == 0 and status["healthy"] is True
    delivery = admin.get(f"/v1/channels/{telegram['id']}/deliveries").json()["data"][0]
    assert delivery["status"] == "sent" and delivery["attempts"] == 3
    assert len(answers(llm, "flaky network")) == 1  # the reply was stored once and re-sent, not re-generated


def test_a_refused_send_fails_at_once_and_shows_in_status(admin, telegram, llm, channel_api):
    channel_api.script = [(400, {})]
    sign_telegram(telegram).post(admin, telegram["id"])
    channel_api.wait_for(1)
    status = settled(admin, telegram["id"])
    assert status["healthy"] is False and "400" in status["last_error"] and BOT_TOKEN not in status["last_error"]
    assert admin.get(f"/v1/channels/{telegram['id']}/deliveries").json()["data"][0]["status"] == "failed"
    time.sleep(0.2)  # a fixed time on purpose: give a wrong retry the chance to show
    assert len(channel_api.calls) == 1  # a 4xx is not retried

    sign_telegram(telegram).post(admin, telegram["id"])  # the next delivery works and clears the error
    channel_api.wait_for(2)
    assert settled(admin, telegram["id"])["healthy"] is True


def test_nothing_is_sent_without_a_model(admin, server, channel_api):
    binding = make_binding(admin, "telegram", config={"api_base_url": channel_api.base_url})
    assert sign_telegram(binding).post(admin, binding["id"]).status_code == 200
    wait_until(lambda: binding_status(admin, binding["id"])["last_error"] is not None,
               message="the binding never reported an error")
    status = binding_status(admin, binding["id"])
    assert status["last_error"].startswith("no_model_configured") and status["outbox_pending"] == 0
    assert channel_api.calls == []
    assert SECRET not in status["last_error"]


def test_a_discord_command_is_deferred_then_answered_as_a_follow_up(admin, server, llm, channel_api):
    configure_upstream(admin, llm)
    binding = make_binding(admin, "discord", config={"api_base_url": channel_api.base_url})
    interaction_token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmZha2UtdG9rZW4tZm9yLXRlc3Rz"
    body = json.dumps({"id": "1190000000000000001", "type": 2, "application_id": "app1",
                       "token": interaction_token, "channel_id": "c1", "guild_id": "g1",
                       "member": {"user": {"id": "u42", "username": "ada"}},
                       "data": {"name": "ask", "options": [{"name": "q", "value": "what is 2+2?"}]}}).encode()
    llm.enqueue(Reply.text("4"))
    response = sign_discord(binding, body=body).post(admin, binding["id"])
    assert response.status_code == 200 and response.json() == {"type": 5}
    call = channel_api.wait_for(1)[0]
    assert call.path == f"/webhooks/app1/{interaction_token}"
    assert call.json() == {"content": "4", "allowed_mentions": {"parse": []}}
    session = admin.get("/v1/sessions", params={"channel": "discord_dm"}).json()["data"][0]
    assert session["peer"] == "u42"
    settled(admin, binding["id"])
    # the interaction token (a credential for 15 minutes) is kept encrypted until the reply is sent
    database = b"".join(p.read_bytes() for p in server.home.glob("qorven.db*"))
    assert interaction_token.encode() not in database
