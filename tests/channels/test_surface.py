"""Every kind module exposes the same surface, and the shared helpers behave."""

import inspect

import pytest

from qorven_local.channels import base
from qorven_local.channels.kinds import KINDS, channel_kind
from qorven_local.errors import ValidationError

API_KINDS = ["telegram", "slack", "discord", "whatsapp", "twilio_sms", "github", "webhook"]
FUNCTIONS = {
    "verify": ["raw_body", "headers", "url", "secrets", "config", "now"],
    "handshake": ["method", "query", "raw_body", "headers", "config"],
    "parse": ["raw_body", "headers", "content_type"],
    "ack": ["inbound"],
    "send": ["http", "config", "send_secret", "inbound", "text"],
}


def test_kinds_lists_exactly_the_kinds_of_the_api_contract():
    assert list(KINDS) == API_KINDS


@pytest.mark.parametrize("name", API_KINDS)
def test_each_kind_module_has_the_base_surface(name):
    module = KINDS[name]
    assert module.KIND == name
    assert isinstance(module.DEFAULT_API_BASE_URL, str)
    assert module.SECRET_NAMES and all(isinstance(n, str) for n in module.SECRET_NAMES)
    assert module.SEND_SECRET is None or module.SEND_SECRET in module.SECRET_NAMES
    for function, params in FUNCTIONS.items():
        assert list(inspect.signature(getattr(module, function)).parameters) == params, function


def test_unknown_kind_is_a_validation_error_listing_the_known_ones():
    with pytest.raises(ValidationError, match="telegram"):
        channel_kind("irc")


def test_headers_are_found_whatever_their_case():
    assert base.header({"X-SLACK-SIGNATURE": "v0=1"}, "X-Slack-Signature") == "v0=1"
    assert base.header({"x-slack-signature": "v0=1"}, "X-Slack-Signature") == "v0=1"
    assert base.header({}, "X-Slack-Signature") is None


def test_long_replies_are_split_at_line_breaks_within_the_limit():
    text = "a" * 8 + "\n" + "b" * 8 + " " + "c" * 30
    chunks = base.chunk_text(text, 10)
    assert all(len(c) <= 10 for c in chunks)
    assert chunks[:2] == ["a" * 8, "b" * 8]
    assert "".join(chunks[2:]) == "c" * 30
    assert base.chunk_text("", 10) == [""]
