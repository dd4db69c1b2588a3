"""A page served from another loopback port calls the API from Chromium (API.md "CORS (opt-in)").

The page comes from a tiny ``http.server`` on 127.0.0.1:<ephemeral>, so its origin differs from the
API's by the port: the browser preflights every ``fetch`` that sends ``authorization`` or JSON. The
API server lists one page's origin in QORVEN_CORS_ORIGINS; the other page's origin is unlisted.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from tests.support.servers import InProcessServer

# The page's own script: fetch(api + path) with the token, report what the page could see.
PAGE = b"""<!doctype html><meta charset="utf-8"><title>another origin</title>
<script>
window.callApi = async (api, path, token, body) => {
  const headers = token ? {authorization: 'Bearer ' + token} : {};
  const init = {headers};
  if (body) { init.method = 'POST'; headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
  try {
    const r = await fetch(api + path, init);
    return {ok: true, status: r.status, requestId: r.headers.get('x-request-id'), body: await r.json()};
  } catch (e) {
    return {ok: false, error: String(e)};
  }
};
</script>
"""


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output quiet


class PageServer:
    """Serves PAGE on 127.0.0.1:<ephemeral> from a background thread."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "PageServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def pages() -> Iterator[tuple[PageServer, PageServer]]:
    """Two pages on two ports: the first will be listed, the second not."""
    with PageServer() as listed, PageServer() as unlisted:
        yield listed, unlisted


@pytest.fixture(scope="module")
def cors_api(pages, tmp_path_factory) -> Iterator[InProcessServer]:
    listed, _ = pages
    with InProcessServer(tmp_path_factory.mktemp("cors-ui-home"), {"cors_origins": listed.origin}) as srv:
        yield srv


@pytest.fixture
def open_page(browser):
    contexts = []

    def open_(origin: str):
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(origin + "/")
        return page

    yield open_
    for context in contexts:
        context.close()


def call(page, api: str, path: str, token: str | None, body: dict | None = None) -> dict:
    return page.evaluate("([api, path, token, body]) => window.callApi(api, path, token, body)",
                         [api, path, token, body])


def agent_names(server: InProcessServer) -> list[str]:
    with server.client() as client:
        return [a["name"] for a in client.get("/v1/agents").json()["data"]]


def test_listed_origin_page_reads_and_writes_with_its_token(cors_api, pages, open_page):
    page = open_page(pages[0].origin)
    listed = call(page, cors_api.url, "/v1/agents", cors_api.admin_token)
    assert listed["ok"], listed
    assert listed["status"] == 200
    assert "prime" in [a["name"] for a in listed["body"]["data"]]
    assert listed["requestId"].startswith("req_")  # exposed to the page
    created = call(page, cors_api.url, "/v1/agents", cors_api.admin_token, {"name": "from-page"})
    assert created["ok"], created
    assert created["status"] == 201, created
    assert "from-page" in agent_names(cors_api)


def test_listed_origin_page_reads_the_401_without_a_token(cors_api, pages, open_page):
    page = open_page(pages[0].origin)
    refused = call(page, cors_api.url, "/v1/agents", None)
    assert refused["ok"], refused
    assert refused["status"] == 401
    assert refused["body"]["error"]["code"] == "unauthorized"


def test_unlisted_origin_page_fetch_rejects(cors_api, pages, open_page):
    page = open_page(pages[1].origin)
    read = call(page, cors_api.url, "/v1/agents", cors_api.admin_token)
    assert not read["ok"], read
    assert "TypeError" in read["error"]
    write = call(page, cors_api.url, "/v1/agents", cors_api.admin_token, {"name": "from-unlisted-page"})
    assert not write["ok"], write
    assert "from-unlisted-page" not in agent_names(cors_api)
