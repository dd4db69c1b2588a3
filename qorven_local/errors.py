"""The one error tree of Qorven Local.

Every failure a client can see is a ``QorvenError`` with a machine-readable ``code``, an HTTP
``status`` and an OpenAI-style ``type``. ``envelope()`` below is the only builder of error JSON;
``web/errors.py`` writes it onto Falcon responses and ``events/ws.py`` onto refused WebSocket
handshakes. This module imports nothing of ours.

    QorvenError
    ├── InvalidJSON              400 invalid_json
    ├── ValidationError          400 validation_error      (param names the field)
    ├── Unauthorized             401 unauthorized
    ├── AdminOnly                403 admin_only
    ├── GraceToken               403 grace_token            (a rotated-out token managing tokens)
    ├── ForbiddenHost            403 forbidden_host
    ├── ForbiddenOrigin          403 forbidden_origin
    ├── NotFound                 404 not_found
    ├── ModelNotFound            404 model_not_found
    ├── MethodNotAllowed         405 method_not_allowed
    ├── Conflict                 409 conflict
    ├── PayloadTooLarge          413 payload_too_large
    ├── UnsupportedMediaType     415 unsupported_media_type
    ├── UpgradeRequired          426 upgrade_required
    ├── InvalidArguments         422 invalid_arguments
    ├── UnreadableDocument       422 unreadable_document    (encrypted, corrupt or text-less upload)
    ├── RateLimited              429 rate_limited           (retry_after seconds)
    ├── InternalError            500 internal_error
    ├── ProviderError            502 provider_error
    ├── ChannelSendError         502 channel_send_error     (retry_after; .retryable for the outbox)
    ├── TooManyRuns              503 too_many_runs          (retry_after seconds)
    ├── TooManyConnections       503 too_many_connections   (/ws session cap)
    ├── NoModelConfigured        503 no_model_configured
    ├── NotReady                 503 not_ready
    └── ProviderTimeout          504 provider_timeout
"""

from __future__ import annotations

import json
from typing import Any


class QorvenError(Exception):
    """Base of every error a client can see."""

    code = "internal_error"
    status = 500
    type = "api_error"
    description = "A bug: the message carries the request id, never a traceback."

    def __init__(self, message: str | None = None, *, param: str | None = None,
                 retry_after: int | None = None, headers: dict[str, str] | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message or self.description)
        self.message = message or self.description
        self.param = param
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        self.details = details


class InvalidJSON(QorvenError):
    code, status, type = "invalid_json", 400, "invalid_request_error"
    description = "The request body is not valid JSON."


class ValidationError(QorvenError):
    code, status, type = "validation_error", 400, "invalid_request_error"
    description = "The request body or parameters fail the schema; param names the field."


class Unauthorized(QorvenError):
    code, status, type = "unauthorized", 401, "authentication_error"
    description = "Missing, unknown or revoked token, or a bad webhook signature."


class AdminOnly(QorvenError):
    code, status, type = "admin_only", 403, "permission_error"
    description = "A user token was used on an admin route."


class GraceToken(QorvenError):
    code, status, type = "grace_token", 403, "permission_error"
    description = "A token in its rotation grace period may not manage tokens; use the new token."


class ForbiddenHost(QorvenError):
    code, status, type = "forbidden_host", 403, "permission_error"
    description = "The Host header is not allowed (DNS-rebinding guard)."


class ForbiddenOrigin(QorvenError):
    code, status, type = "forbidden_origin", 403, "permission_error"
    description = "A cross-site browser request was refused."


class NotFound(QorvenError):
    code, status, type = "not_found", 404, "not_found_error"
    description = "Unknown route or id (another tenant's id answers this too)."


class ModelNotFound(QorvenError):
    code, status, type = "model_not_found", 404, "not_found_error"
    description = "Unknown model or agent name on chat."


class MethodNotAllowed(QorvenError):
    code, status, type = "method_not_allowed", 405, "invalid_request_error"
    description = "The route does not accept this HTTP method."


class Conflict(QorvenError):
    code, status, type = "conflict", 409, "invalid_request_error"
    description = "A unique name is taken or the state forbids the change."


