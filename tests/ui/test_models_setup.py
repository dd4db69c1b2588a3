"""Provider setup cannot end broken (the setup wizard and the Models screen share the form): it tests
before saving, names host:port when a server is unreachable, saves only when the user chooses, every
step has a way back, and the dots show real test results."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.providers_api.test_provider_test_before_save import closed_port
from tests.support.upstream import UPSTREAM_KEY


def test_an_unreachable_provider_is_not_saved_until_the_user_chooses(ui, server, api, fake):
    port = closed_port()
    ui.open(server.admin_token)  # no provider yet: the setup wizard
    page = ui.page
    expect(page.get_by_role("heading", name="Welcome to Qorven Local")).to_be_visible()
    form = page.locator("form").filter(has=page.get_by_label("Base URL"))
    form.get_by_label("Kind").select_option("openai_compatible")
    form.get_by_label("Name").fill("lmstudio")
    form.get_by_label("Base URL").fill(f"http://127.0.0.1:{port}/v1")
    form.get_by_role("button", name="Add provider").click()
    alert = form.get_by_role("alert")
    expect(alert).to_contain_text(f"127.0.0.1:{port}")
    expect(form).to_contain_text("Nothing was saved")
    ui.shot("models-unreachable-before-save")
    assert api.get("/v1/providers").json()["data"] == []

    form.get_by_role("button", name="Retry").click()  # still down: still refused, still not saved
    expect(alert).to_contain_text(f"127.0.0.1:{port}")
    assert api.get("/v1/providers").json()["data"] == []

    form.get_by_role("button", name="Fix").click()
    expect(form.get_by_label("Base URL")).to_be_focused()
    form.get_by_label("Base URL").fill(fake.base_url)
    form.get_by_label("API key").fill(UPSTREAM_KEY)
    form.get_by_role("button", name="Add provider").click()
    expect(page.get_by_role("checkbox", name="lmstudio/fake-model", exact=True)).to_be_visible()  # saved, tested
    page.get_by_role("button", name="Back").click()  # the wizard has a way back...
    expect(page.get_by_role("heading", name="Or add a provider")).to_be_visible()
    page.get_by_role("button", name="Skip for now").click()  # ...and out
    expect(page.get_by_label("Message")).to_be_visible()
    page.get_by_role("link", name="Models").click()
    providers = page.get_by_role("list", name="Providers")
    expect(providers.get_by_role("button", name=re.compile("lmstudio"))).to_contain_text("Reachable")
    [saved] = api.get("/v1/providers").json()["data"]
    assert saved["status"] == "reachable" and saved["has_key"]

    # "Save anyway" keeps a provider whose server is not up yet; its dot says so after the catalog refresh
    page.get_by_role("button", name="Add provider").first.click()
    form = page.locator("form").filter(has=page.get_by_label("Base URL"))
    form.get_by_label("Kind").select_option("openai_compatible")
    form.get_by_label("Name").fill("later")
    form.get_by_label("Base URL").fill(f"http://127.0.0.1:{port}/v1")
    form.get_by_role("button", name="Add provider").click()
    form.get_by_role("button", name="Save anyway").click()
    expect(page.get_by_role("heading", name="later")).to_be_visible()
    expect(providers.get_by_role("button", name=re.compile("later"))).to_contain_text("Unreachable")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("alert")).to_contain_text(f"127.0.0.1:{port}")
    ui.shot("models-provider-dots")
    ui.assert_clean()
