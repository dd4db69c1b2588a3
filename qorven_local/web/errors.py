"""Falcon's side of the error envelope: QorvenError and Falcon's own errors onto responses."""

from __future__ import annotations

import logging
from typing import Any

import falcon

# envelope is re-exported for web/sse.py, which writes it into an event stream.
from qorven_local.errors import envelope as envelope
from qorven_local.errors import (InternalError, MethodNotAllowed, NotFound, QorvenError, ValidationError,
                                 envelope_bytes)

log = logging.getLogger("qorven.web")


def _request_id(req: falcon.Request) -> str | None:
    return getattr(req.context, "request_id", None)


def apply_error(resp: falcon.Response, error: QorvenError, request_id: str | None) -> None:
    """Write ``error`` onto a Falcon response (status, headers, envelope body)."""
    resp.status = error.status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = envelope_bytes(error, request_id)
    for name, value in error.headers.items():
        resp.set_header(name, value)
    if error.retry_after is not None:
        resp.set_header("Retry-After", str(max(1, int(error.retry_after))))


def handle_qorven_error(req: falcon.Request, resp: falcon.Response, error: QorvenError, params: Any) -> None:
    apply_error(resp, error, _request_id(req))


def handle_http_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: Any) -> None:
    """Falcon's own errors (unknown route, bad method, bad query types) in our envelope."""
    if error.status_code == 404:
        mapped: QorvenError = NotFound(f"no route for {req.method} {req.path}")
    elif error.status_code == 405:
        mapped = MethodNotAllowed(f"{req.method} is not allowed on {req.path}")
    elif 400 <= error.status_code < 500:
        mapped = ValidationError(error.description or error.title or "bad request")
    else:
        mapped = InternalError(f"internal error (request {_request_id(req)})")
    apply_error(resp, mapped, _request_id(req))
    if error.status_code == 405 and error.headers:
        allow = dict(error.headers).get("Allow")
        if allow:
            resp.set_header("Allow", allow)


def handle_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    """A bug: log the traceback server-side, answer 500 with only the request id."""
    rid = _request_id(req)
    log.exception("unhandled error in %s %s (request %s)", req.method, req.path, rid)
    apply_error(resp, InternalError(f"internal error; quote request id {rid} when reporting it"), rid)
