"""Every response of the real server, JSON, errors and the UI alike, says ``nosniff`` and ``no-referrer``."""

from __future__ import annotations

import httpx
import pytest

SAFE = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def assert_safe(response: httpx.Response) -> None:
    for name, value in SAFE.items():
        assert response.headers.get(name) == value, (response.request.url, response.status_code, name)
        assert len(response.headers.get_list(name)) == 1, (response.request.url, name)  # never said twice


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/v1/agents", None),                      # a JSON list
    ("GET", "/api/agents", None),                     # through an alias
    ("GET", "/health", None),                         # public, unlimited
    ("GET", "/openapi.json", None),
    ("GET", "/", None),                               # the UI shell
    ("GET", "/ui/js/markdown.js", None),              # a UI file
    ("GET", "/v1/nowhere", None),                     # 404 unknown route
    ("GET", "/v1/agents/agt_missing", None),          # 404 unknown id
    ("DELETE", "/v1/models/catalog", None),           # 405
    ("POST", "/v1/agents", b"{not json"),             # 400 invalid_json
    ("GET", "/ws", None),                             # 426 without an upgrade
])
def test_admin_responses_carry_the_safety_headers(admin, method, path, body):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    response = admin.request(method, path, content=body, headers=headers)
    assert_safe(response)


def test_errors_raised_by_the_gate_carry_them_too(server):
    with server.client(token=None) as anonymous:
        assert_safe(anonymous.get("/v1/agents"))                                       # 401
        assert_safe(anonymous.get("/v1/agents", headers={"Host": "evil.example"}))     # 403 forbidden_host
    with server.client() as admin:
        big = admin.post("/v1/agents", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})
        assert big.status_code == 413
        assert_safe(big)
        assert_safe(admin.post("/v1/agents", content=b"x", headers={"Content-Type": "text/plain"}))  # 415
