"""Inbound webhooks through the real HTTP endpoint: each kind's published signature scheme."""

from __future__ import annotations

import json
import time

import pytest

from tests.channels_api.conftest import (CONFIG, SECRET, SIGNATURE_HEADER, SIGNERS, TIMESTAMPED, WRONG,
                                         binding_status, count, make_binding)

KINDS = list(SIGNERS)


def nothing_stored(server, binding_id: str, sessions_before: int, messages_before: int) -> None:
    assert count(server, "channel_jobs WHERE binding_id = ?", binding_id) == 0
    assert count(server, "channel_events WHERE binding_id = ?", binding_id) == 0
    assert count(server, "sessions") == sessions_before
    assert count(server, "messages") == messages_before


@pytest.mark.parametrize("kind", KINDS)
def test_a_correctly_signed_message_is_accepted_once(kind, api, shared_server):
    binding = make_binding(api, kind, config=CONFIG.get(kind, {}))
    delivery = SIGNERS[kind](binding)
    first = delivery.post(api, binding["id"])
    assert first.status_code == 200, first.text
    if kind == "discord":
        assert first.json() == {"type": 5}  # deferred: the reply follows as a follow-up message
    elif kind == "twilio_sms":
        assert first.headers["content-type"].startswith("text/xml") and "<Response>" in first.text
    else:
        assert first.json() == {"ok": True}
    jobs = shared_server.ctx.db.query("SELECT * FROM channel_jobs WHERE binding_id = ?", (binding["id"],))
    assert len(jobs) == 1 and json.loads(jobs[0]["inbound"])["event_id"] == delivery.event_id

    # API.md: a repeat of an accepted event answers 200 again and is not run again
    again = delivery.post(api, binding["id"])
    assert again.status_code == 200
    assert count(shared_server, "channel_jobs WHERE binding_id = ?", binding["id"]) == 1
    status = binding_status(api, binding["id"])
    assert status["inbound_count"] == 1 and status["rejected_count"] == 0 and status["last_inbound_at"]


def _reject(kind, api, server, mutate) -> None:
    binding = make_binding(api, kind, config=CONFIG.get(kind, {}))
    sessions, messages = count(server, "sessions"), count(server, "messages")
    response = mutate(binding).post(api, binding["id"])
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    assert SECRET not in response.text
    nothing_stored(server, binding["id"], sessions, messages)
    assert binding_status(api, binding["id"])["rejected_count"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_secret_is_rejected(kind, api, shared_server):
    _reject(kind, api, shared_server, lambda b: SIGNERS[kind](b, secret=WRONG))


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "telegram"])  # Telegram's token does not cover the body
def test_tampered_body_is_rejected(kind, api, shared_server):
    def tampered(binding):
        delivery = SIGNERS[kind](binding)
        delivery.body = delivery.body.replace(b"agent", b"agenT")
        assert delivery.body != SIGNERS[kind](binding).body
        return delivery
    _reject(kind, api, shared_server, tampered)


@pytest.mark.parametrize("kind", TIMESTAMPED)  # the other schemes carry no timestamp
def test_stale_or_future_timestamp_is_rejected(kind, api, shared_server):
    _reject(kind, api, shared_server, lambda b: SIGNERS[kind](b, ts=time.time() - 301))
    # +302: the signer truncates to whole seconds, so +301 could land inside the window by the time it arrives
    _reject(kind, api, shared_server, lambda b: SIGNERS[kind](b, ts=time.time() + 302))


@pytest.mark.parametrize("kind", KINDS)
def test_missing_signature_header_is_rejected(kind, api, shared_server):
    def unsigned(binding):
        delivery = SIGNERS[kind](binding)
        del delivery.headers[SIGNATURE_HEADER[kind]]
        return delivery
    _reject(kind, api, shared_server, unsigned)


@pytest.mark.parametrize("kind", KINDS)
def test_a_binding_without_a_secret_accepts_nothing(kind, api, shared_server):
    binding = make_binding(api, kind, secret=None, config=CONFIG.get(kind, {}))
    response = SIGNERS[kind](binding).post(api, binding["id"])
    assert response.status_code == 401
    assert count(shared_server, "channel_jobs WHERE binding_id = ?", binding["id"]) == 0


def test_githubs_published_example_verifies(api, shared_server):
    """docs.github.com: secret "It's a Secret to Everybody", payload "Hello, World!"."""
    binding = make_binding(api, "github", secret="It's a Secret to Everybody")
    published = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    ok = api.post(f"/v1/webhooks/{binding['id']}", content=b"Hello, World!",
                  headers={"X-Hub-Signature-256": published, "X-GitHub-Event": "ping",
                           "X-GitHub-Delivery": "d-1", "Content-Type": "application/json"})
    assert ok.status_code == 200 and ok.json()["event"] == "ping"
    bad = api.post(f"/v1/webhooks/{binding['id']}", content=b"Hello, World?",
                   headers={"X-Hub-Signature-256": published, "X-GitHub-Event": "ping",
                            "X-GitHub-Delivery": "d-2", "Content-Type": "application/json"})
    assert bad.status_code == 401


