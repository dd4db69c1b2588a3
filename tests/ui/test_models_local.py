"""Models on this computer: with nothing else set up, the first-run screen offers "Import GGUF file";
an imported model becomes the default with one click, and the Models screen shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytest.importorskip("gguf", reason="the local extra is not installed: pip install -e '.[local]'")

from tests.local_models.tiny_gguf import write_tiny_llama  # noqa: E402


def local_provider(api) -> dict:
    """The local provider: built in on servers that create it, added here on those that do not yet."""
    existing = [p for p in api.get("/v1/providers").json()["data"] if p["kind"] == "local"]
    if existing:
        return existing[0]
    created = api.post("/v1/providers", json={"name": "local", "kind": "local"})
    assert created.status_code == 201, created.text
    return created.json()


def test_import_a_gguf_file_and_use_it_from_the_first_run_screen(ui, server, api):
    local = local_provider(api)
    if api.get("/v1/models/default").json().get("model"):
        pytest.skip("a starter model is already the default here: the first-run screen does not show")
    (server.home / "incoming").mkdir()
    source = write_tiny_llama(server.home / "incoming" / "my-model.gguf")
    ui.open(server.admin_token)
    page = ui.page
    card = page.get_by_role("region", name="Models on this computer")
    expect(card).to_be_visible()
    card.get_by_label("GGUF file path").fill(str(server.home / "incoming" / "missing.gguf"))
    card.get_by_role("button", name="Import GGUF file").click()
    expect(card.get_by_role("alert")).to_contain_text("Could not import the file")
    card.get_by_label("GGUF file path").fill(str(source))
    card.get_by_role("button", name="Import GGUF file").click()
    model_id = f"{local['name']}/my-model"
    expect(card.get_by_text(model_id, exact=True)).to_be_visible()
    ui.shot("first-run-local-model-imported")
    card.get_by_role("button", name="Use as default").click()
    expect(page.get_by_label("Message")).to_be_visible()  # the wizard ends: chat is ready
    assert api.get("/v1/models/default").json()["model"] == model_id

    page.get_by_role("link", name="Models").click()
    card = page.get_by_role("region", name="Models on this computer")
    expect(card.get_by_text(model_id, exact=True)).to_be_visible()
    expect(card.get_by_text("Default model", exact=True)).to_be_visible()
    ui.shot("models-on-this-computer")
    ui.assert_clean()


def test_in_the_desktop_window_choose_file_opens_the_native_dialog_and_imports(ui, server, api):
    """The window attaches its dialog (here: a stand-in chooser on the server side, as pywebview's would
    answer); the card then offers "Choose file…", and picking a file imports it at once."""
    local = local_provider(api)
    (server.home / "picked").mkdir()
    source = write_tiny_llama(server.home / "picked" / "picked-model.gguf")
    offered: list[tuple[str, ...]] = []
    server.ctx.file_dialogs.attach(lambda file_types: (offered.append(file_types), str(source))[1])
    try:
        ui.open(server.admin_token, "models")
        card = ui.page.get_by_role("region", name="Models on this computer")
        card.get_by_role("button", name="Choose file…").click()
        model_id = f"{local['name']}/picked-model"
        expect(card.get_by_text(model_id, exact=True)).to_be_visible()
        assert offered and offered[0][0] == "GGUF models (*.gguf)"
        ui.shot("models-choose-file-imported")
    finally:
        server.ctx.file_dialogs.detach()
    ui.page.reload()
    card = ui.page.get_by_role("region", name="Models on this computer")
    expect(card.get_by_label("GGUF file path")).to_be_visible()
    expect(card.get_by_role("button", name="Choose file…")).to_have_count(0)  # a browser types the path
    ui.assert_clean()
