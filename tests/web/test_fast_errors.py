"""Each error path of the web layer answers the one envelope, in process."""

from __future__ import annotations

import pytest

from tests.support.envelope import check_envelope

pytestmark = pytest.mark.fast


def test_unknown_route_and_unknown_id_are_404(fast_admin):
    check_envelope(fast_admin.simulate_get("/v1/nothing-here"), 404, "not_found")
    check_envelope(fast_admin.simulate_get("/v1/agents/agt_missing"), 404, "not_found")


def test_a_method_the_route_does_not_serve_is_405(fast_admin):
    check_envelope(fast_admin.simulate_delete("/v1/agents"), 405, "method_not_allowed")


def test_a_write_that_is_not_json_is_415(fast_admin):
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        check_envelope(fast_admin.simulate_post("/v1/agents", body=b'{"name":"t"}',
                                                headers={"Content-Type": content_type}),
                       415, "unsupported_media_type")


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"name": "a",}', b"\xff\xfe", b"[1, 2"])
def test_a_body_that_is_not_json_is_400_invalid_json(fast_admin, raw):
    check_envelope(fast_admin.simulate_post("/v1/agents", body=raw, headers={"Content-Type": "application/json"}),
                   400, "invalid_json")


@pytest.mark.parametrize("body,param", [
    ({}, "name"),
    ({"name": 5}, "name"),
    ({"name": "ok", "temperature": 9}, "temperature"),
    ({"name": "ok", "memory": {"enabled": "yes"}}, "memory.enabled"),
    ({"name": "ok", "surprise": 1}, "surprise"),
])
def test_a_body_that_fails_the_schema_is_400_validation_error_naming_the_field(fast_admin, body, param):
    check_envelope(fast_admin.simulate_post("/v1/agents", json=body), 400, "validation_error", param)


def test_a_body_over_the_limit_is_413(fast_admin):
    big = b'{"name": "big", "instructions": "' + b"x" * (1024 * 1024) + b'"}'
    check_envelope(fast_admin.simulate_post("/v1/agents", body=big, headers={"Content-Type": "application/json"}),
                   413, "payload_too_large")


def test_a_duplicate_name_is_409_conflict(fast_admin):
    assert fast_admin.simulate_post("/v1/agents", json={"name": "twin"}).status_code == 201
    check_envelope(fast_admin.simulate_post("/v1/agents", json={"name": "twin"}), 409, "conflict")


def test_a_foreign_host_is_403_forbidden_host(fast_app):
    client = fast_app.client(headers={"Host": "evil.example"})
    check_envelope(client.simulate_get("/v1/agents"), 403, "forbidden_host")
