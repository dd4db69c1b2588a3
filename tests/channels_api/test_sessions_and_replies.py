"""Where channel messages land (sessions per kind) and how the generic webhook's reply is signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from qorven_local.storage.channels import BindingStore
from qorven_local.storage.db import Database
from qorven_local.storage.migrations import migrate
from tests.channels_api.conftest import SECRET, make_binding, settled, sign_github, sign_webhook
from tests.fakes import Reply
from tests.support.upstream import configure_upstream
from tests.support.wait import wait_until


def _github_comment(text: str, number: int, login: str) -> bytes:
    return json.dumps({"action": "created", "issue": {"number": number, "title": "Bug"},
                       "comment": {"body": text, "user": {"login": login, "type": "User"}},
                       "repository": {"full_name": "acme/app"}}).encode()


def test_github_comments_share_one_session_per_issue(admin, server, llm, channel_api):  # noqa: F811
    configure_upstream(admin, llm)
    binding = make_binding(admin, "github", config={"api_base_url": channel_api.base_url})
    admin.put(f"/v1/channels/{binding['id']}/secret", json={"secret": "ghp_test_token_0123456789", "name": "token"})
    for text, number, login in (("first", 12, "ada"), ("second", 12, "grace"), ("elsewhere", 13, "ada")):
        assert sign_github(binding, body=_github_comment(text, number, login)).post(
            admin, binding["id"]).status_code == 200
    calls = channel_api.wait_for(3)
    assert sorted(c.path for c in calls) == ["/repos/acme/app/issues/12/comments"] * 2 + [
        "/repos/acme/app/issues/13/comments"]
    assert all(c.headers["authorization"] == "Bearer ghp_test_token_0123456789" for c in calls)
    sessions = admin.get("/v1/sessions", params={"channel": "github"}).json()["data"]
    assert sorted((s["peer"], s["message_count"]) for s in sessions) == [("acme/app#12", 4), ("acme/app#13", 2)]


def test_the_generic_webhook_posts_a_signed_reply_to_reply_url(admin, server, llm, channel_api):  # noqa: F811
    configure_upstream(admin, llm)
    binding = make_binding(admin, "webhook", config={"reply_url": channel_api.base_url + "/hooks/reply"})
    delivery = sign_webhook(binding)
    assert delivery.post(admin, binding["id"]).status_code == 200
    call = channel_api.wait_for(1)[0]
    assert call.path == "/hooks/reply"
    timestamp = call.headers["x-qorven-timestamp"]
    expected = "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + call.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(call.headers["x-qorven-signature"], expected)
    assert abs(int(timestamp) - time.time()) < 60
    assert call.json() == {"in_reply_to": delivery.event_id, "chat_id": "ada", "recipient": "ada",
                           "text": "hello agent"}
    assert settled(admin, binding["id"])["healthy"] is True
    session = admin.get("/v1/sessions", params={"channel": "webhook"}).json()["data"]
    assert [s["peer"] for s in session] == ["ada"]


def test_twilio_is_checked_against_the_configured_public_url_not_the_request(api, shared_server):
    binding = make_binding(api, "twilio_sms", config={"public_base_url": "https://sms.example.test"})
    params = {"MessageSid": "SM1", "AccountSid": "AC1", "From": "+15550001", "To": "+15550002", "Body": "hi"}

    def signature(url: str) -> str:
        signed = url + "".join(k + v for k, v in sorted(params.items()))
        return base64.b64encode(hmac.new(SECRET.encode(), signed.encode(), hashlib.sha1).digest()).decode()

    path = f"/v1/webhooks/{binding['id']}"
    local_url = f"{shared_server.url}{path}"
    forged = api.post(path, content=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature(local_url),
        "X-Forwarded-Host": shared_server.url.split("//")[1], "X-Forwarded-Proto": "http"})
    assert forged.status_code == 401
    real = api.post(path, content=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature(f"https://sms.example.test{path}")})
    assert real.status_code == 200


def test_event_ids_are_forgotten_after_seven_days(tmp_path):
    db = Database(tmp_path / "q.db")
    migrate(db, "2026-01-01T00:00:00.000Z")
    store = BindingStore(db)
    now = 1_800_000_000.0
    with db.write() as conn:
        assert store.remember_event(conn, "chn_1", "old", now - 8 * 86400)
        assert store.remember_event(conn, "chn_1", "recent", now - 6 * 86400)
        assert not store.remember_event(conn, "chn_1", "recent", now)   # a replay
        assert store.remember_event(conn, "chn_2", "recent", now)       # other binding, other id space
    assert store.prune_events(now - 7 * 86400) == 1
    with db.write() as conn:
        assert store.remember_event(conn, "chn_1", "old", now)          # forgotten: accepted again
        assert not store.remember_event(conn, "chn_1", "recent", now)
    db.close()


def test_channel_runs_are_plan_runs_and_wait_for_a_free_slot(tmp_path, llm, channel_api):  # noqa: F811
    from tests.support.servers import InProcessServer
    with InProcessServer(tmp_path / "home", settings={"max_runs_per_tenant": 1}) as server, \
            server.client() as admin:
        configure_upstream(admin, llm)
        admin.post("/v1/agents", json={"name": "quiet", "memory": {"enabled": False, "auto_save": False}})
        binding = make_binding(admin, "webhook", agent="quiet",
                               config={"reply_url": channel_api.base_url + "/reply"})
        llm.enqueue(Reply.text("slow answer", chunks=4, delay=0.3), Reply.text("second answer"))
        sign_webhook(binding).post(admin, binding["id"])
        # the first run holds the tenant's only slot once it is asking the model
        wait_until(llm.chat_requests, message="the first run never reached the model")
        # another message (the same signed bytes within the same second would be a replay)
        sign_webhook(binding, body=json.dumps({"text": "and another", "sender": "ada"}).encode()).post(
            admin, binding["id"])
        calls = channel_api.wait_for(2, timeout=20)
        assert [c.json()["text"] for c in calls] == ["slow answer", "second answer"]
        assert settled(admin, binding["id"])["outbox_pending"] == 0
        deliveries = admin.get(f"/v1/channels/{binding['id']}/deliveries").json()["data"]
        assert [d["status"] for d in deliveries] == ["sent", "sent"]
