"""/v1/models, /v1/models/catalog and /v1/channels/status page with ``limit``/``cursor`` like every list
(they ignored both), and refuse bad values with 400 ``validation_error``."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.fakes.fake_provider import FakeProvider
from tests.support.envelope import check_envelope
from tests.support.upstream import configure_upstream

MODELS = [f"m-{i:02d}" for i in range(7)]


def walk(api: httpx.Client, path: str, limit: int) -> list[str]:
    """Every id of a list, page by page (bounded)."""
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = api.get(path, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["object"] == "list" and len(body["data"]) <= limit
        ids += [item["id"] for item in body["data"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return ids
        assert len(body["data"]) == limit and body["next_cursor"]
        cursor = body["next_cursor"]
    raise AssertionError("the list never ended")


@pytest.fixture
def seeded(admin: httpx.Client, module_fake: FakeProvider):
    module_fake.reset()
    module_fake.models = list(MODELS)
    configure_upstream(admin, module_fake, models=MODELS)
    for i in range(3):
        created = admin.post("/v1/channels", json={"kind": "telegram", "name": f"bot {i}", "agent_id": "prime",
                                                   "config": {"api_base_url": "http://127.0.0.1:9"}})
        assert created.status_code == 201, created.text
    yield admin
    module_fake.models = ["fake-model", "fake-model-large"]


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/catalog", "/v1/channels/status"])
def test_a_computed_list_pages_through_every_item_once(seeded: httpx.Client, path: str):
    everything = seeded.get(path, params={"limit": 200}).json()
    full = [item["id"] for item in everything["data"]]
    assert len(full) >= 3 and len(set(full)) == len(full)
    assert everything["has_more"] is False
    for limit in (1, 2, 5):
        assert walk(seeded, path, limit) == full
    first = seeded.get(path, params={"limit": 1}).json()
    assert len(first["data"]) == 1 and first["has_more"] is True


def test_the_catalog_page_keeps_its_errors_field(seeded: httpx.Client):
    body = seeded.get("/v1/models/catalog", params={"limit": 2}).json()
    assert body["errors"] == [] and len(body["data"]) == 2 and body["has_more"] is True


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/catalog", "/v1/channels/status"])
def test_bad_limit_or_cursor_is_400(admin: httpx.Client, path: str):
    for limit in ("0", "201", "-1", "ten"):
        check_envelope(admin.get(path, params={"limit": limit}), 400, "validation_error", "limit")
    for cursor in ("not-a-cursor", "eyJrIjotMX0", "x" * 600):
        check_envelope(admin.get(path, params={"cursor": cursor}), 400, "validation_error", "cursor")


def test_the_openai_sdk_still_lists_models(seeded: httpx.Client, server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.admin_token, max_retries=0)
    ids = [m.id for m in client.models.list()]
    assert {f"fake/{m}" for m in MODELS} <= set(ids)
