"""GitHub webhooks: X-Hub-Signature-256, replies as issue / pull-request comments.

Verify: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(webhook_secret, body)>``.
Handshake: the ``ping`` event sent when the hook is created is answered 200 without a run.
Runs on: a new issue, and a new comment on an issue or pull request.
Send: ``POST {base}/repos/{owner}/{repo}/issues/{number}/comments`` with the API token. Each reply
carries a hidden marker, so the comment event our own reply causes is never answered (a personal
token comments as the same user who talks to the agent, so the author alone cannot tell).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping
from urllib.parse import parse_qsl

from qorven_local.channels.base import (
    HUB_SIGNATURE_HEADER, api_base, bearer, header, hub_signature, load_json_object, ok_ack, post_json_pieces,
    require_send_secret, verify_hub_signature,
)
from qorven_local.channels.types import HandshakeReply, Inbound
from qorven_local.errors import ValidationError

if TYPE_CHECKING:
    import httpx

KIND = "github"
DEFAULT_API_BASE_URL = "https://api.github.com"
SECRET_NAMES: tuple[str, ...] = ("webhook_secret", "token")
SEND_SECRET: str | None = "token"
CONFIG_KEYS = {
    "api_base_url": f"REST API base (default {DEFAULT_API_BASE_URL}; Enterprise: https://HOST/api/v3)",
}
HEADER = HUB_SIGNATURE_HEADER
SIGNED_HEADERS: tuple[str, ...] = ()  # the HMAC covers the body alone; X-GitHub-Delivery is unsigned
REPLY_MARKER = "<!-- qorven-local -->"
MAX_TEXT = 65000  # GitHub's comment limit is 65536 characters; the marker needs room


sign = hub_signature  # the X-Hub-Signature-256 value GitHub would send for a body


def verify(raw_body: bytes, headers: Mapping[str, str], url: str, secrets: list[str],
           config: dict, now: float) -> None:
    """Accept the request if its body HMAC matches one of the webhook secrets (no timestamp)."""
    verify_hub_signature(KIND, raw_body, headers, secrets)


def handshake(method: str, query: dict, raw_body: bytes, headers: Mapping[str, str],
              config: dict) -> HandshakeReply | None:
    """Answer the ``ping`` event 200. Call only after verify passed."""
    if method.upper() == "POST" and header(headers, "X-GitHub-Event") == "ping":
        return HandshakeReply.json({"ok": True, "event": "ping"})
    return None


def _payload(raw_body: bytes, content_type: str) -> dict:
    """GitHub posts JSON, or ``payload=<json>`` when the hook's content type is form-encoded."""
    if "application/x-www-form-urlencoded" in (content_type or "").lower():
        try:
            form = dict(parse_qsl(raw_body.decode("utf-8")))
        except UnicodeDecodeError:
            raise ValidationError(f"{KIND} webhook: form body is not UTF-8") from None
        return load_json_object(form.get("payload", "").encode(), KIND)
    return load_json_object(raw_body, KIND)


def parse(raw_body: bytes, headers: Mapping[str, str], content_type: str) -> Inbound | None:
    """Turn ``issues.opened`` / ``issue_comment.created`` into an Inbound; None for anything else."""
    event = header(headers, "X-GitHub-Event")
    delivery = header(headers, "X-GitHub-Delivery")
    if not event or not delivery:
        raise ValidationError(f"{KIND} webhook: X-GitHub-Event and X-GitHub-Delivery are required")
    payload = _payload(raw_body, content_type)
    action = payload.get("action")
    if event == "issue_comment" and action == "created":
        item, author_source = payload.get("comment"), "comment"
    elif event == "issues" and action == "opened":
        item, author_source = payload.get("issue"), "issue"
    else:
        return None
    issue, repo = payload.get("issue"), payload.get("repository")
    if not isinstance(item, dict) or not isinstance(issue, dict) or not isinstance(repo, dict):
        raise ValidationError(f"{KIND} webhook: {event} without {author_source}/issue/repository")
    user = item.get("user") or {}
    body = item.get("body") or ""
    if user.get("type") == "Bot" or item.get("performed_via_github_app") or REPLY_MARKER in body:
        return None  # bots, apps, and our own replies
    text = body if event == "issue_comment" else f"{issue.get('title') or ''}\n\n{body}".strip()
    full_name, number = repo.get("full_name"), issue.get("number")
    if not full_name or not isinstance(number, int):
        raise ValidationError(f"{KIND} webhook: {event} without repository.full_name/issue.number")
    if not text:
        return None
    return Inbound(
        sender=str(user.get("login") or ""),
        text=text,
        event_id=delivery,
        chat_id=f"{full_name}#{number}",
        display_name=user.get("login"),
        raw_kind=f"{event}.{action}",
        is_direct=False,
        reply_context={"repo": full_name, "number": number,
                       "is_pull_request": "pull_request" in issue},
    )


ack = ok_ack


def send(http: httpx.Client, config: dict, send_secret: str | None, inbound: Inbound,
         text: str) -> None:
    """Comment the reply on the issue or pull request (PRs take comments on the issues API)."""
    token = require_send_secret(send_secret, KIND, "token")
    repo, number = inbound.reply_context.get("repo"), inbound.reply_context.get("number")
    if not repo or not number:
        repo, _, number = inbound.chat_id.rpartition("#")
    url = f"{api_base(config, DEFAULT_API_BASE_URL)}/repos/{repo}/issues/{number}/comments"
    headers = {**bearer(token), "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    post_json_pieces(http, url, text, MAX_TEXT, kind=KIND, secret=token, headers=headers,
                     body=lambda piece: {"body": f"{piece}\n\n{REPLY_MARKER}"})
