import json

import pytest

from qorven_local.channels import slack
from qorven_local.errors import ChannelSendError
from qorven_local.errors import Unauthorized, ValidationError

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000.0
BOT = "U0BOT"


def event_body(**event):
    ev = {"type": "message", "channel": "C123", "user": "U2CERLKJA", "text": "what is up?",
          "ts": "1700000000.000100", "channel_type": "channel"}
    ev.update(event)
    return json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": "Ev0PV52K21", "event_time": 1700000000, "event": ev,
                       "authorizations": [{"user_id": BOT, "is_bot": True}]}).encode()


def signed(body, secret=SECRET, ts=int(NOW)):
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": slack.sign(secret, str(ts), body)}


def verify(body, headers, secrets=(SECRET,), now=NOW):
    slack.verify(body, headers, "/v1/webhooks/chn_1", list(secrets), {}, now)


def test_slacks_published_example_verifies():
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    headers = {"X-Slack-Request-Timestamp": "1531420618",
               "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"}
    verify(body, headers, now=1531420618 + 10)


def test_a_correctly_signed_event_is_accepted():
    body = event_body()
    verify(body, signed(body))


def test_wrong_secret_tampered_body_and_missing_headers_are_unauthorized():
    body = event_body()
    with pytest.raises(Unauthorized):
        verify(body, signed(body, secret="other"))
    with pytest.raises(Unauthorized):
        verify(body.replace(b"what is up", b"rm -rf /"), signed(body))
    for missing in ("X-Slack-Signature", "X-Slack-Request-Timestamp"):
        headers = signed(body)
        del headers[missing]
        with pytest.raises(Unauthorized, match=missing):
            verify(body, headers)


def test_stale_or_future_timestamps_are_replays():
    body = event_body()
    with pytest.raises(Unauthorized, match="window"):
        verify(body, signed(body, ts=int(NOW) - 301))
    with pytest.raises(Unauthorized, match="window"):
        verify(body, signed(body, ts=int(NOW) + 301))
    verify(body, signed(body, ts=int(NOW) - 299))


def test_both_signing_secrets_work_during_rotation():
    body = event_body()
    for secret in ("old-secret", "new-secret"):
        verify(body, signed(body, secret=secret), secrets=("new-secret", "old-secret"))


def test_url_verification_answers_the_challenge():
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    reply = slack.handshake("POST", {}, body, {}, {})
    assert reply.status == 200 and reply.content_type == "application/json"
    assert json.loads(reply.body) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert slack.handshake("POST", {}, event_body(), {}, {}) is None


def test_a_channel_message_becomes_an_inbound():
    inbound = slack.parse(event_body(), {}, "application/json")
    assert (inbound.sender, inbound.chat_id, inbound.event_id, inbound.text) == (
        "U2CERLKJA", "C123", "Ev0PV52K21", "what is up?")
    assert not inbound.is_direct and inbound.raw_kind == "message"


def test_a_slack_retry_parses_to_the_same_event_id_so_de_duplication_drops_it():
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.parse(event_body(), retry, "").event_id == slack.parse(event_body(), {}, "").event_id


def test_dm_and_threaded_mentions():
    assert slack.parse(event_body(channel_type="im", channel="D1"), {}, "").is_direct
    mention = slack.parse(event_body(type="app_mention", text=f"<@{BOT}> hi", thread_ts="1.2"), {}, "")
    assert mention.raw_kind == "app_mention" and mention.reply_context["thread_ts"] == "1.2"


def test_bot_messages_own_messages_edits_and_double_mentions_need_no_run():
    assert slack.parse(event_body(bot_id="B1", subtype="bot_message"), {}, "") is None
    assert slack.parse(event_body(user=BOT), {}, "") is None
    assert slack.parse(event_body(subtype="message_changed"), {}, "") is None
    # The same mention also arrives as app_mention; only that one runs.
    assert slack.parse(event_body(text=f"<@{BOT}> hello"), {}, "") is None
    assert slack.parse(event_body(type="reaction_added"), {}, "") is None


def test_malformed_event_is_a_validation_error():
    with pytest.raises(ValidationError):
        slack.parse(b"{", {}, "")
    with pytest.raises(ValidationError):
        slack.parse(b'{"type": "event_callback"}', {}, "")


def test_send_posts_in_the_thread_with_the_bot_token(fake_api, http):
    inbound = slack.parse(event_body(thread_ts="1700.1"), {}, "")
    slack.send(http, {"api_base_url": fake_api.base_url}, "xoxb-1", inbound, "fine, thanks")
    [request] = fake_api.requests
    assert request.path == "/chat.postMessage"
    assert request.headers["authorization"] == "Bearer xoxb-1"
    assert request.json() == {"channel": "C123", "text": "fine, thanks", "thread_ts": "1700.1"}


def test_slack_ok_false_and_http_errors_raise(fake_api, http):
    inbound = slack.parse(event_body(), {}, "")
    fake_api.reply = {"ok": False, "error": "channel_not_found"}
    with pytest.raises(ChannelSendError, match="channel_not_found"):
        slack.send(http, {"api_base_url": fake_api.base_url}, "xoxb-1", inbound, "x")
    fake_api.status = 500
    with pytest.raises(ChannelSendError, match="500") as err:
        slack.send(http, {"api_base_url": fake_api.base_url}, "xoxb-1", inbound, "x")
    assert "xoxb-1" not in str(err.value)