class PayloadTooLarge(QorvenError):
    code, status, type = "payload_too_large", 413, "invalid_request_error"
    description = "The request body is larger than allowed (1 MiB; webhooks 5 MiB; document uploads QORVEN_MAX_UPLOAD_BYTES)."


class UnsupportedMediaType(QorvenError):
    code, status, type = "unsupported_media_type", 415, "invalid_request_error"
    description = "Writes need Content-Type: application/json (document uploads also multipart/form-data); an upload of a type that cannot be read."


class UpgradeRequired(QorvenError):
    code, status, type = "upgrade_required", 426, "invalid_request_error"
    description = "This route only speaks WebSocket."


class InvalidArguments(QorvenError):
    code, status, type = "invalid_arguments", 422, "invalid_request_error"
    description = "Tool arguments fail the tool's schema."


class UnreadableDocument(QorvenError):
    code, status, type = "unreadable_document", 422, "invalid_request_error"
    description = "An uploaded document is encrypted, corrupt or holds no text; the message says which."


class RateLimited(QorvenError):
    code, status, type = "rate_limited", 429, "rate_limit_error"
    description = "Per-IP or per-tenant rate limit reached; see Retry-After."


class InternalError(QorvenError):
    pass


class ProviderError(QorvenError):
    code, status, type = "provider_error", 502, "api_error"
    description = "The upstream model provider failed."


class ChannelSendError(QorvenError):
    """A channel's API refused or could not take a reply (message has the status, never a token).

    Seen in a delivery's ``last_error``, not as a response: the channel outbox catches it and
    retries when ``retryable``.
    """

    code, status, type = "channel_send_error", 502, "api_error"
    description = "A chat channel's API refused or could not take a reply."

    def __init__(self, message: str, *, status_code: int | None = None,
                 retry_after: int | None = None, configured: bool = True) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status_code = status_code  # None: the API was not reached (or never called)
        self.configured = configured    # False: a secret or config key is missing; fix, don't retry

    @property
    def retryable(self) -> bool:
        """Worth another outbox attempt: unreachable, rate limited or a server error (not a 4xx)."""
        if not self.configured:
            return False
        return self.status_code is None or self.status_code == 429 or self.status_code >= 500


class TooManyRuns(QorvenError):
    code, status, type = "too_many_runs", 503, "rate_limit_error"
    description = "Too many concurrent agent runs for this tenant; see Retry-After."


class TooManyConnections(QorvenError):
    code, status, type = "too_many_connections", 503, "rate_limit_error"
    description = "Too many live-event (/ws) connections; retry later."


class NoModelConfigured(QorvenError):
    code, status, type = "no_model_configured", 503, "api_error"
    description = "No provider or model is usable for this request."


class NotReady(QorvenError):
    code, status, type = "not_ready", 503, "api_error"
    description = "The server is starting; a readiness check has not passed yet."


class ProviderTimeout(QorvenError):
    code, status, type = "provider_timeout", 504, "api_error"
    description = "The upstream model provider timed out."


def all_error_classes() -> list[type[QorvenError]]:
    """Every concrete error class, one per code, in status order (for the spec and tests)."""
    seen: dict[str, type[QorvenError]] = {}
    stack = [QorvenError]
    while stack:
        cls = stack.pop()
        seen.setdefault(cls.code, cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen.values(), key=lambda c: (c.status, c.code))


def retry_after_seconds(header: str | None) -> int | None:
    """Whole seconds (at least 1) from an upstream ``Retry-After`` header, for an error's ``retry_after``.

    The HTTP-date form is rare from the APIs we call and not worth parsing: it gives None.
    """
    try:
        return max(1, int(float(header))) if header else None
    except ValueError:
        return None


def envelope(error: QorvenError, request_id: str | None) -> dict[str, Any]:
    """The error envelope every client sees: ``{"error": {code, message, type, param, request_id}}``.

    ``details`` is added only when the error carries some.
    """
    body: dict[str, Any] = {"error": {"code": error.code, "message": error.message, "type": error.type,
                                      "param": error.param, "request_id": request_id}}
    if error.details:
        body["error"]["details"] = error.details
    return body


def envelope_bytes(error: QorvenError, request_id: str | None) -> bytes:
    """``envelope()`` as UTF-8 JSON bytes, ready for a response body."""
    return json.dumps(envelope(error, request_id), ensure_ascii=False).encode("utf-8")
