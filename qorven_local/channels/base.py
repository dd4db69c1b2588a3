"""The surface every channel kind module exposes, and the helpers they share.

A kind module (``telegram.py``, ``slack.py``, ...) is a plain module with these names:

    KIND: str                      the binding kind, e.g. "slack"
    DEFAULT_API_BASE_URL: str      the real API; ``config["api_base_url"]`` overrides it (tests, proxies)
    SECRET_NAMES: tuple[str, ...]  names the binding's secrets are stored under; the FIRST verifies
    SEND_SECRET: str | None        which of SECRET_NAMES ``send`` receives (None: it needs none)
    CONFIG_KEYS: dict[str, str]    the non-secret ``config`` keys it reads -> what each is for
    SIGNED_HEADERS: tuple[str, ...]  headers the signature covers besides the body (its timestamp)
    verify(raw_body, headers, url, secrets, config, now) -> None        raises Unauthorized
    handshake(method, query, raw_body, headers, config) -> HandshakeReply | None
    parse(raw_body, headers, content_type) -> Inbound | None          raises ValidationError
    ack(inbound) -> HandshakeReply                                      the 200 for an accepted message
    send(http, config, send_secret, inbound, text) -> None              raises ChannelSendError

Secrets: ``verify`` gets every stored value of ``SECRET_NAMES[0]`` (current + previous during a
rotation; any one matching is enough). ``send`` gets the current value of ``SEND_SECRET``. For
Discord the "secret" that verifies is the application's public key (hex); it is stored the same way.

The webhook resource must call them in this order (``verify`` first so nothing is answered, parsed
or echoed for an unauthenticated request):

    1. GET  -> handshake("GET", ...); a reply is answered as is (Meta's hub.challenge, which checks
               its own verify_token); None -> 405. GET requests carry no signature: never run them.
    2. POST -> verify(...)                      Unauthorized -> 401, count it as rejected
    3.         handshake("POST", ...)           a reply (Slack url_verification, Discord PING,
                                                GitHub ping) is answered as is; no run
    4.         parse(...)                       None -> 200 OK_REPLY, no run (not for agents)
    5.         de-duplicate on (binding id, signed_digest(...)), then on (binding id, inbound.event_id):
               a repeat -> ack(inbound), no run. Event ids travel in unsigned headers (Qorven's
               X-Qorven-Event-Id, GitHub's X-GitHub-Delivery), so the digest of what the signature
               covers is what stops a captured delivery re-sent under a fresh id.
    6.         store, answer ack(inbound), run the agent in the background, ``send`` the reply
               from the outbox (Discord needs ack's deferral within 3 s; Twilio wants TwiML).

A kind with nothing to answer binds ``handshake = no_handshake`` / ``ack = ok_ack`` from here.

``Inbound`` (``types.py``) holds only JSON values, so the outbox can store
``dataclasses.asdict(inbound)`` and rebuild it with ``Inbound(**stored)``. ``send`` splits long
replies into the API's size limit and posts the pieces in order; if a later piece fails, the
earlier ones were delivered. httpx is imported on first use (start-up time).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol

from qorven_local.channels.types import HandshakeReply, Inbound
from qorven_local.errors import ChannelSendError, Unauthorized, ValidationError, retry_after_seconds

if TYPE_CHECKING:
    import httpx

REPLAY_WINDOW_SECONDS = 300
HUB_SIGNATURE_HEADER = "X-Hub-Signature-256"  # Meta's and GitHub's body HMAC

OK_REPLY = HandshakeReply.json({"ok": True})


class ChannelKind(Protocol):
    """The module surface above, for type checkers and the conformance test."""

    KIND: str
    DEFAULT_API_BASE_URL: str
    SECRET_NAMES: tuple[str, ...]
    SEND_SECRET: str | None
    CONFIG_KEYS: dict[str, str]
    SIGNED_HEADERS: tuple[str, ...]

    def verify(self, raw_body: bytes, headers: Mapping[str, str], url: str, secrets: list[str],
               config: dict, now: float) -> None: ...

    def handshake(self, method: str, query: dict, raw_body: bytes, headers: Mapping[str, str],
                  config: dict) -> HandshakeReply | None: ...

    def parse(self, raw_body: bytes, headers: Mapping[str, str], content_type: str) -> Inbound | None: ...

    def ack(self, inbound: Inbound) -> HandshakeReply: ...

    def send(self, http: httpx.Client, config: dict, send_secret: str | None, inbound: Inbound,
             text: str) -> None: ...


# --- verification helpers -------------------------------------------------------------------

def header(headers: Mapping[str, str], name: str) -> str | None:
    """Look a header up case-insensitively (Falcon upper-cases names, httpx lower-cases them)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def require_header(headers: Mapping[str, str], name: str, kind: str) -> str:
    """Return a header's value or raise Unauthorized naming the missing header."""
    value = header(headers, name)
    if not value:
        raise Unauthorized(f"{kind} webhook: missing {name} header")
    return value


