"""An agent's ``model`` must name a model a provider offers, on create and on patch (it was stored
unchecked and failed later, at chat time); null (the tenant's default) stays allowed."""

from __future__ import annotations

import httpx

from tests.fakes.fake_provider import FakeProvider
from tests.support.envelope import check_envelope
from tests.support.upstream import configure_upstream


def test_unknown_models_are_400_on_create_and_patch(admin: httpx.Client, fake: FakeProvider):
    configure_upstream(admin, fake, models=["fake-model"])
    admin.get("/v1/models/catalog")  # the catalog is fetched: ids are checked against it
    for bad in ("nobody/fake-model", "fake/no-such-model", "no-slash", "qor:prime"):
        check_envelope(admin.post("/v1/agents", json={"name": "picky", "model": bad}), 400,
                       "validation_error", "model")
    assert "picky" not in [a["name"] for a in admin.get("/v1/agents", params={"limit": 200}).json()["data"]]

    created = admin.post("/v1/agents", json={"name": "picky", "model": "fake/fake-model-large"})
    assert created.status_code == 201, created.text
    agent = created.json()
    assert agent["model"] == "fake/fake-model-large"  # offered though not selected: agents may use it
    defaulted = admin.post("/v1/agents", json={"name": "plain", "model": None})
    assert defaulted.status_code == 201 and defaulted.json()["model"] is None

    check_envelope(admin.patch(f"/v1/agents/{agent['id']}", json={"model": "fake/gone"}), 400,
                   "validation_error", "model")
    assert admin.get(f"/v1/agents/{agent['id']}").json()["model"] == "fake/fake-model-large"  # unchanged
    patched = admin.patch(f"/v1/agents/{agent['id']}", json={"model": None})
    assert patched.status_code == 200 and patched.json()["model"] is None
    assert admin.patch(f"/v1/agents/{agent['id']}", json={"model": "fake/fake-model"}).json()["model"] == \
        "fake/fake-model"
