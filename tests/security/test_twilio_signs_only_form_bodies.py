"""Twilio's signature covers form parameters only, so a delivery that is not form encoded is refused
with 401 before its body is parsed (the parsed parameters would not be the signed ones)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from tests.channels_api.conftest import CONFIG, PUBLIC_BASE, SECRET, binding_status, count, make_binding

PARAMS = {"MessageSid": "SM0123456789abcdef", "AccountSid": "AC1", "From": "+15550001", "To": "+15550002",
          "Body": "run something for me"}


def _twilio_signature(url: str, params: dict[str, str]) -> str:
    signed = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(SECRET.encode(), signed.encode(), hashlib.sha1).digest()).decode()


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None])
def test_a_body_the_signature_did_not_cover_is_refused_before_parsing(admin, server, content_type):
    binding = make_binding(admin, "twilio_sms", config=CONFIG["twilio_sms"])
    url = f"{PUBLIC_BASE}/v1/webhooks/{binding['id']}"
    # Signed as Twilio signs a request without form parameters: the URL alone covers nothing of the body.
    headers = {"X-Twilio-Signature": _twilio_signature(url, {}), "Authorization": ""}
    if content_type:
        headers["Content-Type"] = content_type
    response = admin.post(f"/v1/webhooks/{binding['id']}", content=urlencode(PARAMS).encode(), headers=headers)
    assert response.status_code == 401, response.text
    body = response.json()["error"]
    assert body["code"] == "unauthorized" and "application/x-www-form-urlencoded" in body["message"]
    assert count(server, "channel_jobs WHERE binding_id = ?", binding["id"]) == 0
    assert binding_status(admin, binding["id"])["rejected_count"] == 1


def test_a_signed_form_with_a_charset_is_still_accepted(admin, server):
    binding = make_binding(admin, "twilio_sms", config=CONFIG["twilio_sms"])
    url = f"{PUBLIC_BASE}/v1/webhooks/{binding['id']}"
    response = admin.post(f"/v1/webhooks/{binding['id']}", content=urlencode(PARAMS).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": "",
        "X-Twilio-Signature": _twilio_signature(url, PARAMS)})
    assert response.status_code == 200, response.text
    assert count(server, "channel_jobs WHERE binding_id = ?", binding["id"]) == 1