def require_secrets(secrets: Iterable[str | None], kind: str) -> list[str]:
    """Drop empty secrets; refuse to verify against none (an empty key would sign anything)."""
    usable = [s for s in secrets if s]
    if not usable:
        raise Unauthorized(f"{kind} webhook: no secret is configured for this binding")
    return usable


def check_timestamp(value: str, now: float, kind: str, name: str) -> None:
    """Reject a request timestamp (unix seconds) outside the replay window, either side of now."""
    try:
        ts = int(value.strip())
    except ValueError:
        raise Unauthorized(f"{kind} webhook: {name} is not a unix timestamp") from None
    if abs(now - ts) > REPLAY_WINDOW_SECONDS:
        raise Unauthorized(f"{kind} webhook: {name} is outside the {REPLAY_WINDOW_SECONDS} s window")


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def matches_any(given: str, expected: Iterable[str]) -> bool:
    """True if ``given`` equals one of ``expected``, compared constant-time, trying every one."""
    # Comparing digests keeps even the secret's length out of the timing (plain tokens).
    given_digest = hashlib.sha256(given.encode()).digest()
    found = False
    for candidate in expected:
        # No early exit: the time taken does not tell which rotation slot matched.
        found |= hmac.compare_digest(given_digest, hashlib.sha256(candidate.encode()).digest())
    return found


