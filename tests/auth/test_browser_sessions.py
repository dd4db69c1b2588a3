"""Browser sign-in over HTTP and /ws (API.md, Browser login; CORS): a one-click code becomes the
``qorven_session`` cookie, which counts only on the app's own same-origin requests."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.support.servers import InProcessServer

LISTED = "http://localhost:3000"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with InProcessServer(tmp_path_factory.mktemp("login-home"), {"cors_origins": LISTED}) as server:
        yield server


@pytest.fixture
def http(srv):
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        yield client


def new_code(srv) -> str:
    return srv.ctx.browser_sessions.login_link(srv.url).split("#login=", 1)[1]


def sign_in(http: httpx.Client, **body: str) -> str:
    res = http.post("/api/auth/session", json=body)
    assert res.status_code == 201, res.text
    return res.cookies["qorven_session"]


def with_cookie(value: str, **headers: str) -> dict[str, str]:
    return {"Cookie": f"qorven_session={value}", **headers}


def test_a_code_becomes_an_httponly_strict_cookie_and_works_once(srv, http):
    code = new_code(srv)
    res = http.post("/api/auth/session", json={"code": code})
    assert res.status_code == 201 and res.json() == {"tenant_id": "default", "scope": "admin"}
    attrs = {a.strip().split("=")[0].lower() for a in res.headers["set-cookie"].split(";")}
    assert {"httponly", "path"} <= attrs and "samesite=strict" in res.headers["set-cookie"].lower()
    assert "secure" not in attrs  # plain http on loopback: a Secure cookie would never come back
    value = res.cookies["qorven_session"]
    assert code not in value and value not in json.dumps(res.json())
    stored = srv.ctx.db.query("SELECT session_hash FROM browser_sessions")
    assert value not in {r["session_hash"] for r in stored}  # only its hash is kept
    assert http.get("/api/agents", headers=with_cookie(value, **{"Sec-Fetch-Site": "same-origin"})).status_code == 200

    again = http.post("/api/auth/session", json={"code": code})
    assert again.status_code == 401 and "already used" in again.json()["error"]["message"]
    assert "qorven login" in again.json()["error"]["message"]


def test_an_expired_or_unknown_code_is_refused_with_a_clear_message(srv, http):
    code = new_code(srv)
    with srv.ctx.db.write() as conn:
        conn.execute("UPDATE login_codes SET expires_at = '2000-01-01T00:00:00Z' WHERE used_at IS NULL")
    expired = http.post("/api/auth/session", json={"code": code})
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    unknown = http.post("/api/auth/session", json={"code": "not-a-code"})
    assert unknown.status_code == 401 and "not valid" in unknown.json()["error"]["message"]
    for body in ({}, {"code": code, "token": srv.admin_token}, {"code": 5}, {"code": "x", "extra": 1}):
        res = http.post("/api/auth/session", json=body)
        assert res.status_code == 400 and res.json()["error"]["code"] == "validation_error", body
    assert "set-cookie" not in expired.headers


def test_the_cookie_counts_only_on_the_apps_own_requests(srv, http):
    value = sign_in(http, code=new_code(srv))
    own = srv.url
    other_port = srv.url.rsplit(":", 1)[0] + ":1"
    assert http.get("/api/agents", headers=with_cookie(value, Origin=own)).status_code == 200
    for headers in ({"Origin": other_port}, {"Origin": LISTED}, {"Sec-Fetch-Site": "same-site"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        res = http.get("/api/agents", headers=with_cookie(value, **headers))
        assert res.status_code == 401 and res.json()["error"]["code"] == "unauthorized", headers
    # a listed CORS origin is served with its token, never with the cookie, and never with credentials
    res = http.get("/api/agents", headers=with_cookie(value, Origin=LISTED, Authorization=f"Bearer {srv.admin_token}"))
    assert res.status_code == 200 and "access-control-allow-credentials" not in res.headers
    # nor may it sign a browser in
    refused = http.post("/api/auth/session", json={"code": new_code(srv)}, headers={"Origin": LISTED})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden_origin"
    assert "set-cookie" not in refused.headers


def test_cookie_writes_still_pass_the_origin_check(srv, http):
    value = sign_in(http, code=new_code(srv))
    body = {"agent_id": "prime", "channel": "task"}
    foreign = http.post("/api/sessions", json=body, headers=with_cookie(value, Origin="http://evil.example"))
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden_origin"
    ours = http.post("/api/sessions", json=body, headers=with_cookie(value, Origin=srv.url))
    assert ours.status_code in (200, 201), ours.text


def test_logout_ends_the_session_on_the_server_and_clears_the_cookie(srv, http):
    value = sign_in(http, code=new_code(srv))
    out = http.post("/api/auth/logout", headers=with_cookie(value, Origin=srv.url))
    assert out.status_code == 204
    cleared = out.headers["set-cookie"]
    assert cleared.startswith('qorven_session=""') or cleared.startswith("qorven_session=;")
    assert "expires=" in cleared.lower() or "max-age=0" in cleared.lower()
    assert http.get("/api/agents", headers=with_cookie(value)).status_code == 401
    # a page elsewhere cannot sign the user out
    other = sign_in(http, code=new_code(srv))
    refused = http.post("/api/auth/logout", headers=with_cookie(other, Origin="http://evil.example"))
    assert refused.status_code == 403
    assert http.get("/api/agents", headers=with_cookie(other)).status_code == 200


def test_a_session_made_from_a_token_ends_with_that_token(srv, http):
    token = srv.ctx.tokens.issue("default", "user", label="browser form")
    value = sign_in(http, token=token)
    assert http.get("/api/agents", headers=with_cookie(value)).status_code == 200
    [row] = srv.ctx.tokens.store.db.query("SELECT id FROM tokens WHERE label = 'browser form'")
    srv.ctx.tokens.revoke(row["id"])
    assert http.get("/api/agents", headers=with_cookie(value)).status_code == 401
    refused = http.post("/api/auth/session", json={"token": token})
    assert refused.status_code == 401


def test_ws_takes_the_cookie_on_the_same_origin_only(srv, http):
    value = sign_in(http, code=new_code(srv))
    ws_url = srv.url.replace("http://", "ws://") + "/api/ws"
    with connect(ws_url, additional_headers=with_cookie(value), origin=srv.url, subprotocols=["qorven.v1"],
                 open_timeout=10) as ws:
        ws.send(json.dumps({"type": "subscribe", "topics": ["activity"]}))
        assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
        # signing out closes the browser's open socket too, like a revoked token's
        assert http.post("/api/auth/logout", headers=with_cookie(value)).status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    value = sign_in(http, code=new_code(srv))
    for origin in (LISTED, srv.url.rsplit(":", 1)[0] + ":1"):
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, additional_headers=with_cookie(value), origin=origin, subprotocols=["qorven.v1"],
                    open_timeout=10)
        assert refused.value.response.status_code in (401, 403), origin


def test_a_rotation_from_the_api_rewrites_the_admin_token_file(srv, http):
    old = srv.admin_token
    res = http.post("/api/auth/rotate", json={"grace_seconds": 60}, headers={"Authorization": f"Bearer {old}"})
    assert res.status_code == 201, res.text
    new = res.json()["token"]
    assert new != old and srv.admin_token == new
    assert (srv.home / "admin-token").stat().st_mode & 0o077 == 0
