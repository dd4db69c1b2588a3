"""Auth at the gate, in process: missing, unknown and user tokens, and ``x-api-key``."""

from __future__ import annotations

import pytest

from tests.support.envelope import check_envelope

pytestmark = pytest.mark.fast


def test_a_request_without_a_token_is_401(fast_app):
    anon = fast_app.client(token=None)
    check_envelope(anon.simulate_get("/v1/agents"), 401, "unauthorized")
    check_envelope(anon.simulate_post("/v1/agents", json={"name": "x"}), 401, "unauthorized")


def test_an_unknown_token_is_401(fast_app):
    stranger = fast_app.client(token="qvn_" + "A" * 43)
    check_envelope(stranger.simulate_get("/v1/agents"), 401, "unauthorized")


def test_a_non_bearer_authorization_is_401(fast_app):
    basic = fast_app.client(token=None, headers={"Authorization": f"Basic {fast_app.admin_token}"})
    check_envelope(basic.simulate_get("/v1/agents"), 401, "unauthorized")


def test_public_routes_need_no_token(fast_app):
    anon = fast_app.client(token=None)
    for path in ("/health", "/livez", "/openapi.json"):
        assert anon.simulate_get(path).status_code == 200, path


def test_a_user_token_on_an_admin_route_is_403_admin_only(fast_app):
    user = fast_app.client(token=fast_app.issue_token("user"))
    assert user.simulate_get("/v1/agents").status_code == 200
    check_envelope(user.simulate_post("/v1/memory/save", json={"scope": "workspace", "content": "x"}),
                   403, "admin_only")
    check_envelope(user.simulate_post("/v1/tools/calculator/invoke", json={"arguments": {"expression": "1+1"}}),
                   403, "admin_only")


def test_x_api_key_is_a_synonym_for_the_bearer_token(fast_app):
    keyed = fast_app.client(token=None, headers={"x-api-key": fast_app.admin_token})
    listed = keyed.simulate_get("/v1/agents")
    assert listed.status_code == 200 and listed.json["object"] == "list"
    check_envelope(fast_app.client(token=None, headers={"x-api-key": "qvn_wrong"}).simulate_get("/v1/agents"),
                   401, "unauthorized")
    user = fast_app.client(token=None, headers={"x-api-key": fast_app.issue_token("user")})
    check_envelope(user.simulate_post("/v1/memory/save", json={"scope": "workspace", "content": "x"}),
                   403, "admin_only")


def test_every_response_carries_a_request_id(fast_app, fast_admin):
    for r in (fast_admin.simulate_get("/v1/agents"), fast_app.client(token=None).simulate_get("/v1/agents"),
              fast_admin.simulate_get("/health")):
        assert r.headers["x-request-id"].startswith("req_")
