"""Channel API fixtures: a real server, the fake model upstream and a fake channel API on loopback, and
request signers per kind.

Every signer builds the request the provider's published scheme describes, from the test's own
secret; nothing is taken from the code under test except the header names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.fakes import FakeProvider
from tests.support.fake_channel_api import FakeChannelAPI, running_fake_channel_api
from tests.support.servers import InProcessServer
from tests.support.upstream import UPSTREAM_KEY
from tests.support.wait import wait_until

PUBLIC_BASE = "https://qorven.example.test"   # what Twilio would be configured to call
DISCORD_KEY = Ed25519PrivateKey.generate()
DISCORD_PUBLIC_HEX = DISCORD_KEY.public_key().public_bytes_raw().hex()
OTHER_DISCORD_KEY = Ed25519PrivateKey.generate()
SECRET = "s3cret-for-tests_0123456789abcdef"
WRONG = "not-the-secret_0123456789abcdef00"


# --- a fake channel API (Telegram Bot API, Slack Web API, ...) -----------------------------------

@pytest.fixture
def channel_api() -> Iterator[FakeChannelAPI]:
    with running_fake_channel_api() as api:
        yield api


# --- the model upstream and servers -------------------------------------------------------------

@pytest.fixture
def llm() -> Iterator[FakeProvider]:
    """A fake model upstream of its own for each test (add it with ``configure_upstream``)."""
    with FakeProvider(api_key=UPSTREAM_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for a module whose tests each make their own bindings."""
    with InProcessServer(tmp_path_factory.mktemp("channels") / "home") as srv:
        yield srv


@pytest.fixture
def api(shared_server):
    with shared_server.client() as client:
        yield client


def make_binding(api: httpx.Client, kind: str, secret: str | None = SECRET, agent: str = "prime",
                 **fields: Any) -> dict:
    body = {"kind": kind, "agent_id": agent, "name": f"{kind}-{uuid.uuid4().hex[:8]}", **fields}
    created = api.post("/v1/channels", json=body)
    assert created.status_code == 201, created.text
    binding = created.json()
    if secret is not None:
        put = api.put(f"/v1/channels/{binding['id']}/secret",
                      json={"secret": DISCORD_PUBLIC_HEX if kind == "discord" else secret})
        assert put.status_code == 200, put.text
        binding = put.json()
    return binding


def count(server, sql: str, *args: Any) -> int:
    return server.ctx.db.query_one(f"SELECT count(*) FROM {sql}", args)[0]


def binding_status(api: httpx.Client, binding_id: str) -> dict:
    return next(s for s in api.get("/v1/channels/status").json()["data"] if s["id"] == binding_id)


def settled(api: httpx.Client, binding_id: str, timeout: float = 10.0) -> dict:
    """The binding's status once nothing is left in its outbox."""
    return wait_until(lambda: (status := binding_status(api, binding_id))["outbox_pending"] == 0 and status,
                      timeout=timeout, message=f"the outbox of {binding_id} never drained")


# --- one correctly signed delivery per kind -----------------------------------------------------

@dataclass
class Delivery:
    """A webhook request: body, headers, and the query string (Twilio signs the URL)."""

    body: bytes
    headers: dict[str, str]
    event_id: str
    query: str = ""

    def post(self, api: httpx.Client, binding_id: str, prefix: str = "/v1/webhooks/") -> httpx.Response:
        url = prefix + binding_id + (f"?{self.query}" if self.query else "")
        return api.post(url, content=self.body, headers={**self.headers, "Authorization": ""})


def _hmac_hex(secret: str, message: bytes, algo=hashlib.sha256) -> str:
    return hmac.new(secret.encode(), message, algo).hexdigest()


def telegram_body(sender: int = 42, text: str = "hello agent", update_id: int | None = None) -> bytes:
    return json.dumps({"update_id": update_id or int(uuid.uuid4().int % 10**9), "message": {
        "message_id": 7, "date": int(time.time()),
        "from": {"id": sender, "is_bot": False, "first_name": "Ada", "last_name": "Lovelace"},
        "chat": {"id": sender, "type": "private"}, "text": text}}).encode()


def sign_telegram(binding: dict, secret: str = SECRET, body: bytes | None = None, ts: float | None = None) -> Delivery:
    body = body or telegram_body()
    return Delivery(body, {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
                    str(json.loads(body)["update_id"]))


def sign_slack(binding: dict, secret: str = SECRET, body: bytes | None = None, ts: float | None = None) -> Delivery:
    event_id = "Ev" + uuid.uuid4().hex[:10].upper()
    body = body or json.dumps({"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": {
        "type": "message", "channel_type": "im", "user": "U42", "channel": "D42", "text": "hello agent",
        "ts": "1.0"}}).encode()
    timestamp = str(int(ts or time.time()))
    signature = "v0=" + _hmac_hex(secret, b"v0:" + timestamp.encode() + b":" + body)
    return Delivery(body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
                           "X-Slack-Signature": signature}, json.loads(body).get("event_id", ""))


