"""Channels: a form per kind (no raw JSON), "ready" only when a binding can reply, and the webhook URL to
paste with a Copy button and how to expose it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.screens_ui.conftest import open_screen


def new_binding_form(ui, site, kind: str):
    """The Channels screen's New binding form, with ``kind`` chosen."""
    open_screen(ui, site, "channels")
    # the button answers once the screen has loaded, which the filled list shows
    expect(ui.page.get_by_role("list", name="Channel bindings").get_by_role("listitem").first).to_be_visible()
    ui.page.get_by_role("button", name="New binding").click()
    form = ui.page.get_by_role("form", name="New binding")
    form.get_by_label("Kind").select_option(kind)
    return form


def test_a_slack_binding_is_set_up_in_its_own_form_and_says_what_is_missing(ui, site):
    form = new_binding_form(ui, site, "slack")
    page = ui.page
    expect(form.get_by_role("textbox", name="Config")).to_have_count(0)
    form.get_by_label("Name", exact=True).fill("Team Slack")
    form.get_by_label("Signing secret").fill("slack-signing-secret-0123456789")
    expect(form.get_by_label("Bot token")).to_be_visible()
    form.get_by_role("button", name="Create binding").click()

    expect(page.get_by_role("heading", name="Team Slack")).to_be_visible()
    status = page.get_by_role("region", name="Status")
    expect(status).to_contain_text("Not ready yet.")
    expect(status.get_by_role("list", name="What is missing")).to_contain_text(
        "No bot token is set, so the agent's replies cannot be sent.")
    binding = next(b for b in site.api.get("/v1/channels").json()["data"] if b["name"] == "Team Slack")
    assert binding["secrets"] == {"signing_secret": True, "bot_token": False}
    expect(status.get_by_role("textbox", name="Webhook URL")).to_have_value(binding["webhook_url"])
    expect(status).to_contain_text("Event Subscriptions → Request URL")
    expect(status).to_contain_text("This address only works on this computer.")
    expect(status).to_contain_text("QORVEN_PUBLIC_BASE_URL")
    ui.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    status.get_by_role("button", name="Copy webhook URL").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == binding["webhook_url"]
    ui.shot("screens-channels-missing")

    secrets = page.get_by_role("region", name="Secrets")
    bot_token = secrets.get_by_role("textbox", name="Bot token")
    bot_token.fill("xoxb-0123456789-test")
    secrets.locator("form").filter(has=page.get_by_role("textbox", name="Bot token")).get_by_role("button", name="Save").click()
    expect(page.get_by_role("region", name="Status")).to_contain_text("Ready: it can receive messages and reply.")
    expect(page.get_by_role("list", name="Channel bindings")).to_contain_text("ready")
    assert "xoxb-0123456789-test" not in site.api.get(f"/v1/channels/{binding['id']}").text


def test_each_kind_asks_for_its_own_settings(ui, site):
    form = new_binding_form(ui, site, "whatsapp")
    page = ui.page
    for label in ("App secret", "Access token", "Verify token", "Phone number ID"):
        expect(form.get_by_label(label, exact=True)).to_be_visible()
    form.get_by_label("Kind").select_option("twilio_sms")
    for label in ("Auth token", "Public base URL", "Account SID", "From number"):
        expect(form.get_by_label(label, exact=True)).to_be_visible()
    form.get_by_label("Name", exact=True).fill("Texts")
    form.get_by_label("Public base URL").fill("https://sms.example.test")
    form.get_by_label("Auth token").fill("twilio-auth-token-0123456789")
    form.get_by_role("button", name="Create binding").click()
    status = page.get_by_role("region", name="Status")
    expect(status.get_by_role("textbox", name="Webhook URL")).to_have_value(re.compile(r"^https://sms\.example\.test/v1/webhooks/chn_"))
    expect(status).not_to_contain_text("This address only works on this computer.")
    made = next(b for b in site.api.get("/v1/channels").json()["data"] if b["name"] == "Texts")
    assert made["config"] == {"public_base_url": "https://sms.example.test"} and made["secret_set"] is True
    ui.shot("screens-channels-twilio")


def test_a_tunnel_address_entered_as_public_address_becomes_the_url_to_paste(ui, site):
    form = new_binding_form(ui, site, "slack")
    page = ui.page
    form.get_by_label("Name", exact=True).fill("Slack via tunnel")
    form.get_by_role("button", name="Create binding").click()
    status = page.get_by_role("region", name="Status")
    expect(status).to_contain_text("This address only works on this computer.")
    expect(status).to_contain_text("Public address")

    settings = page.get_by_role("form", name="Binding settings")
    settings.get_by_label("Public address (optional)").fill("https://quiet-fox.trycloudflare.com")
    settings.get_by_role("button", name="Save").click()
    url = page.get_by_role("region", name="Status").get_by_role("textbox", name="Webhook URL")
    expect(url).to_have_value(re.compile(r"^https://quiet-fox\.trycloudflare\.com/v1/webhooks/chn_"))
    expect(page.get_by_role("region", name="Status")).not_to_contain_text("This address only works on this computer.")
    made = next(b for b in site.api.get("/v1/channels").json()["data"] if b["name"] == "Slack via tunnel")
    assert made["config"] == {"public_base_url": "https://quiet-fox.trycloudflare.com"}
    assert made["webhook_url"] == f"https://quiet-fox.trycloudflare.com/v1/webhooks/{made['id']}"
