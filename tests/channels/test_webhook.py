import hashlib
import hmac
import json

import pytest

from qorven_local.channels import webhook
from qorven_local.errors import ChannelSendError
from qorven_local.errors import Unauthorized, ValidationError

SECRET = "whsec_local"
NOW = 1_700_000_000.0
BODY = json.dumps({"id": "evt_1", "text": "ping the agent", "sender": "build-bot",
                   "display_name": "CI"}).encode()


def verify(body, headers, secrets=(SECRET,)):
    webhook.verify(body, headers, "/v1/webhooks/chn_1", list(secrets), {}, NOW)


def test_a_correctly_signed_request_is_accepted():
    ts = str(int(NOW))
    expected = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + BODY, hashlib.sha256).hexdigest()
    verify(BODY, {"X-Qorven-Timestamp": ts, "X-Qorven-Signature": expected})
    verify(BODY, webhook.signed_headers(SECRET, BODY, NOW))


def test_wrong_secret_tampered_body_stale_and_missing_headers_are_unauthorized():
    with pytest.raises(Unauthorized):
        verify(BODY, webhook.signed_headers("other", BODY, NOW))
    with pytest.raises(Unauthorized):
        verify(BODY.replace(b"ping", b"pwn!"), webhook.signed_headers(SECRET, BODY, NOW))
    with pytest.raises(Unauthorized, match="window"):
        verify(BODY, webhook.signed_headers(SECRET, BODY, NOW - 301))
    with pytest.raises(Unauthorized, match="unix timestamp"):
        verify(BODY, {"X-Qorven-Timestamp": "yesterday", "X-Qorven-Signature": "sha256=00"})
    for missing in ("X-Qorven-Timestamp", "X-Qorven-Signature"):
        headers = webhook.signed_headers(SECRET, BODY, NOW)
        del headers[missing]
        with pytest.raises(Unauthorized, match=missing):
            verify(BODY, headers)


def test_a_timestamp_moved_after_signing_is_rejected():
    headers = webhook.signed_headers(SECRET, BODY, NOW)
    headers["X-Qorven-Timestamp"] = str(int(NOW) + 5)
    with pytest.raises(Unauthorized):
        verify(BODY, headers)


def test_both_secrets_work_during_rotation():
    for secret in ("old", "new"):
        verify(BODY, webhook.signed_headers(secret, BODY, NOW), secrets=("new", "old"))


def test_a_message_becomes_an_inbound_with_header_or_body_event_id():
    inbound = webhook.parse(BODY, {}, "application/json")
    assert (inbound.sender, inbound.text, inbound.event_id, inbound.display_name) == (
        "build-bot", "ping the agent", "evt_1", "CI")
    assert inbound.is_direct and inbound.chat_id == "build-bot"
    assert webhook.parse(BODY, {"x-qorven-event-id": "hdr_9"}, "").event_id == "hdr_9"
    assert webhook.handshake("POST", {}, BODY, {}, {}) is None


def test_missing_text_sender_or_event_id_is_invalid():
    for payload, param in (({"sender": "a", "id": "1"}, "text"), ({"text": "hi", "id": "1"}, "sender"),
                           ({"text": "hi", "sender": "a"}, "id")):
        with pytest.raises(ValidationError) as err:
            webhook.parse(json.dumps(payload).encode(), {}, "")
        assert err.value.param == param
    with pytest.raises(ValidationError):
        webhook.parse(b"text=hi", {}, "")


def test_send_posts_a_reply_signed_like_inbound_requests(fake_api, http):
    inbound = webhook.parse(BODY, {}, "")
    config = {"reply_url": fake_api.base_url + "/hooks/qorven"}
    webhook.send(http, config, SECRET, inbound, "pong")
    [request] = fake_api.requests
    assert request.path == "/hooks/qorven"
    assert request.json() == {"in_reply_to": "evt_1", "chat_id": "build-bot", "recipient": "build-bot",
                              "text": "pong"}
    # The receiver can check it with the very same scheme.
    webhook.verify(request.body, request.headers, "/hooks/qorven", [SECRET], {},
                   float(request.headers["x-qorven-timestamp"]))


def test_without_reply_url_send_does_nothing(fake_api, http):
    webhook.send(http, {}, SECRET, webhook.parse(BODY, {}, ""), "pong")
    assert fake_api.requests == []


def test_send_failure_raises_with_status(fake_api, http):
    fake_api.status = 502
    with pytest.raises(ChannelSendError, match="502"):
        webhook.send(http, {"reply_url": fake_api.base_url + "/x"}, SECRET, webhook.parse(BODY, {}, ""), "p")