def sign_discord(binding: dict, secret: Any = None, body: bytes | None = None, ts: float | None = None) -> Delivery:
    key = OTHER_DISCORD_KEY if secret == WRONG else DISCORD_KEY
    interaction_id = str(uuid.uuid4().int % 10**18)
    body = body or json.dumps({"id": interaction_id, "type": 2, "application_id": "app1", "token": "itok",
                               "channel_id": "c1", "user": {"id": "u42", "username": "ada"},
                               "data": {"name": "ask", "options": [{"name": "q", "value": "hello agent"}]}}).encode()
    timestamp = str(int(ts or time.time()))
    return Delivery(body, {"Content-Type": "application/json", "X-Signature-Timestamp": timestamp,
                           "X-Signature-Ed25519": key.sign(timestamp.encode() + body).hex()},
                    json.loads(body).get("id", ""))


def sign_whatsapp(binding: dict, secret: str = SECRET, body: bytes | None = None, ts: float | None = None) -> Delivery:
    wamid = "wamid." + uuid.uuid4().hex
    body = body or json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"phone_number_id": "PN1"},
                                       "contacts": [{"wa_id": "4915550001", "profile": {"name": "Ada"}}],
                                       "messages": [{"from": "4915550001", "id": wamid, "type": "text",
                                                     "text": {"body": "hello agent"}}]}}]}]}).encode()
    return Delivery(body, {"Content-Type": "application/json",
                           "X-Hub-Signature-256": "sha256=" + _hmac_hex(secret, body)}, wamid)


def sign_twilio_sms(binding: dict, secret: str = SECRET, body: bytes | None = None,
                    ts: float | None = None) -> Delivery:
    sid = "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "AccountSid": "AC1", "From": "+15550001", "To": "+15550002",
              "Body": "hello agent"}
    body = body or urlencode(params).encode()
    url = f"{PUBLIC_BASE}/v1/webhooks/{binding['id']}"
    # Twilio: base64(HMAC-SHA1(auth token, URL + each param name and value, sorted by name))
    signed = url + "".join(k + v for k, v in sorted(params.items()))
    signature = base64.b64encode(hmac.new(secret.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    return Delivery(body, {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Twilio-Signature": signature}, sid)


def sign_github(binding: dict, secret: str = SECRET, body: bytes | None = None, ts: float | None = None) -> Delivery:
    delivery = str(uuid.uuid4())
    body = body or json.dumps({"action": "created", "issue": {"number": 12, "title": "Bug"},
                               "comment": {"body": "hello agent", "user": {"login": "ada", "type": "User"}},
                               "repository": {"full_name": "acme/app"}}).encode()
    return Delivery(body, {"Content-Type": "application/json", "X-GitHub-Event": "issue_comment",
                           "X-GitHub-Delivery": delivery,
                           "X-Hub-Signature-256": "sha256=" + _hmac_hex(secret, body)}, delivery)


def sign_webhook(binding: dict, secret: str = SECRET, body: bytes | None = None, ts: float | None = None) -> Delivery:
    event_id = "evt_" + uuid.uuid4().hex
    body = body or json.dumps({"text": "hello agent", "sender": "ada"}).encode()
    timestamp = str(int(ts or time.time()))
    return Delivery(body, {"Content-Type": "application/json", "X-Qorven-Timestamp": timestamp,
                           "X-Qorven-Event-Id": event_id,
                           "X-Qorven-Signature": "sha256=" + _hmac_hex(secret, timestamp.encode() + b"." + body)},
                    event_id)


SIGNERS = {"telegram": sign_telegram, "slack": sign_slack, "discord": sign_discord, "whatsapp": sign_whatsapp,
           "twilio_sms": sign_twilio_sms, "github": sign_github, "webhook": sign_webhook}
SIGNATURE_HEADER = {"telegram": "X-Telegram-Bot-Api-Secret-Token", "slack": "X-Slack-Signature",
                    "discord": "X-Signature-Ed25519", "whatsapp": "X-Hub-Signature-256",
                    "twilio_sms": "X-Twilio-Signature", "github": "X-Hub-Signature-256",
                    "webhook": "X-Qorven-Signature"}
TIMESTAMPED = ("slack", "discord", "webhook")
CONFIG = {"twilio_sms": {"public_base_url": PUBLIC_BASE}, "whatsapp": {"verify_token": "meta-verify-1"}}


def product_log() -> bytes:
    """What the product's log file holds (one file handler per process, following the newest server)."""
    files = [h.baseFilename for h in logging.getLogger("qorven").handlers
             if isinstance(h, logging.FileHandler) and h.get_name() == "qorven-file"]
    assert files, "the qorven log handler is not installed"
    for handler in logging.getLogger("qorven").handlers:
        handler.flush()
    return b"".join(open(f, "rb").read() for f in files)
