"""1,000 bad requests of many shapes against a live ``qorven serve``: only 4xx, the server stays up.

Shapes: garbage and deeply nested JSON, huge strings, wrong types for every documented field,
unicode edge cases, header injection, path traversal in ids and UI paths, odd methods, bogus
content lengths and transfer encodings, raw malformed HTTP, partial (slowloris-ish) requests and
query garbage. Every answer is a 4xx (raw HTTP the server cannot parse may also be closed without
one), nothing hangs, the server logs no unhandled error, and good requests succeed afterwards.
Brute-forcing tokens is rate limited: tests/web/test_rate_limits_e2e.py covers it.
"""

from __future__ import annotations

import collections
import json
import random
import socket
import time
from typing import Any, Iterator

import httpx
import pytest

from tests.support.raw_http import raw_exchange
from tests.support.servers import ServeProcess

SEED = 9001
TOTAL = 1000
TIMEOUT = 30.0   # per request: generous for a loaded 2-core machine; a hang is far longer
SKIP_PATHS = ("/v1/auth/rotate", "/v1/webhooks/")   # rotation would succeed on an empty body; webhooks are signed
WRONG_VALUES = ({"o": [1]}, [{"o": 1}], "not-this-type", 12345, True)
JSON_TYPE = {dict: "object", list: "array", str: "string", int: "integer", bool: "boolean"}


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    with ServeProcess(tmp_path_factory.mktemp("abuse-home")) as srv:
        with srv.client() as api:
            agent = api.post("/v1/agents", json={"name": "abuse-target"}).json()
            session = api.post("/v1/sessions", json={"agent_id": agent["id"]}).json()
            spec = api.get("/openapi.json").json()
        yield srv, spec, {"agent_id": agent["id"], "session_id": session["id"]}


def _wrong_value(schema: dict[str, Any]) -> Any:
    """A value whose JSON type the property's schema does not allow (or outside its enum)."""
    if "enum" in schema or "const" in schema:
        return "∆-not-an-option-∆"
    allowed = schema.get("type")
    if allowed is None:
        return None
    allowed = {allowed} if isinstance(allowed, str) else set(allowed)
    if "number" in allowed:
        allowed.add("integer")
    for value in WRONG_VALUES:
        if JSON_TYPE[type(value)] not in allowed:
            return value
    return None


def _body_operations(spec: dict, ids: dict[str, str]) -> list[tuple[str, str, dict]]:
    """(method, concrete path, request schema) of every write that takes a JSON body."""
    ops = []
    for path, item in spec["paths"].items():
        if path.startswith(SKIP_PATHS):
            continue
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if not content:
                continue
            concrete = path
            for name in ("agent_id", "session_id"):
                concrete = concrete.replace("{" + name + "}", ids[name])
            concrete = concrete.replace("{", "").replace("}", "")  # other ids: bogus, so 404 or 400
            ops.append((method.upper(), concrete, content["schema"]))
    return ops


def _wrong_typed(schema: dict) -> Any:
    props = schema.get("properties") or {}
    body = {}
    for name, sub in props.items():
        value = _wrong_value(sub)
        if value is not None:
            body[name] = value
    return body if body else [1, 2, 3]


# Each generator yields ("http", method, path, headers, body) or ("raw", bytes, kind).
def garbage_json(rng, ops, ids):
    samples = [b"{", b"}", b"[", b"nul", b"{'a': 1}", b'{"a":}', b'{"a" 1}', b"\x00\x01\x02", b"\xff\xfe\xfd",
               b'{"a": "\\x41"}', b'{"a": 01}', b'{"a": .5}', b'{"a": +1}', b"{,}", b'{"a":1,,"b":2}',
               b"NaN", b"Infinity", b'{"n": NaN}', b'{"n": -Infinity}', b'{"n": 1e999}', b"true false",
               b'"unterminated', b"{}garbage", b"\xef\xbb\xbf\xef\xbb\xbf{}", b"/* c */ {}", b"   \t\n  "]
    method, path, _ = rng.choice(ops)
    yield "http", method, path, {"Content-Type": "application/json"}, rng.choice(samples)


