"""Bad input gets the right 4xx envelope, never a 500; one test walks every error path."""

from __future__ import annotations

import json

import pytest

from tests.support.envelope import check_envelope


def test_malformed_json(serve_process):
    with serve_process.client() as api:
        for raw in (b"{", b"not json", b'{"name": "a",}', b"\xff\xfe", b"", b"   ", b"[1, 2", b"NaNx"):
            r = api.post("/v1/agents", content=raw, headers={"Content-Type": "application/json"})
            check_envelope(r, 400, "invalid_json")


def test_deep_nesting_is_refused_cleanly(serve_process):
    with serve_process.client() as api:
        deep = "[" * 5000 + "]" * 5000
        check_envelope(api.post("/v1/agents", content=deep, headers={"Content-Type": "application/json"}),
                       400, "invalid_json")
        nested = {"name": "n"}
        for _ in range(100):
            nested = {"x": nested}
        check_envelope(api.post("/v1/agents", json=nested), 400, "invalid_json")


@pytest.mark.parametrize("body,param", [
    ({}, "name"),
    ({"name": 5}, "name"),
    ({"name": "Bad Name!"}, "name"),
    ({"name": "ok", "tools": "calculator"}, "tools"),
    ({"name": "ok", "temperature": "hot"}, "temperature"),
    ({"name": "ok", "temperature": 9}, "temperature"),
    ({"name": "ok", "memory": {"enabled": "yes"}}, "memory.enabled"),
    ({"name": "ok", "surprise": 1}, "surprise"),
    ([1, 2, 3], None),
    ("just a string", None),
    ({"name": "x" * 500}, "name"),
])
def test_wrong_types_and_unknown_fields(serve_process, body, param):
    with serve_process.client() as api:
        check_envelope(api.post("/v1/agents", json=body), 400, "validation_error", param)


def test_session_and_patch_validation(serve_process):
    with serve_process.client() as api:
        check_envelope(api.post("/v1/sessions", json={"agent_id": "prime", "channel": "pigeon"}), 400,
                       "validation_error", "channel")
        check_envelope(api.post("/v1/sessions", json={"agent_id": "nobody"}), 404, "not_found", "agent_id")
        agent = api.get("/v1/agents").json()["data"][0]
        check_envelope(api.patch(f"/v1/agents/{agent['id']}", json={}), 400, "validation_error")
        check_envelope(api.patch(f"/v1/agents/{agent['id']}", json={"builtin": False}), 400,
                       "validation_error", "builtin")


def test_huge_bodies_are_413(serve_process):
    with serve_process.client() as api:
        big = json.dumps({"name": "big", "instructions": "x" * (2 * 1024 * 1024)})
        check_envelope(api.post("/v1/agents", content=big, headers={"Content-Type": "application/json"}),
                       413, "payload_too_large")

        def chunks():  # no Content-Length: the limit must hold while reading
            yield b'{"name": "big2", "instructions": "'
            for _ in range(40):
                yield b"y" * 65536
            yield b'"}'
        check_envelope(api.post("/v1/agents", content=chunks(), headers={"Content-Type": "application/json"}),
                       413, "payload_too_large")
        assert api.get("/v1/agents", params={"limit": 200}).status_code == 200


def test_wrong_content_type_is_415(serve_process):
    with serve_process.client() as api:
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            check_envelope(api.post("/v1/agents", content=b'{"name":"t"}', headers={"Content-Type": ctype}),
                           415, "unsupported_media_type")
        check_envelope(api.post("/v1/agents", content=b'{"name":"t"}'), 415, "unsupported_media_type")


@pytest.mark.parametrize("cursor", ["garbage", "e30", "eyJrIjoiYSIsImlkIjoiYiJ9", "%%%", "A" * 300,
                                    "eyJrIjp0cnVlLCJpZCI6ImEifQ"])
def test_bad_cursors_are_400(serve_process, cursor):
    with serve_process.client() as api:
        check_envelope(api.get("/v1/agents", params={"cursor": cursor}), 400, "validation_error", "cursor")


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5", ""])
def test_bad_limits_are_400(serve_process, limit):
    with serve_process.client() as api:
        check_envelope(api.get("/v1/sessions", params={"limit": limit}), 400, "validation_error", "limit")


@pytest.mark.parametrize("path", ["/v1/agents/..%2F..%2Fetc%2Fpasswd", "/v1/agents/%00", "/v1/agents/' OR 1=1 --",
                                  "/v1/sessions/" + "z" * 5000, "/v1/agents/%F0%9F%92%A9", "/v1/agents/agt_\u202e"])
def test_odd_ids_are_404(serve_process, path):
    with serve_process.client() as api:
        check_envelope(api.get(path), 404, "not_found")


def test_unicode_round_trips(serve_process):
    with serve_process.client() as api:
        text = "Zeichen: ü, 漢字, emoji 🧠, RTL \u202e, zero-width \u200b, NUL-free"
        r = api.post("/v1/agents", json={"name": "unicode-agent", "instructions": text})
        assert r.status_code == 201 and r.json()["instructions"] == text
        lone = b'{"name": "lone-surrogate", "description": "\\ud800"}'
        check_envelope(api.post("/v1/agents", content=lone, headers={"Content-Type": "application/json"}),
                       400, "invalid_json")


def test_every_error_path_uses_the_one_envelope(serve_process):
    """Walk each error code the core API can produce and check the envelope and status."""
    port = serve_process.port
    seen = set()
    with serve_process.client() as api, serve_process.client(token=None) as anon:
        cases = [
            (api.post("/v1/agents", content=b"{", headers={"Content-Type": "application/json"}), 400, "invalid_json"),
            (api.post("/v1/agents", json={"name": 1}), 400, "validation_error"),
            (anon.get("/v1/agents"), 401, "unauthorized"),
            (api.get("/v1/agents", headers={"Host": "rebind.example"}), 403, "forbidden_host"),
            (api.post("/v1/agents", json={"name": "o"}, headers={"Origin": "http://evil.example"}), 403,
             "forbidden_origin"),
            (api.get("/v1/agents/agt_missing"), 404, "not_found"),
            (api.get("/v1/no-such-route"), 404, "not_found"),
            (api.put("/v1/agents", json={}), 405, "method_not_allowed"),
            (api.post("/v1/agents", json={"name": "prime"}), 409, "conflict"),
            (api.post("/v1/agents", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}),
             413, "payload_too_large"),
            (api.post("/v1/agents", content=b"{}", headers={"Content-Type": "text/plain"}), 415,
             "unsupported_media_type"),
            (api.get("/ws"), 426, "upgrade_required"),
        ]
        for response, status, code in cases:
            check_envelope(response, status, code)
            seen.add(code)
    assert len(seen) == 11
    assert port  # the server stayed up through all of it
    with serve_process.client() as api:
        assert api.get("/health").status_code == 200
