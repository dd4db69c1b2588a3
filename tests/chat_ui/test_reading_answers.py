"""Reading answers on the Chat screen: plain errors with the action that fixes them ("Set up a model",
"Retry"), long one-chunk replies kept in view, the composer's keys, and the banner while the server
is unreachable. One server (started without a model, configured on the way) and one page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from qorven_local.config import load_config
from qorven_local.runtime import Runtime
from tests.fakes import Reply
from tests.support.servers import TEST_LIMITS, InProcessServer
from tests.support.upstream import configure_upstream
from tests.support.wait import wait_until


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory, module_fake):
    """A server with a provider but no model chosen (so the UI opens on Chat, and chat has no model)."""
    with InProcessServer(tmp_path_factory.mktemp("reading-home")) as server:
        with server.client() as api:
            r = api.post("/v1/providers", json={"name": "idle", "kind": "openai_compatible",
                                                "base_url": module_fake.base_url})
            assert r.status_code == 201, r.text
        yield server


@pytest.fixture
def view(chat_ui):
    """The module's page (conftest's ``chat_ui`` over this module's ``chat_server``), on the Chat screen."""
    expect(chat_ui.page.get_by_label("Message")).to_be_enabled()
    return chat_ui


def send(page, text):
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")


def test_with_no_model_the_answer_says_so_and_offers_to_set_one_up(view, api):
    page = view.page
    send(page, "hello?")
    error = page.locator("article.msg.assistant").last.locator(".chat-error")
    expect(error).to_contain_text("No model is set up yet")
    expect(error).not_to_contain_text("/v1/")  # no API paths for people
    expect(page.locator(".conv-head .status")).to_have_text("")  # no sticky error status in the header
    view.shot("chat-no-model")
    error.get_by_role("button", name="Set up a model").click()
    wait_until(lambda: page.url.endswith("#/models"), message="Set up a model did not open the Models screen")
    page.get_by_role("link", name="Chat").click()
    expect(page.get_by_label("Message")).to_be_enabled()


def test_a_failed_answer_offers_retry_which_answers_again(view, api, module_fake, fake):
    configure_upstream(api, fake)
    page = view.page
    page.get_by_role("button", name="New chat").click()
    fake.enqueue(Reply.error(500, "upstream exploded"), Reply.text("Recovered."))
    send(page, "try me")
    error = page.locator("article.msg.assistant").last.locator(".chat-error")
    expect(error).to_contain_text("The model's provider could not answer.")
    expect(error.locator(".code")).to_have_text("provider_error")
    view.shot("chat-retry")
    error.get_by_role("button", name="Retry").click()
    expect(page.locator("article.msg.assistant").last).to_contain_text("Recovered.")
    expect(page.locator("article.msg.assistant")).to_have_count(1)
    expect(page.locator("article.msg.user")).to_have_count(1)
    session = api.get("/v1/sessions", params={"q": "try me"}).json()["data"][0]
    stored = api.get("/v1/messages", params={"session_id": session["id"]}).json()["data"]
    assert [(m["role"], m["status"], m["content"]) for m in stored] == [("user", "complete", "try me"),
                                                                     ("assistant", "complete", "Recovered.")]
    expect(page.locator(".session-row .list-item[aria-current='true']")).to_contain_text("2 messages")


def test_a_long_one_chunk_reply_is_scrolled_into_view_and_keys_work(view, fake):
    page = view.page
    box = page.get_by_label("Message")
    box.fill("first line")
    box.press("Shift+Enter")
    box.type("second line")
    assert box.input_value() == "first line\nsecond line"  # Shift+Enter added a line, sent nothing
    fake.enqueue(Reply.text("\n\n".join(f"Paragraph {i} of a long answer." for i in range(120)) + "\n\nTHE END.",
                            chunks=1))
    box.press("Enter")
    expect(page.get_by_text("THE END.")).to_be_in_viewport()
    view.shot("chat-long-reply")


def test_a_banner_says_when_the_server_is_unreachable_and_clears_when_it_is_back(view, chat_server):
    page = view.page
    banner = page.get_by_role("alert").filter(has_text="Qorven is not reachable")
    expect(banner).to_be_hidden()
    port, home = chat_server.port, chat_server.home
    chat_server.stop()
    expect(banner).to_be_visible()
    view.shot("chat-server-unreachable")
    page.get_by_role("link", name="Agents").click()  # every screen
    expect(banner).to_be_visible()
    back = Runtime(load_config({**TEST_LIMITS, "home": str(home), "port": str(port)}, env={}))
    back.start()
    try:
        expect(banner).to_be_hidden(timeout=30_000)  # the socket's reconnect backoff, at most 15 s
    finally:
        back.stop()
