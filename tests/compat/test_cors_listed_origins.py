"""CORS is opt-in (API.md "CORS (opt-in)"): a browser page on an origin listed in QORVEN_CORS_ORIGINS
may call the API with its own token; every other origin is refused as before.

Everything goes over real HTTP to a real server; the browser's side of the same story (a page on
another loopback port calling ``fetch``) is ``tests/ui/test_cors_from_another_origin.py``.
"""

from __future__ import annotations

import json
from typing import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.support.envelope import check_envelope
from tests.support.servers import InProcessServer

LISTED = "http://localhost:3000"
EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
UNLISTED = "http://evil.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
# what a browser adds to a cross-site fetch
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory) -> Iterator[InProcessServer]:
    """A server listing a web origin and an extension origin (the second one with a trailing slash)."""
    with InProcessServer(tmp_path_factory.mktemp("cors-home"), {"cors_origins": f"{LISTED}, {EXTENSION}/"}) as srv:
        yield srv


@pytest.fixture
def anonymous(cors_server: InProcessServer) -> Iterator[httpx.Client]:
    with cors_server.client(token=None) as client:
        yield client


def assert_cors_headers(r: httpx.Response, origin: str) -> None:
    assert r.headers["access-control-allow-origin"] == origin
    assert "origin" in [v.strip().lower() for v in r.headers["vary"].split(",")]
    exposed = {v.strip().lower() for v in r.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "ratelimit", "ratelimit-policy", "retry-after"} <= exposed
    assert "access-control-allow-credentials" not in r.headers


def test_preflight_from_listed_origin_answers_204_without_token(anonymous):
    r = anonymous.options("/v1/agents", headers={"Origin": LISTED, **PREFLIGHT})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_cors_headers(r, LISTED)
    methods = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "HEAD", "POST", "PATCH", "DELETE"} <= methods
    allowed = {h.strip() for h in r.headers["access-control-allow-headers"].split(",")}
    assert allowed == {"authorization", "content-type", "x-api-key"}
    assert int(r.headers["access-control-max-age"]) > 0


def test_preflight_from_an_extension_listed_with_a_trailing_slash_under_the_api_alias(anonymous):
    r = anonymous.options("/api/v1/chat/completions", headers={"Origin": EXTENSION, **PREFLIGHT})
    assert r.status_code == 204, r.text
    assert_cors_headers(r, EXTENSION)


def test_preflight_from_unlisted_origin_is_forbidden_origin(anonymous):
    r = anonymous.options("/v1/agents", headers={"Origin": UNLISTED, **PREFLIGHT})
    check_envelope(r, 403, "forbidden_origin")
    assert "access-control-allow-origin" not in r.headers


def test_listed_origin_post_without_token_is_401_the_browser_can_read(anonymous):
    r = anonymous.post("/v1/agents", json={"name": "from-web"}, headers={"Origin": LISTED, **CROSS_SITE})
    check_envelope(r, 401, "unauthorized")
    assert_cors_headers(r, LISTED)


def test_listed_origin_with_token_passes_the_origin_check_on_writes(cors_server):
    with cors_server.client(headers={"Origin": EXTENSION, **CROSS_SITE}) as client:
        created = client.post("/v1/agents", json={"name": "from-extension"})
        assert created.status_code == 201, created.text
        assert_cors_headers(created, EXTENSION)
        listed = client.get("/v1/agents")
        assert "from-extension" in [a["name"] for a in listed.json()["data"]]
        assert_cors_headers(listed, EXTENSION)
        assert client.delete(f"/v1/agents/{created.json()['id']}").status_code in (200, 204)


def test_unlisted_origin_write_is_refused_even_with_a_token(cors_server):
    with cors_server.client(headers={"Origin": UNLISTED, **CROSS_SITE}) as client:
        r = client.post("/v1/agents", json={"name": "from-evil"})
        check_envelope(r, 403, "forbidden_origin")
        assert "access-control-allow-origin" not in r.headers
        names = [a["name"] for a in client.get("/v1/agents").json()["data"]]
    assert "from-evil" not in names


def test_unlisted_origin_reads_get_no_cors_headers(cors_server):
    # a GET is not refused server-side (it changes nothing), but without Allow-Origin the browser
    # keeps the answer from the page
    with cors_server.client(headers={"Origin": UNLISTED}) as client:
        r = client.get("/v1/agents")
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


def test_without_the_setting_every_preflight_is_refused(server):
    with server.client(token=None) as client:
        r = client.options("/v1/agents", headers={"Origin": LISTED, **PREFLIGHT})
        check_envelope(r, 403, "forbidden_origin")
        assert "access-control-allow-origin" not in r.headers
        assert "access-control-allow-origin" not in client.get("/health", headers={"Origin": LISTED}).headers


def test_live_events_socket_accepts_a_listed_origin_and_refuses_an_unlisted_one(cors_server):
    # a page opens /ws with the token in the subprotocol pair (browsers cannot set Authorization)
    url = cors_server.url.replace("http://", "ws://") + "/ws"
    offer = ["qorven.v1", "token." + cors_server.admin_token]
    with connect(url, origin=Origin(LISTED), subprotocols=offer, open_timeout=5, close_timeout=2) as conn:
        assert conn.subprotocol == "qorven.v1"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=Origin(UNLISTED), subprotocols=offer, open_timeout=5, close_timeout=2)
    assert refused.value.response.status_code == 403
    assert json.loads(bytes(refused.value.response.body))["error"]["code"] == "forbidden_origin"
