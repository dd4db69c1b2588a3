"""http_get against real local servers on 127.0.0.1; refused targets are never connected to."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

PAGE = b"""<!doctype html><html><head><title>Tide  tables</title>
<style>body { color: red }</style><script>var secret = "do not show";</script></head>
<body><h1>High water</h1><p>Today at <b>14:05</b> &amp; 02:31.</p>
<noscript>enable js</noscript><ul><li>Brest</li><li>Saint-Malo</li></ul></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self.server.hits.append((self.path, self.headers.get("Host")))
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/page":
            self._send(200, "text/html; charset=utf-8", PAGE)
        elif url.path == "/text":
            self._send(200, "text/plain", "plain words".encode())
        elif url.path == "/big":
            self._send(200, "text/plain", b"a" * int(query.get("n", 3 * 1024 * 1024)))
        elif url.path == "/png":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/loop":
            self.send_response(301)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/slow":
            time.sleep(float(query.get("s", 3)))
            self._send(200, "text/plain", b"late")
        else:
            self._send(404, "text/plain", b"no such page")

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its size limit


@pytest.fixture
def start_server():
    servers = []

    def start():
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.hits = []
        server.port = server.server_address[1]
        server.url = lambda path: f"http://127.0.0.1:{server.port}{path}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def private_ctx(make_ctx):
    return make_ctx(settings={"allow_private": True})


@pytest.fixture
def connections(monkeypatch):
    """Every outgoing connect() in this test, refused, so a policy failure cannot reach anything."""
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise ConnectionRefusedError("test: outgoing connections are not allowed here")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def get(registry, ctx, url):
    return registry.invoke("http_get", {"url": url}, ctx)


def test_html_is_returned_as_readable_text(registry, private_ctx, server):
    result = get(registry, private_ctx, server.url("/page"))
    assert result.ok, result.error
    page = result.result
    assert page["status"] == 200 and page["content_type"] == "text/html; charset=utf-8"
    assert page["url"] == server.url("/page") and page["truncated"] is False
    assert page["text"] == "Tide tables\n\nHigh water\n\nToday at 14:05 & 02:31.\n\nBrest\n\nSaint-Malo"
    for hidden in ("secret", "color", "enable js"):
        assert hidden not in page["text"]


def test_plain_text_binary_and_error_statuses(registry, private_ctx, server):
    assert get(registry, private_ctx, server.url("/text")).result["text"] == "plain words"
    png = get(registry, private_ctx, server.url("/png")).result
    assert png["text"] == "" and "image/png" in png["note"]
    missing = get(registry, private_ctx, server.url("/missing"))
    assert missing.ok and missing.result["status"] == 404 and missing.result["text"] == "no such page"


def test_body_is_cut_at_the_size_limit(registry, make_ctx, private_ctx, server):
    default = get(registry, private_ctx, server.url("/big")).result  # 3 MiB against 2 MiB
    assert default["truncated"] is True and len(default["text"]) == 200_000
    small = make_ctx(settings={"allow_private": True, "http_max_bytes": 1000})
    cut = get(registry, small, server.url("/big?n=5000")).result
    assert cut["truncated"] is True and cut["text"] == "a" * 1000
    whole = get(registry, small, server.url("/big?n=1000")).result
    assert whole["truncated"] is False and len(whole["text"]) == 1000


def test_redirects_are_followed_and_capped(registry, private_ctx, server):
    moved = get(registry, private_ctx, server.url("/redirect?to=/page")).result
    assert moved["url"] == server.url("/page") and moved["text"].startswith("Tide tables")
    loop = get(registry, private_ctx, server.url("/loop"))
    assert loop.error["code"] == "too_many_redirects"
    assert len(server.hits) == 2 + 6  # the redirect, the page, then 1 + 5 hops of the loop


def test_total_time_limit(registry, make_ctx, server):
    ctx = make_ctx(settings={"allow_private": True, "http_timeout_s": 0.5})
    started = time.monotonic()
    result = get(registry, ctx, server.url("/slow?s=3"))
    assert time.monotonic() - started < 2
    assert result.error["code"] == "http_timeout"


def test_the_checked_address_is_the_one_connected_to(registry, private_ctx, server, monkeypatch):
    """The name is resolved once, by the policy; httpx connects to that IP with the name as Host."""
    real = socket.getaddrinfo
    lookups = []

    def fake(host, *args, **kwargs):
        if host == "tides.test":
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    result = get(registry, private_ctx, f"http://tides.test:{server.port}/page")
    assert result.ok and result.result["url"] == f"http://tides.test:{server.port}/page"
    assert server.hits == [("/page", f"tides.test:{server.port}")]
    assert lookups == ["tides.test"]


def test_rebinding_name_is_refused_before_connecting(registry, ctx, connections, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))])
    result = get(registry, ctx, "http://rebind.test/")
    assert result.error["code"] == "url_blocked" and connections == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/page", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                                 "http://localhost:{port}/page", "http://[::1]:{port}/page",
                                 "http://[::ffff:127.0.0.1]:{port}/page", "file:///etc/passwd"])
def test_private_targets_are_refused_without_any_connection(registry, ctx, server, connections, url):
    result = get(registry, ctx, url.format(port=server.port))
    assert not result.ok and result.error["code"] == "url_blocked"
    assert connections == [] and server.hits == []


def test_redirect_to_loopback_is_refused_at_the_second_hop(registry, make_ctx, start_server):
    front, hidden = start_server(), start_server()
    ctx = make_ctx(settings={"allowed_hosts": (f"127.0.0.1:{front.port}",)})
    assert get(registry, ctx, front.url("/text")).ok  # the allowed host itself works
    result = get(registry, ctx, front.url(f"/redirect?to=http://127.0.0.1:{hidden.port}/page"))
    assert result.error["code"] == "url_blocked" and "loopback" in result.error["message"]
    assert [path for path, _ in front.hits] == ["/text", f"/redirect?to=http://127.0.0.1:{hidden.port}/page"]
    assert hidden.hits == []


def _self_signed(tmp_path, name):
    """A throwaway certificate for ``name`` (cert and key PEM paths)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.parametrize("cert_name, ok", [("tides.test", True), ("other.test", False)])
def test_https_to_the_checked_ip_verifies_the_host_name(registry, private_ctx, start_server, tmp_path,
                                                         monkeypatch, cert_name, ok):
    """Connecting to the IP must still send the name as SNI and check the certificate against it."""
    import ssl

    from qorven_local.tools.builtin import http_get as module

    cert, key = _self_signed(tmp_path, cert_name)
    server = start_server()
    sni_seen = []
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server_tls.sni_callback = lambda sock, name, context: sni_seen.append(name)
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    client_tls = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(module, "tls_context", lambda: client_tls)
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))] if host == "tides.test"
        else real(host, *a, **k))

    result = get(registry, private_ctx, f"https://tides.test:{server.port}/text")
    assert sni_seen == ["tides.test"]
    if ok:
        assert result.ok and result.result["text"] == "plain words"
        assert server.hits == [("/text", f"tides.test:{server.port}")]
    else:
        assert result.error["code"] == "http_error" and server.hits == []