def test_previous_secret_keeps_working_during_rotation(api, shared_server):
    binding = make_binding(api, "webhook", secret="old-secret-0123456789")
    put = api.put(f"/v1/channels/{binding['id']}/secret", json={"secret": "new-secret-0123456789"})
    assert put.status_code == 200
    for secret in ("old-secret-0123456789", "new-secret-0123456789"):
        assert SIGNERS["webhook"](binding, secret=secret).post(api, binding["id"]).status_code == 200
    # dropping the previous one (a leaked secret) stops it at once
    api.put(f"/v1/channels/{binding['id']}/secret", json={"secret": "newest-secret-0123456789",
                                                          "keep_previous": False})
    for secret, status in (("new-secret-0123456789", 401), ("old-secret-0123456789", 401),
                           ("newest-secret-0123456789", 200)):
        assert SIGNERS["webhook"](binding, secret=secret).post(api, binding["id"]).status_code == status


def test_kind_addresses_the_only_binding_of_that_kind(tmp_path):
    from tests.support.servers import InProcessServer
    with InProcessServer(tmp_path / "home") as server, server.client() as api:
        assert api.post("/v1/webhooks/slack", content=b"{}").status_code == 404
        binding = make_binding(api, "slack")
        assert SIGNERS["slack"](binding).post(api, "slack").status_code == 200
        assert SIGNERS["slack"](binding).post(api, "slack", prefix="/api/webhooks/").status_code == 200
        make_binding(api, "slack")
        response = SIGNERS["slack"](binding).post(api, "slack")
        assert response.status_code == 404 and "binding id" in response.json()["error"]["message"]
        assert SIGNERS["slack"](binding).post(api, binding["id"]).status_code == 200


def test_handshakes_are_answered_only_when_signed(api, shared_server):
    slack = make_binding(api, "slack")
    challenge = json.dumps({"type": "url_verification", "challenge": "ch-123", "token": "x"}).encode()
    signed = SIGNERS["slack"](slack, body=challenge)
    assert signed.post(api, slack["id"]).json() == {"challenge": "ch-123"}
    forged = SIGNERS["slack"](slack, body=challenge, secret=WRONG)
    assert forged.post(api, slack["id"]).status_code == 401

    discord = make_binding(api, "discord")
    ping = json.dumps({"id": "p1", "type": 1}).encode()
    assert SIGNERS["discord"](discord, body=ping).post(api, discord["id"]).json() == {"type": 1}
    assert SIGNERS["discord"](discord, body=ping, secret=WRONG).post(api, discord["id"]).status_code == 401

    meta = make_binding(api, "whatsapp", config={"verify_token": "meta-verify-1"})
    query = {"hub.mode": "subscribe", "hub.verify_token": "meta-verify-1", "hub.challenge": "1158201444"}
    answer = api.get(f"/v1/webhooks/{meta['id']}", params=query)
    assert answer.status_code == 200 and answer.text == "1158201444"
    assert api.get(f"/v1/webhooks/{meta['id']}", params={**query, "hub.verify_token": "guess"}).status_code == 401
    assert api.get(f"/v1/webhooks/{slack['id']}").status_code == 405
    for binding in (slack, discord, meta):
        assert count(shared_server, "channel_jobs WHERE binding_id = ?", binding["id"]) == 0


def test_webhooks_need_no_token_and_ignore_the_host_guard(shared_server):
    import httpx
    with httpx.Client(base_url=shared_server.url) as anonymous, shared_server.client() as api:
        binding = make_binding(api, "webhook")
        delivery = SIGNERS["webhook"](binding)
        response = anonymous.post(f"/v1/webhooks/{binding['id']}", content=delivery.body,
                                  headers={**delivery.headers, "Host": "abc.tunnel.example"})
        assert response.status_code == 200
        assert anonymous.get("/v1/channels").status_code == 401


def test_a_disabled_binding_verifies_but_runs_nothing(api, shared_server):
    binding = make_binding(api, "webhook")
    assert api.patch(f"/v1/channels/{binding['id']}", json={"enabled": False}).status_code == 200
    assert SIGNERS["webhook"](binding, secret=WRONG).post(api, binding["id"]).status_code == 401
    assert SIGNERS["webhook"](binding).post(api, binding["id"]).status_code == 200
    assert count(shared_server, "channel_jobs WHERE binding_id = ?", binding["id"]) == 0
