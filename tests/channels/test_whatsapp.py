import json

import pytest

from qorven_local.channels import whatsapp
from qorven_local.errors import ChannelSendError
from qorven_local.errors import Unauthorized, ValidationError

SECRET = "meta-app-secret"
NOW = 1_700_000_000.0


def notification(messages=None, statuses=None):
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550001111", "phone_number_id": "106540352242922"},
             "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"}]}
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "102290129340398",
                                  "changes": [{"value": value, "field": "messages"}]}]}).encode()


TEXT = [{"from": "16315551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
         "timestamp": "1700000000", "text": {"body": "Is my order shipped?"}, "type": "text"}]


def verify(body, headers, secrets=(SECRET,)):
    whatsapp.verify(body, headers, "/v1/webhooks/chn_1", list(secrets), {}, NOW)


def test_a_correctly_signed_notification_is_accepted():
    body = notification(TEXT)
    verify(body, {"X-Hub-Signature-256": whatsapp.sign(SECRET, body)})


def test_wrong_secret_tampered_body_and_missing_header_are_unauthorized():
    body = notification(TEXT)
    with pytest.raises(Unauthorized):
        verify(body, {"X-Hub-Signature-256": whatsapp.sign("other", body)})
    with pytest.raises(Unauthorized):
        verify(body + b" ", {"X-Hub-Signature-256": whatsapp.sign(SECRET, body)})
    with pytest.raises(Unauthorized, match="X-Hub-Signature-256"):
        verify(body, {})
    with pytest.raises(Unauthorized):  # the bare hex without its sha256= prefix is not the scheme
        verify(body, {"X-Hub-Signature-256": whatsapp.sign(SECRET, body)[7:]})


def test_both_app_secrets_work_during_rotation():
    body = notification(TEXT)
    for secret in ("old", "new"):
        verify(body, {"x-hub-signature-256": whatsapp.sign(secret, body)}, secrets=("new", "old"))


def test_subscription_handshake_echoes_the_challenge_for_the_right_verify_token():
    query = {"hub.mode": "subscribe", "hub.verify_token": "my-verify", "hub.challenge": "1158201444"}
    reply = whatsapp.handshake("GET", query, b"", {}, {"verify_token": "my-verify"})
    assert (reply.status, reply.body, reply.content_type) == (200, b"1158201444", "text/plain")
    listed = {k: [v] for k, v in query.items()}  # some frameworks give lists
    assert whatsapp.handshake("GET", listed, b"", {}, {"verify_token": "my-verify"}).body == b"1158201444"


def test_subscription_handshake_with_a_wrong_or_unset_verify_token_is_unauthorized():
    query = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    with pytest.raises(Unauthorized):
        whatsapp.handshake("GET", query, b"", {}, {"verify_token": "my-verify"})
    with pytest.raises(Unauthorized):
        whatsapp.handshake("GET", dict(query, **{"hub.verify_token": ""}), b"", {}, {})
    assert whatsapp.handshake("GET", {}, b"", {}, {"verify_token": "v"}) is None
    assert whatsapp.handshake("POST", {}, notification(TEXT), {}, {}) is None


def test_a_text_message_becomes_an_inbound():
    inbound = whatsapp.parse(notification(TEXT), {}, "application/json")
    assert inbound.sender == inbound.chat_id == "16315551234"
    assert inbound.event_id == TEXT[0]["id"] and inbound.text == "Is my order shipped?"
    assert inbound.display_name == "Kerry Fisher" and inbound.is_direct
    assert inbound.reply_context["phone_number_id"] == "106540352242922"


def test_status_updates_and_media_need_no_run():
    statuses = [{"id": "wamid.X", "status": "delivered", "timestamp": "1", "recipient_id": "1"}]
    assert whatsapp.parse(notification(statuses=statuses), {}, "") is None
    assert whatsapp.parse(notification([{"from": "1", "id": "w", "type": "image", "image": {}}]), {}, "") is None


def test_malformed_notifications_are_validation_errors():
    with pytest.raises(ValidationError):
        whatsapp.parse(b"{}", {}, "")
    with pytest.raises(ValidationError):
        whatsapp.parse(notification([{"type": "text", "text": {"body": "x"}}]), {}, "")


def test_send_posts_a_text_message_from_the_receiving_number(fake_api, http):
    inbound = whatsapp.parse(notification(TEXT), {}, "")
    whatsapp.send(http, {"api_base_url": fake_api.base_url}, "EAAG-token", inbound, "Yes, today.")
    [request] = fake_api.requests
    assert request.path == "/106540352242922/messages"
    assert request.headers["authorization"] == "Bearer EAAG-token"
    assert request.json() == {"messaging_product": "whatsapp", "recipient_type": "individual",
                              "to": "16315551234", "type": "text", "text": {"body": "Yes, today."}}


def test_send_failure_raises_with_status_and_no_token(fake_api, http):
    fake_api.status, fake_api.reply = 400, {"error": {"message": "Invalid parameter"}}
    inbound = whatsapp.parse(notification(TEXT), {}, "")
    with pytest.raises(ChannelSendError, match="400") as err:
        whatsapp.send(http, {"api_base_url": fake_api.base_url}, "EAAG-token", inbound, "x")
    assert "EAAG-token" not in str(err.value)


def test_send_falls_back_to_the_configured_phone_number_id(fake_api, http):
    body = json.loads(notification(TEXT))
    del body["entry"][0]["changes"][0]["value"]["metadata"]
    inbound = whatsapp.parse(json.dumps(body).encode(), {}, "")
    with pytest.raises(ChannelSendError, match="phone_number_id"):
        whatsapp.send(http, {"api_base_url": fake_api.base_url}, "EAAG-token", inbound, "x")
    whatsapp.send(http, {"api_base_url": fake_api.base_url, "phone_number_id": "999"}, "EAAG-token",
                  inbound, "x")
    assert fake_api.requests[0].path == "/999/messages"
