"""The one error envelope, checked the same way over real HTTP (httpx) and in-process (Falcon TestClient)."""

from __future__ import annotations

from typing import Any

import httpx
from falcon.testing import Result
from jsonschema import Draft202012Validator

from qorven_local.errors import all_error_classes
from qorven_local.web.schemas import ERROR
from tests.support.openai_schemas import validate_openai

ENVELOPE = Draft202012Validator(ERROR)
UNCHECKED: Any = ...  # a ``param`` of ``...`` leaves the envelope's ``param`` unchecked


def check_envelope(r: httpx.Response | Result, status: int, code: str, param: str | None = UNCHECKED) -> dict:
    """Assert ``r`` is the error envelope with this status, code, OpenAI type and request id; return its body."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json() if isinstance(r, httpx.Response) else r.json
    ENVELOPE.validate(body)
    validate_openai("ErrorResponse", body)
    assert body["error"]["code"] == code, body
    assert body["error"]["request_id"] == r.headers["x-request-id"]
    expected_type = next(c.type for c in all_error_classes() if c.code == code)
    assert body["error"]["type"] == expected_type
    if param is not UNCHECKED:
        assert body["error"]["param"] == param, body
    return body
