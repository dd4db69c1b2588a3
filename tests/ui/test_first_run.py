"""First run: no provider yet, so the UI walks through adding one and choosing the default model."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.upstream import UPSTREAM_KEY as KEY


def test_first_run_adds_a_provider_and_picks_the_default_model(ui, server, api, fake):
    assert api.get("/v1/providers").json()["data"] == []
    ui.open(server.admin_token)
    page = ui.page
    expect(page.get_by_role("heading", name="Welcome to Qorven Local")).to_be_visible()
    expect(page.get_by_role("heading", name="Local servers on this computer")).to_be_visible()

    page.get_by_label("Kind").select_option("openai_compatible")
    page.get_by_label("Name").fill("fake")
    page.get_by_label("Base URL").fill(fake.base_url)
    page.get_by_label("API key").fill(KEY)
    page.get_by_role("button", name="Add provider").click()

    expect(page.get_by_role("heading", name="Models to use")).to_be_visible()
    expect(page.get_by_role("checkbox", name="fake/fake-model", exact=True)).to_be_checked()
    page.get_by_label("Default model").select_option("fake/fake-model")
    ui.shot("first-run-choose-models")
    page.get_by_role("button", name="Use these models").click()

    expect(page.get_by_label("Message")).to_be_visible()
    expect(page.get_by_role("link", name="Chat")).to_have_attribute("aria-current", "page")
    assert api.get("/v1/models/default").json()["model"] == "fake/fake-model"
    provider = api.get("/v1/providers").json()["data"][0]
    assert provider["has_key"] is True and KEY not in str(provider)
    ui.shot("first-run-done")
    ui.assert_clean()


def test_the_token_leaves_the_address_bar_and_stays_in_session_storage_only(ui, server, configured):
    ui.open(server.admin_token)
    page = ui.page
    expect(page.get_by_label("Message")).to_be_visible()
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('qorven.token')") == server.admin_token
    assert page.evaluate("Object.values(localStorage).join(' ')").find("qvn_") < 0


def test_a_bad_token_asks_for_one(ui, server):
    ui.open("qvn_" + "x" * 43)
    expect(ui.page.get_by_role("heading", name="Connect to Qorven")).to_be_visible()
    expect(ui.page.get_by_text("unauthorized")).to_be_visible()