def deep_nesting(rng, ops, ids):
    method, path, _ = rng.choice(ops)
    depth = rng.choice([65, 100, 1000, 20000, 200000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    body = (opener * depth + "1" + closer * depth).encode()
    if rng.random() < 0.3:
        body = body[: len(body) // 2]  # unbalanced too
    yield "http", method, path, {"Content-Type": "application/json"}, body


def huge_strings(rng, ops, ids):
    method, path, schema = rng.choice(ops)
    props = [n for n, s in (schema.get("properties") or {}).items() if "string" in str(s.get("type"))]
    size = rng.choice([300_000, 900_000, 1_100_000, 3_000_000])
    name = rng.choice(props) if props else "x"
    body = json.dumps({name: "y" * size, "extra_field_that_is_not_allowed": 1}).encode()
    if rng.random() < 0.5:
        body = json.dumps(["z" * size]).encode()
    yield "http", method, path, {"Content-Type": "application/json"}, body


def wrong_types(rng, ops, ids):
    method, path, schema = rng.choice(ops)
    body = _wrong_typed(schema)
    if rng.random() < 0.3:
        body = rng.choice([[], "string", 42, None, True, [body]])
    yield "http", method, path, {"Content-Type": "application/json"}, json.dumps(body).encode()


def unicode_edges(rng, ops, ids):
    weird = ["\ud800", "\udfff", "\ud83d", "\u0000", "\u202e", "\ufeff", "\uffff", "\U0010ffff", "🧠" * 50,
             "e\u0301" * 20, "\u200b" * 10, "Ａｇｅｎｔ", "İ", "ß", "\u2028\u2029"]
    w = rng.choice(weird)
    choice = rng.randrange(5)
    if choice == 0:  # escaped (lone surrogates arrive only this way) in a slug field: never a valid name
        body = json.dumps({"name": "a" + w + "b"}).encode()
        yield "http", "POST", "/v1/agents", {"Content-Type": "application/json"}, body
    elif choice == 1:  # raw bytes that are not UTF-8 (overlong, truncated, surrogate-encoded)
        bad = rng.choice([b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3", b"\xfe"])
        yield "http", "POST", "/v1/agents", {"Content-Type": "application/json"}, b'{"name": "' + bad + b'"}'
    elif choice == 2:  # ids in paths
        yield "http", "GET", "/v1/agents/agt_" + w.encode("utf-8", "surrogatepass").hex(), {}, None
    elif choice == 3:  # a unicode session title that is too long
        title = (w * 400)[:400]
        body = json.dumps({"title": title, "status": "bogus"}).encode()
        yield "http", "PATCH", f"/v1/sessions/{ids['session_id']}", {"Content-Type": "application/json"}, body
    else:  # charset games in the content type
        body = json.dumps({"name": "X Y"}).encode("utf-16")
        yield "http", "POST", "/v1/agents", {"Content-Type": "application/json; charset=utf-16"}, body


def header_injection(rng, ops, ids):
    injected = rng.choice([
        b"X-Test: a\r\nX-Injected: b", b"Authorization: Bearer qvn_x\r\nAuthorization: Bearer qvn_y",
        b"X-Test: a\rX-Other: b", b"X-Test: a\nSet-Cookie: evil=1", b"X-Test: \x00nul", b"Host: evil.example",
        b"Host: 127.0.0.1:1\r\nHost: localhost", b"X-Forwarded-Host: evil.example\r\nOrigin: http://evil.example",
        b"Origin: null", b"X-Test : space-before-colon", b"X Test: space-in-name", b": no-name",
        b"X-Test: " + b"v" * 70_000, b"\tfolded: continuation", b"X-Test: a\r\n folded-continuation",
    ])
    path = rng.choice(["/v1/agents", "/v1/sessions", f"/v1/agents/{ids['agent_id']}"])
    head = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\n" + injected + b"\r\n\r\n"
    yield "raw", head, "header"


def path_traversal(rng, ops, ids):
    paths = ["/v1/agents/../../etc/passwd", "/v1/agents/..%2F..%2Fetc%2Fpasswd", "/v1/agents/%2e%2e%2f%2e%2e%2f",
             "/v1/sessions/..%252F..%252F", "/ui/../qorven_local/config.py", "/ui/%2e%2e/%2e%2e/etc/passwd",
             "/ui/..%2f..%2fpyproject.toml", "/ui/....//....//etc/passwd", "/ui/%c0%ae%c0%ae/etc/passwd",
             "/v1/agents/agt_1%00.json", "/v1/agents/..\\..\\windows\\win.ini", "/ui/..\\..\\README.md",
             "/v1/models/../../../etc/passwd", "/v1/models/%2e%2e%2fkeys", "/v1/providers/..%2F",
             "/v1/messages?session_id=../../etc/passwd", "/api/../v1/agents/..%2f",
             "/v1/tools/..%2Fread_file", "/v1/rooms/%2e%2e", "/v1/memory/..%2F..%2F",
             "/ui/" + "../" * 40 + "etc/passwd", "/v1/agents/" + "%2e%2e%2f" * 40]
    yield "http", rng.choice(["GET", "DELETE", "PATCH"]), rng.choice(paths), {"Content-Type": "application/json"}, b"{}"


def odd_methods(rng, ops, ids):
    method = rng.choice(["TRACE", "PROPFIND", "FOO", "PURGE", "LINK", "MKCOL", "COPY", "M-SEARCH", "BREW", "X" * 300])
    path = rng.choice(["/v1/agents", "/v1/sessions", "/openapi.json", f"/v1/agents/{ids['agent_id']}", "/nope"])
    yield "raw", f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nAuthorization: TOKEN\r\n\r\n".encode(), "method"


def bogus_lengths(rng, ops, ids):
    body = b'{"name": "cl-test"}'
    variant = rng.randrange(8)
    lines = [b"POST /v1/agents HTTP/1.1", b"Host: 127.0.0.1:PORT", b"Authorization: TOKEN",
             b"Content-Type: application/json"]
    if variant == 0:
        lines.append(b"Content-Length: -1")
    elif variant == 1:
        lines.append(b"Content-Length: abc")
    elif variant == 2:
        lines.append(b"Content-Length: 99999999999999999999")
    elif variant == 3:
        lines += [b"Content-Length: 5", b"Content-Length: 19"]
    elif variant == 4:  # promises more than it sends, then goes quiet: EOF must end it
        lines.append(b"Content-Length: 500")
    elif variant == 5:
        lines += [b"Transfer-Encoding: chunked", b"Content-Length: 19"]
        body = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
    elif variant == 6:
        lines.append(b"Transfer-Encoding: chunked")
        body = rng.choice([b"ffffffffffffffffff\r\nx\r\n0\r\n\r\n", b"-5\r\nx\r\n0\r\n\r\n", b"3\r\nabcdef\r\n",
                           b"0x10\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n"])
    else:
        lines.append(b"Transfer-Encoding: gzip, chunked")
        body = b"5\r\nhello\r\n0\r\n\r\n"
    yield "raw", b"\r\n".join(lines) + b"\r\n\r\n" + body, "length"


def malformed_http(rng, ops, ids):
    samples = [b"GET\r\n\r\n", b"GET /v1/agents HTTP/9.9\r\nHost: 127.0.0.1:PORT\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\x00\x00",
               b"GET /v1/agents HTTP/1.1\r\n" + b"X-H: v\r\n" * 5000 + b"\r\n",
               b"GET /" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\n\r\n",
               b"GET /v1/agents HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", b"\r\n\r\n\r\n",
               b"GET /v1/agents HTTP/1.1\nHost: 127.0.0.1:PORT\n\n", b"GET  /v1/agents  HTTP/1.1\r\n\r\n",
               b"GET http://evil.example/v1/agents HTTP/1.1\r\nHost: evil.example\r\n\r\n",
               b"GET /v1/agents HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
               bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))]
    yield "raw", rng.choice(samples), "malformed"


def partial_requests(rng, ops, ids):
    head = (b"POST /v1/agents HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nAuthorization: TOKEN\r\n"
            b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"name\":")
    cut = rng.randrange(5, len(head))
    yield "raw", head[:cut], "partial"


def auth_garbage(rng, ops, ids):
    value = rng.choice(["Bearer " + "q" * 10_000, "Basic dXNlcjpwYXNz", "Bearer", "Bearer  ", "bearer qvn_",
                        "Bearer qvn_" + "\u00e9" * 43, "Token qvn_abc", "Bearer qvn_../../etc", "Bearer \t qvn_x"])
    header = rng.choice(["Authorization", "x-api-key"])
    method = rng.choice(["GET", "POST"])
    path = rng.choice(["/v1/agents", "/v1/settings", "/v1/sessions"])
    yield "raw", (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nContent-Length: 0\r\n".encode()
                  + header.encode() + b": " + value.encode("utf-8") + b"\r\n\r\n"), "auth"


def query_garbage(rng, ops, ids):
    paged = rng.choice(["/v1/agents", "/v1/sessions", "/v1/providers", f"/v1/messages?session_id={ids['session_id']}&"])
    sep = "" if paged.endswith("&") else "?"
    queries = [paged + sep + q for q in ("limit=abc", "limit=-5", "limit=0", "limit=1e3", "limit=201", "limit=%00",
                                         "limit=1.5", "cursor=%ff%fe%fd", "cursor=" + "A" * 5000, "cursor=eyJ9",
                                         "cursor=e30", "limit=" + "9" * 400)]
    queries += ["/v1/agents?include_deleted=maybe", "/v1/sessions?status=bogus", "/v1/sessions?channel=pigeon",
                "/v1/sessions?q=" + "x" * 5000, "/v1/messages?session_id=", "/v1/messages",
                "/v1/messages?session_id=ses_nope", "/v1/messages?session_id=../../etc/passwd"]
    yield "http", "GET", rng.choice(queries), {}, None


def media_types(rng, ops, ids):
    method, path, _ = rng.choice(ops)
    ctype = rng.choice(["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/jsonx",
                        "json", "application/x-www-form-urlencoded", "*/*", "application/json-patch+json"])
    yield "http", method, path, {"Content-Type": ctype}, b'{"name": "mt"}'


GENERATORS = [garbage_json, deep_nesting, huge_strings, wrong_types, unicode_edges, header_injection,
              path_traversal, odd_methods, bogus_lengths, malformed_http, partial_requests, auth_garbage,
              query_garbage, media_types]


def bad_requests(spec: dict, ids: dict[str, str]) -> Iterator[tuple[str, tuple]]:
    rng = random.Random(SEED)
    ops = _body_operations(spec, ids)
    for i in range(TOTAL):
        generator = GENERATORS[i % len(GENERATORS)]
        for request in generator(rng, ops, ids):
            yield generator.__name__, request


def _send(srv: ServeProcess, api: httpx.Client, request: tuple) -> tuple[int | None, str]:
    if request[0] == "raw":
        _, data, kind = request
        data = data.replace(b"PORT", str(srv.port).encode()).replace(b"TOKEN", f"Bearer {srv.admin_token}".encode())
        answer = raw_exchange("127.0.0.1", srv.port, data, timeout=TIMEOUT)
        return answer.status, answer.head[:200].decode("latin-1")
    _, method, path, headers, body = request
    r = api.request(method, path, headers=headers, content=body, timeout=TIMEOUT)
    return r.status_code, r.text[:200]


def test_a_thousand_bad_requests_get_only_4xx(target):
    srv, spec, ids = target
    outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    bad: list[str] = []
    sent = 0
    started = time.monotonic()
    with srv.client() as api:
        for shape, request in bad_requests(spec, ids):
            status, text = _send(srv, api, request)
            sent += 1
            outcomes[shape][status] += 1
            silent_ok = status is None and request[0] == "raw"   # unparseable HTTP may just be closed
            # RFC 9112 §6.1: a transfer coding the server does not implement is answered 501 (by waitress)
            unknown_coding = status == 501 and request[0] == "raw" and b"Transfer-Encoding: gzip" in request[1]
            if not (silent_ok or unknown_coding or (status is not None and 400 <= status < 500)):
                bad.append(f"{shape}: {str(request)[:300]} → {status} {text}")
            assert srv.proc.poll() is None, f"the server died after {shape}: {str(request)[:300]}"
    elapsed = time.monotonic() - started
    summary = {shape: dict(counter) for shape, counter in outcomes.items()}
    print(f"sent {sent} bad requests in {elapsed:.1f}s: {json.dumps(summary, default=str)}")
    assert sent == TOTAL
    assert not bad, f"{len(bad)} of {sent} bad requests were not answered with a 4xx:\n" + "\n".join(bad[:30])

    # still up, still correct
    with srv.client() as api:
        assert api.get("/health").status_code == 200
        created = api.post("/v1/agents", json={"name": "after-the-storm"})
        assert created.status_code == 201, created.text
        assert api.get(f"/v1/agents/{created.json()['id']}").json()["name"] == "after-the-storm"
        assert api.get("/v1/agents", params={"limit": 200}).status_code == 200
    log = (srv.home / "logs" / "qorven.log").read_text()
    assert "unhandled error" not in log, log[-3000:]
    assert "Traceback" not in "".join(srv.output)


def test_slowloris_connections_do_not_starve_good_requests(target):
    """Dozens of connections that never finish their request: the server keeps answering others."""
    srv, _, _ = target
    held = []
    try:
        for i in range(60):
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            sock.sendall(b"POST /v1/agents HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 100\r\n" % srv.port
                         + (b"\r\n{\"na" if i % 2 else b"X-Slow: "))
            held.append(sock)
        with srv.client() as api:
            for _ in range(10):
                started = time.monotonic()
                r = api.get("/v1/agents", timeout=TIMEOUT)
                assert r.status_code == 200
                assert time.monotonic() - started < TIMEOUT
            assert api.post("/v1/agents", json={"name": "beside-slowloris"}).status_code == 201
    finally:
        for sock in held:
            sock.close()
    assert srv.proc.poll() is None
