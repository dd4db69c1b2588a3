"""Channels: bind a channel to an agent, set its secret (write-only), check status and routing."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import require_api


def test_a_channel_binding_is_created_secured_and_routes_by_keyword(ui, server, configured):
    require_api(configured, "/v1/channels")
    ui.open(server.admin_token, "channels")
    page = ui.page
    expect(page.get_by_role("heading", name="Channels", exact=True)).to_be_visible()
    page.get_by_role("button", name="New binding").click()
    page.get_by_label("Kind").select_option("webhook")
    page.get_by_label("Name").fill("Build bot")
    page.get_by_label("Agent", exact=True).select_option(label="Prime")
    page.get_by_label("Keyword routing").fill("invoice: analyst")
    page.get_by_role("button", name="Create binding").click()
    expect(page.get_by_role("heading", name="Build bot")).to_be_visible()

    secrets = page.get_by_role("region", name="Secrets")
    expect(secrets.get_by_text("not set")).to_be_visible()
    secrets.get_by_label("Signing secret").fill("whsec-ui-test-0123456789")
    secrets.get_by_role("button", name="Save").click()
    expect(page.get_by_role("region", name="Secrets").get_by_text("set", exact=True)).to_be_visible()
    binding = configured.get("/v1/channels").json()["data"][0]
    assert binding["secret_set"] is True and "whsec-ui-test" not in str(binding)
    expect(page.get_by_role("region", name="Status").get_by_role("textbox", name="Webhook URL")).to_have_value(
        binding["webhook_url"])

    routing = page.get_by_role("form", name="Test routing")
    routing.get_by_label("Text").fill("Where is my invoice?")
    routing.get_by_label("Sender").fill("ci-42")
    routing.get_by_role("button", name="Test routing").click()
    expect(routing.locator("table")).to_contain_text("Analyst")
    expect(routing.locator("table")).to_contain_text("a new session would be created")
    ui.shot("channels-binding")
    ui.assert_clean()
