"""Every list endpoint answers a crafted pagination cursor with 400 ``validation_error`` naming ``cursor``.

The list endpoints are read from ``/openapi.json`` (every GET that declares a ``cursor`` parameter), so
a list added later is covered without editing this file.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.support.envelope import check_envelope


def forge(payload: object) -> str:
    """A cursor in our encoding (base64url JSON, unpadded) around an arbitrary payload."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CRAFTED = {
    "huge int": forge({"k": 10**30, "id": "x"}),
    "just past SQLite's range": forge({"k": 2**63, "id": "x"}),
    "negative int": forge({"k": -5, "id": "x"}),
    "string key": forge({"k": "1", "id": "x"}),
    "float key": forge({"k": 1.5, "id": "x"}),
    "boolean key": forge({"k": True, "id": "x"}),
    "missing id": forge({"k": 1}),
    "numeric id": forge({"k": 1, "id": 5}),
    "JSON list": forge([1, 2]),
    "JSON string": forge("s"),
    "JSON number": forge(7),
    "JSON null": forge(None),
    "deeply nested JSON": forge(b"[" * 3000),
    "not UTF-8": forge(b"\xff\xfe"),
    "not base64": "!!!not-base64",
    "not ASCII": "é",
    "overlong": "A" * 4000,
}


def list_paths(api: httpx.Client) -> list[str]:
    spec = api.get("/openapi.json").json()
    paths = [path for path, ops in spec["paths"].items()
             if any(p["name"] == "cursor" for p in ops.get("get", {}).get("parameters", []))]
    assert len(paths) >= 10, paths  # the route table has a dozen lists; an empty scan would prove nothing
    return paths


def fill(path: str, parents: dict[str, str]) -> str:
    for name, value in parents.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no parent to fill {path} with; add one to make_parents"
    return path


def make_parents(api: httpx.Client) -> tuple[dict[str, str], dict[str, str]]:
    """Path parameters for the nested lists, and required query parameters (messages need a session)."""
    session = api.post("/v1/sessions", json={"agent_id": "prime"}).json()["id"]
    room = api.post("/v1/rooms", json={"name": "cursor room", "members": ["prime"]}).json()["id"]
    binding = api.post("/v1/channels", json={"kind": "telegram", "name": "cursor bot", "agent_id": "prime"}).json()["id"]
    document = api.post("/v1/documents", json={"title": "cursor doc", "content": "A short note to page."}).json()["id"]
    return ({"room_id": room, "binding_id": binding, "tool_id": "calculator", "session_id": session,
             "document_id": document},
            {"session_id": session})


def test_every_list_endpoint_rejects_crafted_cursors_with_400(admin):
    parents, query = make_parents(admin)
    failures = []
    for path in list_paths(admin):
        url = fill(path, parents)
        assert admin.get(url, params=query).status_code == 200, url  # the list itself works
        for label, cursor in CRAFTED.items():
            response = admin.get(url, params={**query, "cursor": cursor})
            if response.status_code != 400:
                failures.append(f"{path} with {label}: {response.status_code}")
                continue
            check_envelope(response, 400, "validation_error", param="cursor")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", ["/v1/agents", "/v1/tools"])
def test_a_real_next_cursor_still_pages(admin, path):
    first = admin.get(path, params={"limit": 1}).json()
    assert first["has_more"] and first["next_cursor"]
    second = admin.get(path, params={"limit": 1, "cursor": first["next_cursor"]})
    assert second.status_code == 200
    assert second.json()["data"][0]["id"] != first["data"][0]["id"]
