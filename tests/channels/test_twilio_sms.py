import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode

import pytest

from qorven_local.channels import twilio_sms
from qorven_local.errors import ChannelSendError
from qorven_local.errors import Unauthorized, ValidationError

TOKEN = "12345"
NOW = 1_700_000_000.0
CONFIG = {"public_base_url": "https://mycompany.com"}
FORM = {"ToCountry": "US", "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "NumMedia": "0", "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "Body": "Hello there",
        "To": "+15005550006", "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "AccountSid": "AC00000000000000000000000000000000", "From": "+14155551212", "ApiVersion": "2010-04-01"}
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


def verify(body, signature, url="/v1/webhooks/chn_1", secrets=(TOKEN,), config=CONFIG, headers=None):
    all_headers = dict(FORM_TYPE, **(headers or {}))
    if signature is not None:
        all_headers["X-Twilio-Signature"] = signature
    twilio_sms.verify(body, all_headers, url, list(secrets), config, NOW)


def test_twilios_published_examples_sign_as_documented():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    assert twilio_sms.sign(TOKEN, url, params.items()) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    sdk = dict(params, Caller="+14158675309", From="+14158675309")
    assert twilio_sms.sign(TOKEN, url, sdk.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_published_example_verifies_against_the_configured_public_url():
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    # Field order in the body does not matter: the scheme sorts by name.
    body = urlencode(sorted(params.items(), reverse=True)).encode()
    verify(body, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url="/myapp.php?foo=1&bar=2")
    verify(body, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url="/myapp.php?foo=1&bar=2",
           config={"public_base_url": "https://mycompany.com:443/"})


def test_a_correctly_signed_sms_is_accepted_and_the_signature_sorts_params():
    body = urlencode(FORM).encode()
    expected_payload = "https://mycompany.com/v1/webhooks/chn_1" + "".join(
        k + v for k, v in sorted(FORM.items()))
    expected = base64.b64encode(hmac.new(TOKEN.encode(), expected_payload.encode(), hashlib.sha1).digest()).decode()
    verify(body, expected)


def test_wrong_token_tampered_params_and_missing_signature_are_unauthorized():
    body = urlencode(FORM).encode()
    good = twilio_sms.sign(TOKEN, "https://mycompany.com/v1/webhooks/chn_1", FORM.items())
    with pytest.raises(Unauthorized):
        verify(body, twilio_sms.sign("other", "https://mycompany.com/v1/webhooks/chn_1", FORM.items()))
    with pytest.raises(Unauthorized):
        verify(body.replace(b"Hello", b"Goodbye"), good)
    with pytest.raises(Unauthorized, match="X-Twilio-Signature"):
        verify(body, None)


def test_the_url_comes_from_config_not_from_forwarded_headers():
    body = urlencode(FORM).encode()
    attacker = twilio_sms.sign(TOKEN, "https://evil.example/v1/webhooks/chn_1", FORM.items())
    with pytest.raises(Unauthorized):
        verify(body, attacker, url="https://evil.example/v1/webhooks/chn_1",
               headers={"X-Forwarded-Host": "evil.example", "Host": "evil.example"})
    good = twilio_sms.sign(TOKEN, "https://mycompany.com/v1/webhooks/chn_1", FORM.items())
    verify(body, good, url="http://127.0.0.1:7421/v1/webhooks/chn_1")  # only path+query are used


def test_without_public_base_url_nothing_verifies():
    body = urlencode(FORM).encode()
    with pytest.raises(Unauthorized, match="public_base_url"):
        verify(body, "x", config={})


def test_both_auth_tokens_work_during_rotation():
    body = urlencode(FORM).encode()
    for token in ("old", "new"):
        verify(body, twilio_sms.sign(token, "https://mycompany.com/v1/webhooks/chn_1", FORM.items()),
               secrets=("new", "old"))


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_bodies_that_are_not_form_encoded_are_refused_whatever_the_signature(content_type):
    body = urlencode(FORM).encode()
    url = "/v1/webhooks/chn_1"
    signature = twilio_sms.sign(TOKEN, "https://mycompany.com" + url)  # the URL alone: no params signed
    with pytest.raises(Unauthorized, match="x-www-form-urlencoded"):
        verify(body, signature, url=url, headers={"Content-Type": content_type})


def test_an_incoming_sms_becomes_an_inbound_and_is_acked_with_empty_twiml():
    inbound = twilio_sms.parse(urlencode(FORM).encode(), FORM_TYPE, FORM_TYPE["Content-Type"])
    assert inbound.sender == inbound.chat_id == "+14155551212"
    assert inbound.event_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f" and inbound.text == "Hello there"
    assert inbound.is_direct and inbound.reply_context["to"] == "+15005550006"
    reply = twilio_sms.ack(inbound)
    assert reply.content_type == "text/xml" and b"<Response></Response>" in reply.body
    assert twilio_sms.handshake("POST", {}, b"", {}, {}) is None


def test_status_callbacks_and_empty_bodies_need_no_run_and_no_sid_is_invalid():
    status = {"MessageSid": "SM1", "MessageStatus": "delivered", "From": "+1", "To": "+2"}
    assert twilio_sms.parse(urlencode(status).encode(), {}, "") is None
    assert twilio_sms.parse(urlencode(dict(FORM, Body="  ")).encode(), {}, "") is None
    with pytest.raises(ValidationError):
        twilio_sms.parse(b"Body=hi&From=%2B1", {}, "")


def test_send_posts_a_form_with_basic_auth(fake_api, http):
    fake_api.status = 201
    inbound = twilio_sms.parse(urlencode(FORM).encode(), {}, "")
    config = {"api_base_url": fake_api.base_url, "account_sid": "AC00000000000000000000000000000000"}
    twilio_sms.send(http, config, TOKEN, inbound, "General Kenobi")
    [request] = fake_api.requests
    assert request.path == "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"].startswith("Basic ")
    assert dict(parse_qsl(request.body.decode())) == {
        "To": "+14155551212", "From": "+15005550006", "Body": "General Kenobi"}


def test_send_failure_raises_with_status_and_no_token(fake_api, http):
    fake_api.status, fake_api.reply = 400, {"code": 21211, "message": "Invalid 'To' Phone Number"}
    inbound = twilio_sms.parse(urlencode(FORM).encode(), {}, "")
    with pytest.raises(ChannelSendError, match="400") as err:
        twilio_sms.send(http, {"api_base_url": fake_api.base_url}, "tok-secret", inbound, "x")
    assert "tok-secret" not in str(err.value)


def test_send_without_a_from_number_anywhere_is_a_configuration_error(http):
    inbound = twilio_sms.parse(urlencode({k: v for k, v in FORM.items() if k != "To"}).encode(), {}, "")
    with pytest.raises(ChannelSendError, match="from_number") as err:
        twilio_sms.send(http, {"account_sid": "AC1"}, TOKEN, inbound, "x")
    assert not err.value.retryable
