import json
from urllib.parse import urlencode

import pytest

from qorven_local.channels import github
from qorven_local.errors import ChannelSendError
from qorven_local.errors import Unauthorized, ValidationError

SECRET = "It's a Secret to Everybody"
NOW = 1_700_000_000.0
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def comment_event(body="@qorven can you review this?", user_type="User", login="octocat", **comment):
    c = {"id": 1, "body": body, "user": {"login": login, "id": 1, "type": user_type},
         "performed_via_github_app": None}
    c.update(comment)
    return json.dumps({"action": "created",
                       "issue": {"number": 1347, "title": "Found a bug", "body": "It breaks",
                                 "user": {"login": "octocat", "type": "User"}},
                       "comment": c,
                       "repository": {"full_name": "octo-org/hello-world", "name": "hello-world"},
                       "sender": {"login": login, "type": user_type}}).encode()


def headers(event="issue_comment"):
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": DELIVERY}


def verify(body, hdrs, secrets=(SECRET,)):
    github.verify(body, hdrs, "/v1/webhooks/chn_1", list(secrets), {}, NOW)


def test_githubs_published_example_verifies():
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert github.sign(SECRET, b"Hello, World!") == expected
    verify(b"Hello, World!", {"X-Hub-Signature-256": expected})


def test_wrong_secret_tampered_body_and_missing_header_are_unauthorized():
    body = comment_event()
    with pytest.raises(Unauthorized) as err:
        verify(body, {"X-Hub-Signature-256": github.sign("wrong", body)})
    assert SECRET not in str(err.value)
    with pytest.raises(Unauthorized):
        verify(body.replace(b"review", b"merge"), {"X-Hub-Signature-256": github.sign(SECRET, body)})
    with pytest.raises(Unauthorized, match="missing"):
        verify(body, {"X-Hub-Signature": "sha1=legacy"})


def test_both_webhook_secrets_work_during_rotation():
    body = comment_event()
    for secret in ("old", "new"):
        verify(body, {"x-hub-signature-256": github.sign(secret, body)}, secrets=("new", "old"))


def test_ping_is_answered_without_a_run():
    reply = github.handshake("POST", {}, b'{"zen": "Keep it logically awesome."}', headers("ping"), {})
    assert reply.status == 200
    assert github.handshake("POST", {}, comment_event(), headers(), {}) is None
    assert github.parse(b'{"zen": "x"}', headers("ping"), "application/json") is None


def test_a_new_comment_becomes_an_inbound_keyed_by_the_delivery_id():
    inbound = github.parse(comment_event(), headers(), "application/json")
    assert inbound.text == "@qorven can you review this?" and inbound.sender == "octocat"
    assert inbound.event_id == DELIVERY and inbound.chat_id == "octo-org/hello-world#1347"
    assert inbound.raw_kind == "issue_comment.created"


def test_a_new_issue_becomes_an_inbound_with_title_and_body():
    payload = json.loads(comment_event())
    payload.update(action="opened")
    del payload["comment"]
    inbound = github.parse(json.dumps(payload).encode(), headers("issues"), "application/json")
    assert inbound.text == "Found a bug\n\nIt breaks"


def test_form_encoded_deliveries_are_understood():
    body = urlencode({"payload": comment_event().decode()}).encode()
    inbound = github.parse(body, headers(), "application/x-www-form-urlencoded")
    assert inbound.chat_id == "octo-org/hello-world#1347"


def test_bots_apps_our_own_replies_and_other_events_need_no_run():
    assert github.parse(comment_event(user_type="Bot", login="dependabot[bot]"), headers(), "") is None
    assert github.parse(comment_event(performed_via_github_app={"id": 1}), headers(), "") is None
    assert github.parse(comment_event(body="Looks fine.\n\n" + github.REPLY_MARKER), headers(), "") is None
    edited = json.loads(comment_event())
    edited["action"] = "edited"
    assert github.parse(json.dumps(edited).encode(), headers(), "") is None
    assert github.parse(b"{}", headers("push"), "") is None


def test_missing_delivery_header_or_broken_payload_is_invalid():
    with pytest.raises(ValidationError):
        github.parse(comment_event(), {"X-GitHub-Event": "issue_comment"}, "")
    with pytest.raises(ValidationError):
        github.parse(b'{"action": "created"}', headers(), "")


def test_send_comments_on_the_issue_with_the_marker(fake_api, http):
    fake_api.status = 201
    inbound = github.parse(comment_event(), headers(), "")
    github.send(http, {"api_base_url": fake_api.base_url}, "ghp_token", inbound, "LGTM")
    [request] = fake_api.requests
    assert request.path == "/repos/octo-org/hello-world/issues/1347/comments"
    assert request.headers["authorization"] == "Bearer ghp_token"
    assert request.json() == {"body": "LGTM\n\n" + github.REPLY_MARKER}
    # The comment our reply triggers is recognised as ours.
    echoed = comment_event(body=request.json()["body"])
    assert github.parse(echoed, headers(), "") is None


def test_send_failure_raises_with_status_and_no_token(fake_api, http):
    fake_api.status, fake_api.reply = 403, {"message": "Resource not accessible by integration"}
    inbound = github.parse(comment_event(), headers(), "")
    with pytest.raises(ChannelSendError, match="403") as err:
        github.send(http, {"api_base_url": fake_api.base_url}, "ghp_token", inbound, "x")
    assert "ghp_token" not in str(err.value)
