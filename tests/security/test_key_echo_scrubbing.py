"""An upstream error that echoes the provider key URL-encoded or base64-encoded is scrubbed like a plain echo."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import pytest

from tests.fakes import Reply

# "+", "/" and "=" change under URL encoding, so an encoded echo differs from the plain key
KEY = "sk-live+echo/test=key~0123456789abcdefXYZ"

ECHOES = {
    "plain": KEY,
    "URL-encoded": quote(KEY, safe=""),
    "URL-encoded, lowercase hex": "".join(f"%{b:02x}" for b in KEY.encode()),
    "form-encoded": quote_plus(KEY),
    "URL-encoded twice": quote(quote(KEY, safe=""), safe=""),
    "base64": base64.b64encode(KEY.encode()).decode(),
    "base64url": base64.urlsafe_b64encode(KEY.encode()).decode(),
    "basic-auth base64": base64.b64encode(b"apikey:" + KEY.encode()).decode(),
    "base64 mid-value": base64.b64encode(b"xy" + KEY.encode() + b"!").decode(),
}


@pytest.fixture
def keyed(admin, fake):
    """The fake upstream added as a provider whose key has characters URL encoding changes."""
    fake.api_key = KEY
    provider = admin.post("/v1/providers", json={"name": "echoer", "kind": "openai_compatible",
                                                 "base_url": fake.base_url})
    assert provider.status_code == 201, provider.text
    assert admin.put(f"/v1/providers/{provider.json()['id']}/keys", json={"key": KEY}).status_code == 200
    return admin


@pytest.mark.parametrize("form", ECHOES)
def test_an_encoded_echo_of_the_key_in_an_upstream_error_is_scrubbed(keyed, fake, form):
    echo = ECHOES[form]
    fake.enqueue(Reply.error(500, f"bad request for credential {echo} (see docs)"))
    failed = keyed.post("/v1/chat/completions", json={"model": "echoer/fake-model",
                                                      "messages": [{"role": "user", "content": "hi"}]})
    assert failed.status_code == 502, failed.text
    assert "[key]" in failed.text
    for leaked in ECHOES.values():
        assert leaked not in failed.text, (form, failed.text)
    assert "(see docs)" in failed.text  # the rest of the upstream message is kept


def test_an_encoded_echo_in_a_mid_stream_error_is_scrubbed(keyed, fake):
    encoded = quote(KEY, safe="")
    fake.enqueue(Reply.text("half an answer", error_after=1, error_message=f"stream aborted for key={encoded}"))
    streamed = keyed.post("/v1/chat/completions", json={"model": "echoer/fake-model", "stream": True,
                                                        "messages": [{"role": "user", "content": "hi"}]})
    assert streamed.status_code == 200  # the stream had started; the failure arrives inside it
    assert "stream aborted" in streamed.text and "[key]" in streamed.text
    assert encoded not in streamed.text