def hub_signature(secret: str, raw_body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value (``sha256=<hex HMAC of the raw body>``) Meta and GitHub send."""
    return "sha256=" + hmac_sha256_hex(secret, raw_body)


def verify_hub_signature(kind: str, raw_body: bytes, headers: Mapping[str, str], secrets: list[str]) -> None:
    """Check ``X-Hub-Signature-256`` against the body under each secret (Meta, GitHub; no timestamp)."""
    usable = require_secrets(secrets, kind)
    given = require_header(headers, HUB_SIGNATURE_HEADER, kind).strip()
    if not matches_any(given, (hub_signature(s, raw_body) for s in usable)):
        raise Unauthorized(f"{kind} webhook: {HUB_SIGNATURE_HEADER} does not match the body")


def timestamped_signature(headers: Mapping[str, str], now: float, kind: str, signature_header: str,
                          timestamp_header: str) -> tuple[str, str]:
    """The request's signature and timestamp headers, the timestamp checked against the replay window."""
    given = require_header(headers, signature_header, kind).strip()
    timestamp = require_header(headers, timestamp_header, kind).strip()
    check_timestamp(timestamp, now, kind, timestamp_header)
    return given, timestamp


def verify_timestamped_hmac(kind: str, raw_body: bytes, headers: Mapping[str, str], secrets: list[str],
                            now: float, *, signature_header: str, timestamp_header: str,
                            sign: Callable[[str, str, bytes], str]) -> None:
    """Check a fresh request whose signature is ``sign(secret, timestamp, body)`` (Slack, generic webhook)."""
    usable = require_secrets(secrets, kind)
    given, timestamp = timestamped_signature(headers, now, kind, signature_header, timestamp_header)
    if not matches_any(given, (sign(s, timestamp, raw_body) for s in usable)):
        raise Unauthorized(f"{kind} webhook: {signature_header} does not match the body")


def signed_digest(raw_body: bytes, headers: Mapping[str, str], signed_headers: Iterable[str]) -> str:
    """A digest of the bytes a delivery's signature covers: the signed headers' values, then the body.

    Each header value is length-prefixed so no split of the same bytes between header and body
    gives the same digest. The prefix keeps it apart from providers' event ids in the same table.
    """
    digest = hashlib.sha256()
    for name in signed_headers:
        value = (header(headers, name) or "").strip().encode()
        digest.update(len(value).to_bytes(8, "big") + value)
    digest.update(raw_body)
    return "signed-sha256:" + digest.hexdigest()


# --- surface defaults -----------------------------------------------------------------------

def no_handshake(method: str, query: dict, raw_body: bytes, headers: Mapping[str, str],
                 config: dict) -> HandshakeReply | None:
    """``handshake`` for kinds whose provider never checks the endpoint: nothing to answer."""
    return None


def ok_ack(inbound: Inbound) -> HandshakeReply:
    """``ack`` for kinds whose provider only needs a 2xx: ``{"ok": true}``."""
    return OK_REPLY


# --- parsing helpers ------------------------------------------------------------------------

def load_json(raw_body: bytes, kind: str) -> Any:
    """Decode a JSON body or raise ValidationError."""
    try:
        return json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(f"{kind} webhook: body is not valid JSON") from None


def load_json_object(raw_body: bytes, kind: str) -> dict:
    """Decode a JSON object body or raise ValidationError."""
    payload = load_json(raw_body, kind)
    if not isinstance(payload, dict):
        raise ValidationError(f"{kind} webhook: body is not a JSON object")
    return payload


# --- sending helpers ------------------------------------------------------------------------

def api_base(config: Mapping[str, Any], default: str) -> str:
    return str(config.get("api_base_url") or default).rstrip("/")


def require_send_secret(send_secret: str | None, kind: str, name: str) -> str:
    if not send_secret:
        raise ChannelSendError(f"{kind}: no {name} is set for this binding; cannot send",
                               configured=False)
    return send_secret


def require_config(config: Mapping[str, Any], key: str, kind: str) -> str:
    value = config.get(key)
    if not value:
        raise ChannelSendError(f"{kind}: config.{key} is not set; cannot send", configured=False)
    return str(value)


def chunk_text(text: str, limit: int) -> list[str]:
    """Split a reply into pieces the API accepts, preferring line breaks, then spaces."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def post(http: httpx.Client, url: str, *, kind: str, secret: str | None, **kwargs: Any) -> httpx.Response:
    """POST to a channel API; raise ChannelSendError on failure without leaking the URL or secret.

    httpx's own messages carry the URL, and Telegram's URL carries the bot token, so they are
    never passed on.
    """
    import httpx

    try:
        response = http.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise ChannelSendError(f"{kind}: could not reach the API ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        detail = _redact(response.text[:200].strip(), secret)
        raise ChannelSendError(f"{kind} API answered {response.status_code}: {detail}",
                               status_code=response.status_code,
                               retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_json_pieces(http: httpx.Client, url: str, text: str, limit: int, *, kind: str, secret: str | None,
                     body: Callable[[str], dict[str, Any]], headers: Mapping[str, str] | None = None,
                     check: Callable[[httpx.Response], None] | None = None) -> None:
    """POST ``body(piece)`` as JSON for each piece of ``text``, in order; ``check`` each answer.

    A failed piece raises ChannelSendError and the rest are not sent (the earlier ones were).
    """
    for piece in chunk_text(text, limit):
        response = post(http, url, kind=kind, secret=secret, json=body(piece), headers=headers)
        if check is not None:
            check(response)


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "[redacted]") if secret else text
