"""An unknown route answers 404 ``not_found`` whatever the request's media type (curl -F, form posts),
and a known route still answers 415 for a non-JSON body."""

from __future__ import annotations

import httpx

from tests.support.envelope import check_envelope


def test_multipart_and_form_posts_to_unknown_paths_are_404(admin: httpx.Client):
    for path in ("/v1/nope", "/api/nope/deeper", "/v1/files", "/v1/audio/transcriptions"):
        check_envelope(admin.post(path, files={"file": ("a.txt", b"hello")}), 404, "not_found")
        check_envelope(admin.post(path, data={"a": "b"}), 404, "not_found")
        check_envelope(admin.put(path, content=b"x", headers={"Content-Type": "text/plain"}), 404, "not_found")


def test_a_known_route_still_refuses_a_non_json_body_with_415(admin: httpx.Client):
    check_envelope(admin.post("/v1/agents", files={"file": ("a.txt", b"hello")}), 415, "unsupported_media_type")
    check_envelope(admin.post("/v1/agents", data={"name": "x"}), 415, "unsupported_media_type")


def test_a_wrong_method_with_a_form_body_is_405_not_415(admin: httpx.Client):
    check_envelope(admin.put("/v1/models", data={"a": "b"}), 405, "method_not_allowed")
