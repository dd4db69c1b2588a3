"""Twilio Programmable Messaging (SMS): X-Twilio-Signature, replies through the Messages API.

Verify: ``X-Twilio-Signature = base64(HMAC-SHA1(auth_token, url + k1 + v1 + k2 + v2 ...))`` over the
POSTed form params sorted by name, where ``url`` is the public URL Twilio called. It is built from
``config["public_base_url"]`` + the request path and query, never from Host/X-Forwarded-* headers
(which the sender controls). Only form-encoded bodies are accepted: the signature covers form
parameters and nothing else, so any other body (JSON, text, none declared) is refused with 401 before
it is read (Twilio's bodySHA256 scheme for JSON webhooks is not used by Messaging).
Send: ``POST {base}/2010-04-01/Accounts/{account_sid}/Messages.json`` (form, basic auth).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from qorven_local.channels.base import (
    api_base, chunk_text, header, matches_any, no_handshake, post, require_config, require_header,
    require_secrets, require_send_secret,
)
from qorven_local.channels.types import HandshakeReply, Inbound
from qorven_local.errors import Unauthorized, ValidationError

if TYPE_CHECKING:
    import httpx

KIND = "twilio_sms"
DEFAULT_API_BASE_URL = "https://api.twilio.com"
SECRET_NAMES: tuple[str, ...] = ("auth_token",)  # the account's auth token both verifies and sends
SEND_SECRET: str | None = "auth_token"
HEADER = "X-Twilio-Signature"
FORM_TYPE = "application/x-www-form-urlencoded"
SIGNED_HEADERS: tuple[str, ...] = ()  # the URL (fixed per binding) and the form body
MAX_TEXT = 1600
CONFIG_KEYS = {
    "api_base_url": f"REST API base URL (default {DEFAULT_API_BASE_URL}); tests point it at a fake",
    "public_base_url": "required: the public https origin Twilio calls (signatures cover this URL)",
    "account_sid": "the account (AC...) whose auth token is stored; default: the inbound AccountSid",
    "from_number": "the number to send from when the inbound does not name it",
}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def sign(auth_token: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """The X-Twilio-Signature for a request to ``url`` with these form params (Twilio's algorithm)."""
    grouped: dict[str, set[str]] = {}
    for key, value in params:
        grouped.setdefault(key, set()).add(value)
    # Sorted by name; a repeated name contributes each of its values, sorted (as Twilio's SDKs do).
    payload = url + "".join(k + v for k in sorted(grouped) for v in sorted(grouped[k]))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def public_url(config: Mapping[str, object], url: str) -> str:
    """The URL Twilio signed: configured public base + the request's path and query."""
    base = str(config.get("public_base_url") or "").rstrip("/")
    if not base:
        raise Unauthorized(f"{KIND} webhook: config.public_base_url is not set, cannot check signatures")
    parts = urlsplit(url)  # only the path and query are taken from the request
    return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _with_and_without_port(url: str) -> list[str]:
    """Twilio's SDKs accept the URL with or without the scheme's default port; so do we."""
    parts = urlsplit(url)
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if default_port is None or (parts.port not in (None, default_port)):
        return [url]
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    ported = urlunsplit((parts.scheme, f"{host}:{default_port}", parts.path, parts.query, ""))
    return list(dict.fromkeys([url, bare, ported]))


def verify(raw_body: bytes, headers: Mapping[str, str], url: str, secrets: list[str],
           config: dict, now: float) -> None:
    """Accept the request if its signature matches one of the auth tokens (the scheme has no timestamp)."""
    usable = require_secrets(secrets, KIND)
    given = require_header(headers, HEADER, KIND).strip()
    _require_form(headers)
    full_url = public_url(config, url)
    params = _form_params(raw_body)
    candidates = [sign(s, u, params) for s in usable for u in _with_and_without_port(full_url)]
    if not matches_any(given, candidates):
        raise Unauthorized(f"{KIND} webhook: {HEADER} does not match the URL and parameters")


def _require_form(headers: Mapping[str, str]) -> None:
    """Refuse a body that is not form encoded: the signature would cover none of what parse reads."""
    media = (header(headers, "Content-Type") or "").split(";")[0].strip().lower()
    if media != FORM_TYPE:
        raise Unauthorized(f"{KIND} webhook: Content-Type must be {FORM_TYPE}, not {media or 'missing'} "
                           "(the signature covers form parameters only)")


def _form_params(raw_body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise Unauthorized(f"{KIND} webhook: form body is not UTF-8") from None


handshake = no_handshake


def parse(raw_body: bytes, headers: Mapping[str, str], content_type: str) -> Inbound | None:
    """Turn an incoming-message form post into an Inbound; None for status callbacks."""
    try:
        form = dict(parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise ValidationError(f"{KIND} webhook: form body is not UTF-8") from None
    message_sid = form.get("MessageSid") or form.get("SmsSid")
    if not message_sid:
        raise ValidationError(f"{KIND} webhook: MessageSid is missing", param="MessageSid")
    if "MessageStatus" in form and "Body" not in form:
        return None  # a delivery status callback for one of our replies
    sender, body = form.get("From"), form.get("Body")
    if not sender or body is None or not body.strip():
        return None
    return Inbound(
        sender=sender,
        text=body,
        event_id=message_sid,
        chat_id=sender,
        display_name=form.get("ProfileName") or None,
        raw_kind="message",
        is_direct=True,
        reply_context={"to": form.get("To"), "account_sid": form.get("AccountSid")},
    )


def ack(inbound: Inbound) -> HandshakeReply:
    """An empty TwiML response: the reply is sent later through the API, not inline."""
    return HandshakeReply.text(EMPTY_TWIML, content_type="text/xml")


def send(http: httpx.Client, config: dict, send_secret: str | None, inbound: Inbound,
         text: str) -> None:
    """Send an SMS back to the sender from the number they wrote to (or config.from_number)."""
    token = require_send_secret(send_secret, KIND, "auth_token")
    account_sid = (config.get("account_sid") or inbound.reply_context.get("account_sid")
                   or require_config(config, "account_sid", KIND))
    from_number = inbound.reply_context.get("to") or require_config(config, "from_number", KIND)
    url = f"{api_base(config, DEFAULT_API_BASE_URL)}/2010-04-01/Accounts/{account_sid}/Messages.json"
    for piece in chunk_text(text, MAX_TEXT):
        post(http, url, kind=KIND, secret=token, auth=(str(account_sid), token),
             data={"To": inbound.chat_id, "From": from_number, "Body": piece})
