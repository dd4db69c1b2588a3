"""``PUT /v1/models/selected`` and ``PUT /v1/models/default`` only take models the provider offers (once
its catalog has been fetched), and the default never points outside the selection."""

from __future__ import annotations

import httpx

from tests.fakes.fake_provider import FakeProvider
from tests.support.envelope import check_envelope
from tests.support.upstream import UPSTREAM_KEY, configure_upstream


def test_ids_missing_from_a_fetched_catalog_are_400_naming_them(admin: httpx.Client, fake: FakeProvider):
    configure_upstream(admin, fake, models=["fake-model"])
    assert {e["id"] for e in admin.get("/v1/models/catalog").json()["data"]} >= {"fake/fake-model",
                                                                                  "fake/fake-model-large"}
    body = check_envelope(admin.put("/v1/models/selected",
                                    json={"models": ["fake/fake-model", "fake/gpt-nope", "fake/other-nope"]}),
                          400, "validation_error", "models.1")
    assert "fake/gpt-nope" in body["error"]["message"] and "fake/other-nope" in body["error"]["message"]
    assert admin.get("/v1/models/selected").json() == {"models": ["fake/fake-model"]}  # unchanged
    check_envelope(admin.put("/v1/models/default", json={"model": "fake/gpt-nope"}), 400, "validation_error",
                   "model")
    assert admin.get("/v1/models/default").json() == {"model": "fake/fake-model"}
    ok = admin.put("/v1/models/selected", json={"models": ["fake/fake-model", "fake/fake-model-large"]})
    assert ok.status_code == 200 and sorted(ok.json()["models"]) == ["fake/fake-model", "fake/fake-model-large"]


def test_a_provider_whose_catalog_cannot_be_fetched_is_taken_at_its_word(admin: httpx.Client):
    # nothing listens on the discard port: its model list cannot be fetched
    provider = admin.post("/v1/providers", json={"name": "dark", "kind": "openai_compatible",
                                                 "base_url": "http://127.0.0.1:9/v1"}).json()
    errors = admin.get("/v1/models/catalog", params={"refresh": "true"}).json()["errors"]
    assert provider["id"] in str(errors) or "dark" in str(errors), errors
    answer = admin.put("/v1/models/selected", json={"models": ["dark/whatever-it-serves"]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"models": ["dark/whatever-it-serves"]}


def test_setting_a_default_selects_it_and_unselecting_it_clears_it(admin: httpx.Client, fake: FakeProvider):
    configure_upstream(admin, fake, models=["fake-model"])
    admin.get("/v1/models/catalog")
    assert admin.put("/v1/models/default", json={"model": "fake/fake-model-large"}).status_code == 200
    assert "fake/fake-model-large" in admin.get("/v1/models/selected").json()["models"]
    assert admin.put("/v1/models/selected", json={"models": ["fake/fake-model"]}).status_code == 200
    assert admin.get("/v1/models/default").json() == {"model": None}
    listed = admin.get("/v1/models", params={"limit": 200}).json()["data"]
    assert not [m for m in listed if m["qorven"]["default"] and m["qorven"]["kind"] == "model"]
    # keeping the default in the selection keeps it
    assert admin.put("/v1/models/default", json={"model": "fake/fake-model"}).status_code == 200
    assert admin.put("/v1/models/selected", json={"models": ["fake/fake-model", "fake/fake-model-large"]}
                     ).status_code == 200
    assert admin.get("/v1/models/default").json() == {"model": "fake/fake-model"}
