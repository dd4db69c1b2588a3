"""Webhooks fuzzed for one property: a delivery without a valid signature is a 401 and changes nothing.

The schema fuzzer leaves /v1/webhooks out (its bodies are whatever a channel sends, guarded by a
signature rather than a schema). Here every channel kind gets generated deliveries: random bytes,
JSON shaped like the real events (Slack's url_verification, Discord's PING, a Telegram update),
form bodies, and every signature and timestamp header filled with plausible but wrong values.
Each must answer 401 ``unauthorized``, store no job, no session and no message, and never 5xx.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

pytest.importorskip("hypothesis")   # comes with the schemathesis test extra, as does werkzeug
pytest.importorskip("werkzeug")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from werkzeug.test import Client  # noqa: E402

from qorven_local.bootstrap import build_context, ensure_admin_token
from qorven_local.config import load_config
from qorven_local.web.app import create_app, route_table
from tests.support.loopback_only import loopback_only
from tests.support.servers import TEST_LIMITS

SECRET = "unsigned-fuzz-secret-0123456789abcdef"
DISCORD_PUBLIC_HEX = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"  # RFC 8032 test key 1
CONFIG = {"twilio_sms": {"public_base_url": "https://qorven.example.test"},
          "whatsapp": {"verify_token": "meta-verify-1"}}
KINDS = ("telegram", "slack", "discord", "whatsapp", "twilio_sms", "github", "webhook")
SIGNATURE_HEADERS = ("X-Telegram-Bot-Api-Secret-Token", "X-Slack-Signature", "X-Signature-Ed25519",
                     "X-Hub-Signature-256", "X-Hub-Signature", "X-Twilio-Signature", "X-Qorven-Signature")
TIMESTAMP_HEADERS = ("X-Slack-Request-Timestamp", "X-Signature-Timestamp", "X-Qorven-Timestamp")
EXAMPLES = 120


@pytest.fixture(scope="module")
def webhook_app(tmp_path_factory):
    home = tmp_path_factory.mktemp("webhook-fuzz")
    config = load_config({**TEST_LIMITS, "home": str(home)}, env={})
    with loopback_only():
        ctx = build_context(config)
        token = ensure_admin_token(ctx)
        app = create_app(ctx)
        paths = {route.path for route in route_table(ctx)}
        if "/v1/webhooks/{channel}" not in paths:
            pytest.skip("the channels API is not part of this build yet")
        client = Client(app)
        auth = {"Authorization": f"Bearer {token}"}
        bindings = {}
        for kind in KINDS:
            created = client.post("/v1/channels", headers=auth, json={
                "kind": kind, "agent_id": "prime", "name": f"fuzz-{kind}", "config": CONFIG.get(kind, {})})
            assert created.status_code == 201, created.text
            binding = created.json
            secret = DISCORD_PUBLIC_HEX if kind == "discord" else SECRET
            put = client.put(f"/v1/channels/{binding['id']}/secret", headers=auth, json={"secret": secret})
            assert put.status_code in (200, 204), put.text
            bindings[kind] = binding["id"]
        yield client, ctx, bindings, home
        ctx.db.close()


def _counts(ctx) -> tuple[int, ...]:
    return tuple(ctx.db.query_one(f"SELECT count(*) FROM {table}")[0]
                 for table in ("channel_jobs", "channel_events", "sessions", "messages"))


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3),
                           max_leaves=8)
event_shaped = st.sampled_from([
    {"type": "url_verification", "challenge": "abc", "token": "x"},
    {"type": 1},
    {"type": 2, "data": {"name": "ask", "options": [{"name": "q", "value": "hi"}]}, "id": "1", "token": "t"},
    {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 7}, "from": {"id": 7}, "text": "hi"}},
    {"type": "event_callback", "event_id": "Ev1", "event": {"type": "message", "user": "U1", "text": "hi",
                                                             "channel": "D1"}},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [
        {"from": "1", "id": "wamid.1", "type": "text", "text": {"body": "hi"}}]}}]}]},
    {"action": "created", "comment": {"body": "@prime hi"}, "issue": {"number": 1}},
    {"id": "evt_1", "text": "hi", "sender": "me"},
])
bodies = st.one_of(
    st.binary(max_size=300),
    event_shaped.map(lambda e: json.dumps(e).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.just(b"From=%2B15551234567&Body=hi&MessageSid=SM1&To=%2B15550000000"),
)
header_values = st.one_of(st.just(""), st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e),
                                               max_size=80),
                          st.sampled_from(["sha256=" + "0" * 64, "v0=" + "f" * 64, "sha1=" + "a" * 40, "0" * 128,
                                           SECRET[:-1] + "X", "null", "sha256="]))


@st.composite
def deliveries(draw):
    kind = draw(st.sampled_from(KINDS))
    by_kind = draw(st.booleans())
    headers = {"Content-Type": draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                                     "text/plain", "application/octet-stream"]))}
    for name in draw(st.lists(st.sampled_from(SIGNATURE_HEADERS), unique=True, max_size=4)):
        headers[name] = draw(header_values)
    for name in draw(st.lists(st.sampled_from(TIMESTAMP_HEADERS), unique=True, max_size=3)):
        skew = draw(st.sampled_from([0, -5, 10, -400, 400, 10 ** 9]))
        headers[name] = str(int(time.time()) + skew)
    return kind, by_kind, headers, draw(bodies)


def test_unsigned_or_forged_deliveries_are_refused(webhook_app, caplog):
    client, ctx, bindings, home = webhook_app
    caplog.set_level(logging.ERROR, logger="qorven")
    before = _counts(ctx)
    statuses: dict[int, int] = {}

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(delivery=deliveries())
    def check(delivery):
        kind, by_kind, headers, body = delivery
        target = kind if by_kind else bindings[kind]
        with loopback_only():
            response = client.post(f"/v1/webhooks/{target}", data=body, headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code == 401, (kind, headers, body[:200], response.status_code, response.text[:300])
        assert response.json["error"]["code"] == "unauthorized"
        assert SECRET not in response.text

    check()
    assert _counts(ctx) == before, "an unverified delivery stored something"
    unhandled = [r.getMessage() for r in caplog.records if r.name == "qorven.web" and r.levelno >= logging.ERROR]
    assert not unhandled, unhandled[:5]
    assert statuses == {401: sum(statuses.values())}


@pytest.mark.parametrize("kind", KINDS)
def test_a_binding_without_a_secret_refuses_everything(webhook_app, kind):
    client, ctx, _, _ = webhook_app
    token = ctx.tokens.issue("default", "admin", label="no-secret")
    auth = {"Authorization": f"Bearer {token}"}
    created = client.post("/v1/channels", headers=auth, json={"kind": kind, "agent_id": "prime",
                                                              "name": f"nosecret-{kind}",
                                                              "config": CONFIG.get(kind, {})})
    assert created.status_code == 201, created.text
    binding_id = created.json["id"]
    with loopback_only():
        for body in (b"", b"{}", json.dumps({"type": 1}).encode(),
                     json.dumps({"type": "url_verification", "challenge": "c"}).encode()):
            r = client.post(f"/v1/webhooks/{binding_id}", data=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 401, (kind, body, r.status_code, r.text[:200])
