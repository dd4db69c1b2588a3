"""``HEAD`` works wherever ``GET`` does (API.md "CORS (opt-in)"): same status, same headers, no body.

curl -I, uptime checkers and link checkers use it; through a real server and a real HTTP client.
"""

from __future__ import annotations

import pytest

from tests.support.envelope import check_envelope

PATHS = ["/health", "/livez", "/v1/agents", "/openapi.json", "/", "/ui/app.js", "/api/v1/models"]
# headers that differ between any two responses
PER_RESPONSE = {"date", "x-request-id", "ratelimit"}


def stable_headers(r) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k not in PER_RESPONSE}


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_without_a_body(admin, path):
    got = admin.get(path)
    head = admin.head(path)
    assert got.status_code == 200, got.text[:200]
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert stable_headers(head) == stable_headers(got)


def test_head_without_token_is_refused_like_get(server):
    with server.client(token=None) as client:
        got = client.get("/v1/agents")
        head = client.head("/v1/agents")
    check_envelope(got, 401, "unauthorized")
    assert head.status_code == 401
    assert head.content == b""
    assert head.headers["x-request-id"]


def test_head_on_a_post_only_route_is_405(admin):
    r = admin.head("/v1/chat/completions")
    assert r.status_code == 405
    assert r.content == b""


def test_openapi_document_says_head_and_cors(admin):
    description = admin.get("/openapi.json").json()["info"]["description"]
    assert "HEAD is answered wherever GET is" in description
    assert "QORVEN_CORS_ORIGINS" in description
