"""First run: signing in with the printed one-click link (no token anywhere), the fallback form, and
no provider yet, so the UI walks through adding one and choosing the default model."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.upstream import UPSTREAM_KEY as KEY
from tests.ui.conftest import VIEWPORT, UI


def printed_link(server) -> str:
    """The link ``qorven serve`` / ``app.py`` print: made by the same call on the running server."""
    return server.ctx.browser_sessions.login_link(server.url)


def test_the_printed_link_signs_in_every_tab_until_sign_out(browser, server, configured):
    context = browser.new_context(viewport=VIEWPORT)
    try:
        ui = UI(context.new_page(), server.url)
        page = ui.page
        link = printed_link(server)
        page.goto(link)
        expect(page.get_by_label("Message")).to_be_visible()
        expect(page.get_by_role("heading", name="Sign in to Qorven")).to_have_count(0)
        assert "login=" not in page.url
        [cookie] = [c for c in context.cookies() if c["name"] == "qorven_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert page.evaluate("document.cookie") == ""  # not readable by the page's scripts
        stored = page.evaluate("Object.values(localStorage).join(' ') + Object.values(sessionStorage).join(' ')")
        assert "qvn_" not in stored and cookie["value"] not in stored

        second = UI(context.new_page(), server.url)
        second.page.goto(server.url + "/#/agents")  # a new tab, no link: signed in by the cookie
        expect(second.page.get_by_role("link", name="Agents")).to_have_attribute("aria-current", "page")
        page.reload()
        expect(page.get_by_label("Message")).to_be_visible()
        ui.shot("signed-in-by-link")

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to Qorven")).to_be_visible()
        expect(page.get_by_text("qorven login", exact=True)).to_be_visible()
        ui.shot("signed-out")
        assert not [c for c in context.cookies() if c["name"] == "qorven_session"]
        second.page.reload()  # the session ended on the server for every tab
        expect(second.page.get_by_role("heading", name="Sign in to Qorven")).to_be_visible()

        page.goto(link)  # the same link again: it worked once
        expect(page.get_by_text("already used")).to_be_visible()
        expect(page.get_by_label("API token")).to_be_visible()
        ui.shot("sign-in-link-used")
        ui.assert_clean()
        second.assert_clean()
    finally:
        context.close()


def test_an_expired_link_says_so_and_the_token_form_still_signs_in(ui, server, configured):
    link = printed_link(server)
    with server.ctx.db.write() as conn:  # ten minutes later
        conn.execute("UPDATE login_codes SET expires_at = '2000-01-01T00:00:00Z'")
    ui.page.goto(link)
    expect(ui.page.get_by_text("expired")).to_be_visible()
    ui.page.get_by_label("API token").fill("qvn_" + "x" * 43)
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.get_by_text("That token was not accepted")).to_be_visible()
    ui.page.get_by_label("API token").fill(server.admin_token)
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.get_by_label("Message")).to_be_visible()
    stored = ui.page.evaluate("Object.values(localStorage).join(' ') + Object.values(sessionStorage).join(' ')")
    assert "qvn_" not in stored  # the pasted token went to the server, not into storage
    ui.assert_clean()


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
