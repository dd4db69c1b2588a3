"""Pagination of list endpoints, in process: ``limit``, ``cursor``, and a bad cursor is 400."""

from __future__ import annotations

import pytest

from tests.support.envelope import check_envelope

pytestmark = pytest.mark.fast


def test_limit_and_cursor_walk_every_agent_once_newest_first(fast_admin):
    everyone = fast_admin.simulate_get("/v1/agents", params={"limit": 200}).json
    assert everyone["has_more"] is False and everyone["next_cursor"] is None
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = fast_admin.simulate_get("/v1/agents", params=params).json
        assert page["object"] == "list" and len(page["data"]) <= 2
        seen.extend(a["id"] for a in page["data"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == [a["id"] for a in everyone["data"]]


def test_new_sessions_do_not_shift_the_pages_already_cursored(fast_admin):
    agent = fast_admin.simulate_post("/v1/agents", json={"name": "pager"}).json["id"]
    ids = [fast_admin.simulate_post("/v1/sessions", json={"agent_id": agent, "channel": "task"}).json["id"]
           for _ in range(5)]
    first = fast_admin.simulate_get("/v1/sessions", params={"agent_id": agent, "limit": 3}).json
    fast_admin.simulate_post("/v1/sessions", json={"agent_id": agent, "channel": "task"})
    rest = fast_admin.simulate_get("/v1/sessions", params={"agent_id": agent, "limit": 3,
                                                           "cursor": first["next_cursor"]}).json
    assert [s["id"] for s in first["data"] + rest["data"]] == list(reversed(ids))


@pytest.mark.parametrize("cursor", ["garbage", "e30", "%%%", "A" * 300])
def test_a_malformed_cursor_is_400(fast_admin, cursor):
    check_envelope(fast_admin.simulate_get("/v1/agents", params={"cursor": cursor}), 400, "validation_error",
                   "cursor")


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
def test_a_limit_out_of_range_is_400(fast_admin, limit):
    check_envelope(fast_admin.simulate_get("/v1/sessions", params={"limit": limit}), 400, "validation_error",
                   "limit")
