"""Every kind module exposes the same surface, and the shared helpers behave."""

import inspect
import json
import re
from dataclasses import asdict
from urllib.parse import urlencode

import pytest

from qorven_local.channels import base
from qorven_local.channels.kinds import KINDS, channel_kind, secret_name
from qorven_local.channels.types import Inbound
from qorven_local.errors import ChannelSendError, ValidationError

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
    assert isinstance(module.CONFIG_KEYS, dict)
    assert isinstance(module.SIGNED_HEADERS, tuple) and all(isinstance(h, str) for h in module.SIGNED_HEADERS)
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


@pytest.mark.parametrize("name", API_KINDS)
def test_every_config_key_a_kind_reads_is_documented(name):
    source = inspect.getsource(KINDS[name])
    used = set(re.findall(r'config\.get\("(\w+)"\)|config\["(\w+)"\]', source))
    used = {a or b for a, b in used} | set(re.findall(r'require_config\(\s*config,\s*"(\w+)"', source))
    assert used <= set(KINDS[name].CONFIG_KEYS), used - set(KINDS[name].CONFIG_KEYS)


def test_secret_names_default_to_the_verifying_secret_and_reject_others():
    assert secret_name(KINDS["slack"], None) == "signing_secret"
    assert secret_name(KINDS["slack"], "bot_token") == "bot_token"
    with pytest.raises(ValidationError) as err:
        secret_name(KINDS["telegram"], "password")
    assert err.value.param == "name" and "secret_token" in err.value.message


def sample_inbounds():
    from tests.channels import (test_discord, test_github, test_slack, test_telegram, test_twilio_sms,
                                test_webhook, test_whatsapp)
    yield KINDS["telegram"].parse(test_telegram.update(), {}, "")
    yield KINDS["slack"].parse(test_slack.event_body(thread_ts="1.2"), {}, "")
    yield KINDS["discord"].parse(test_discord.command(), {}, "")
    yield KINDS["whatsapp"].parse(test_whatsapp.notification(test_whatsapp.TEXT), {}, "")
    yield KINDS["twilio_sms"].parse(urlencode(test_twilio_sms.FORM).encode(), {}, "")
    yield KINDS["github"].parse(test_github.comment_event(), test_github.headers(), "")
    yield KINDS["webhook"].parse(test_webhook.BODY, {}, "")


def test_inbounds_survive_a_json_round_trip_so_the_outbox_can_store_them():
    for inbound in sample_inbounds():
        assert isinstance(inbound, Inbound)
        assert Inbound(**json.loads(json.dumps(asdict(inbound)))) == inbound


def test_send_errors_say_whether_the_outbox_should_retry(fake_api, http):
    inbound = next(sample_inbounds())
    config = {"api_base_url": fake_api.base_url}
    fake_api.status, fake_api.extra_headers = 429, {"Retry-After": "7"}
    with pytest.raises(ChannelSendError) as err:
        KINDS["telegram"].send(http, config, "123:ABC", inbound, "hi")
    assert err.value.retryable and err.value.retry_after == 7
    fake_api.status, fake_api.extra_headers = 400, {}
    with pytest.raises(ChannelSendError) as err:
        KINDS["telegram"].send(http, config, "123:ABC", inbound, "hi")
    assert not err.value.retryable and err.value.retry_after is None
    fake_api.status = 503
    with pytest.raises(ChannelSendError) as err:
        KINDS["telegram"].send(http, config, "123:ABC", inbound, "hi")
    assert err.value.retryable
