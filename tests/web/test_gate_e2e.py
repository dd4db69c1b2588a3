"""The request gate against a real ``qorven serve`` subprocess: auth, Host/Origin guards, x-api-key."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import httpx
import pytest

from qorven_local.config import load_config
from qorven_local.bootstrap import build_context
from qorven_local.web.app import route_table as app_route_table
from qorven_local.web.spec import HTTP_METHODS


def route_table(tmp_path):
    ctx = build_context(load_config({"home": str(tmp_path / "routes")}, env={}))
    routes = app_route_table(ctx)
    ctx.db.close()
    return routes


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", "x", path)


def protected_operations(tmp_path):
    for route in route_table(tmp_path):
        for method, op in route.operations().items():
            if not op.public:
                yield method.upper(), concrete(route.path)


def test_every_non_public_route_needs_a_token(serve_process, tmp_path):
    ops = list(protected_operations(tmp_path))
    assert len(ops) >= 10  # the table is really enumerated
    with serve_process.client(token=None) as anon:
        for method, path in ops:
            for prefix_path in (path, path.replace("/v1/", "/api/", 1)):
                r = anon.request(method, prefix_path, json={} if method in ("POST", "PUT", "PATCH") else None)
                assert r.status_code == 401, (method, prefix_path, r.status_code, r.text)
                body = r.json()
                assert body["error"]["code"] == "unauthorized"
                assert body["error"]["request_id"] == r.headers["x-request-id"]


def test_public_routes_answer_without_a_token(serve_process):
    with serve_process.client(token=None) as anon:
        assert anon.get("/health").json()["status"] == "ok"
        assert anon.get("/livez").status_code == 200
        assert anon.get("/readyz").status_code == 200
        assert anon.get("/openapi.json").json()["openapi"] == "3.1.0"


def test_bearer_and_x_api_key_are_the_same_check(serve_process):
    token = serve_process.admin_token
    with serve_process.client(token=None) as anon:
        assert anon.get("/v1/agents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert anon.get("/v1/agents", headers={"x-api-key": token}).status_code == 200
        assert anon.get("/api/v1/agents", headers={"x-api-key": token}).status_code == 200
        for bad in ("qvn_" + "A" * 43, token + "x", token[:-1]):
            assert anon.get("/v1/agents", headers={"x-api-key": bad}).status_code == 401
            assert anon.get("/v1/agents", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
        assert anon.get("/v1/agents", headers={"Authorization": "Bearer"}).status_code == 401
        assert anon.get("/v1/agents", headers={"Authorization": f"Basic {token}"}).status_code == 401


def test_the_five_builtin_agents_exist(serve_process):
    with serve_process.client() as admin:
        names = {a["name"] for a in admin.get("/v1/agents").json()["data"]}
    assert names == {"prime", "researcher", "writer", "developer", "analyst"}


def test_user_token_on_admin_route_is_403(serve_process):
    out = subprocess.run([sys.executable, "-m", "qorven_local.cli.main", "auth", "create-token", "--tenant",
                          "default", "--scope", "user", "--home", str(serve_process.home)],
                         capture_output=True, text=True, check=True)
    user_token = out.stdout.strip()
    with serve_process.client(token=user_token) as user:
        assert user.get("/v1/agents").status_code == 200
        r = user.post("/v1/auth/rotate", json={})
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "admin_only"


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1:1", "localhost", "attacker.test:7421"])
def test_foreign_host_header_is_403(serve_process, host):
    with serve_process.client() as admin:
        r = admin.get("/v1/agents", headers={"Host": host})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden_host"


def test_loopback_host_names_are_accepted(serve_process):
    with serve_process.client() as admin:
        for host in (f"127.0.0.1:{serve_process.port}", f"localhost:{serve_process.port}",
                     f"[::1]:{serve_process.port}"):
            assert admin.get("/health", headers={"Host": host}).status_code == 200


def raw_request(port: int, head: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("latin-1")


def test_empty_or_missing_host_is_403(serve_process):
    for head in ("GET /health HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",
                 "GET /health HTTP/1.0\r\n\r\n"):
        response = raw_request(serve_process.port, head)
        assert response.startswith("HTTP/1.") and " 403 " in response.split("\r\n")[0], response[:200]
        assert "forbidden_host" in response


def test_cross_site_origin_on_writes_is_403(serve_process):
    with serve_process.client() as admin:
        for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Origin": f"http://127.0.0.1:{serve_process.port}", "Sec-Fetch-Site": "cross-site"},
                        {"Origin": "http://localhost:1"}):
            r = admin.post("/v1/agents", json={"name": "never-made"}, headers=headers)
            assert r.status_code == 403, headers
            assert r.json()["error"]["code"] == "forbidden_origin"
        assert admin.get("/v1/agents/never-made").status_code == 404
        same = admin.post("/v1/agents", json={"name": "same-origin"},
                          headers={"Origin": f"http://127.0.0.1:{serve_process.port}",
                                   "Sec-Fetch-Site": "same-origin"})
        assert same.status_code == 201


def test_every_response_carries_a_request_id(serve_process):
    with serve_process.client() as admin:
        ids = {admin.get(p).headers["x-request-id"] for p in ("/health", "/v1/agents", "/nope", "/readyz")}
    assert len(ids) == 4 and all(i.startswith("req_") for i in ids)


def test_plain_get_on_ws_is_426(serve_process):
    with serve_process.client() as admin:
        for path in ("/ws", "/api/ws"):
            r = admin.get(path)
            assert r.status_code == 426
            assert r.json()["error"]["code"] == "upgrade_required"
