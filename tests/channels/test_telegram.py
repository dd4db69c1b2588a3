import json

import pytest

from qorven_local.channels import telegram
from qorven_local.errors import ChannelSendError
from qorven_local.errors import Unauthorized, ValidationError

SECRET = "s3cret-token_1"
NOW = 1_700_000_000.0


def update(**message):
    msg = {"message_id": 7, "date": 1700000000,
           "from": {"id": 42, "is_bot": False, "first_name": "Ada", "last_name": "Lovelace",
                    "username": "ada"},
           "chat": {"id": 42, "type": "private", "first_name": "Ada"},
           "text": "hello agent"}
    msg.update(message)
    return json.dumps({"update_id": 1001, "message": msg}).encode()


def verify(headers, secrets=(SECRET,)):
    telegram.verify(update(), headers, "/v1/webhooks/chn_1", list(secrets), {}, NOW)


def test_request_with_the_secret_token_is_accepted():
    verify({"X-Telegram-Bot-Api-Secret-Token": SECRET})


def test_wrong_or_missing_secret_token_is_unauthorized_without_echoing_it():
    with pytest.raises(Unauthorized) as err:
        verify({"X-Telegram-Bot-Api-Secret-Token": "guess"})
    assert SECRET not in str(err.value) and "guess" not in str(err.value)
    with pytest.raises(Unauthorized, match="missing"):
        verify({})


def test_previous_and_current_token_both_work_during_rotation():
    for token in ("old-token", "new-token"):
        verify({"x-telegram-bot-api-secret-token": token}, secrets=("new-token", "old-token"))


def test_no_configured_secret_rejects_everything():
    with pytest.raises(Unauthorized, match="no secret"):
        verify({"X-Telegram-Bot-Api-Secret-Token": ""}, secrets=("",))


def test_a_private_text_message_becomes_an_inbound():
    inbound = telegram.parse(update(), {}, "application/json")
    assert inbound.sender == "42" and inbound.chat_id == "42" and inbound.event_id == "1001"
    assert inbound.text == "hello agent" and inbound.display_name == "Ada Lovelace"
    assert inbound.is_direct and inbound.raw_kind == "message"


def test_group_message_replies_to_the_group():
    inbound = telegram.parse(update(chat={"id": -100123, "type": "supergroup"}), {}, "")
    assert inbound.chat_id == "-100123" and not inbound.is_direct


def test_bots_edits_and_non_text_messages_need_no_run():
    assert telegram.parse(update(**{"from": {"id": 9, "is_bot": True, "first_name": "B"}}), {}, "") is None
    assert telegram.parse(update(text=None), {}, "") is None
    edited = json.dumps({"update_id": 5, "edited_message": {"text": "x"}}).encode()
    assert telegram.parse(edited, {}, "") is None


def test_malformed_updates_are_validation_errors():
    with pytest.raises(ValidationError):
        telegram.parse(b"not json", {}, "")
    with pytest.raises(ValidationError):
        telegram.parse(b'{"message": {}}', {}, "")


def test_no_handshake():
    assert telegram.handshake("POST", {}, update(), {}, {}) is None


def test_send_calls_send_message_with_the_bot_token(fake_api, http):
    inbound = telegram.parse(update(), {}, "")
    telegram.send(http, {"api_base_url": fake_api.base_url}, "123:ABC", inbound, "hi Ada")
    [request] = fake_api.requests
    assert request.path == "/bot123:ABC/sendMessage"
    assert request.json() == {"chat_id": "42", "text": "hi Ada"}


def test_long_replies_are_sent_in_pieces_telegram_accepts(fake_api, http):
    inbound = telegram.parse(update(), {}, "")
    telegram.send(http, {"api_base_url": fake_api.base_url}, "123:ABC", inbound, "x" * 5000)
    assert [len(r.json()["text"]) for r in fake_api.requests] == [4096, 904]


def test_send_failure_names_the_status_but_never_the_token(fake_api, http):
    fake_api.status, fake_api.reply = 401, {"ok": False, "description": "Unauthorized"}
    inbound = telegram.parse(update(), {}, "")
    with pytest.raises(ChannelSendError) as err:
        telegram.send(http, {"api_base_url": fake_api.base_url}, "123:ABC", inbound, "hi")
    assert "401" in str(err.value) and "123:ABC" not in str(err.value)
    assert err.value.status_code == 401


def test_unreachable_api_error_does_not_leak_the_url_with_the_token(http):
    inbound = telegram.parse(update(), {}, "")
    with pytest.raises(ChannelSendError) as err:
        telegram.send(http, {"api_base_url": "http://127.0.0.1:9"}, "123:ABC", inbound, "hi")
    assert "123:ABC" not in str(err.value) and err.value.status_code is None
    assert err.value.retryable


def test_send_without_a_bot_token_is_a_clear_error(http):
    inbound = telegram.parse(update(), {}, "")
    with pytest.raises(ChannelSendError, match="bot_token") as err:
        telegram.send(http, {}, None, inbound, "hi")
    assert not err.value.retryable  # the outbox should surface it, not retry it
