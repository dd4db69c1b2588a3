"""The Chat screen as a daily chat app: message actions, stopping, conversations and the model picker,
each driven by its accessible name (UI.md) in headless Chromium against the real server."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.fakes import Reply
from tests.support.upstream import UPSTREAM_KEY
from tests.support.wait import wait_until


@pytest.fixture
def page(chat_ui, fake):
    """The shared Chat page, on a new conversation, with the fake's script emptied."""
    page = chat_ui.page
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".welcome")).to_be_visible()
    yield page
    chat_ui.assert_clean()


def send(page, text):
    """Send ``text`` and wait for its answer to end (Send is back once the message is on screen)."""
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")
    expect(page.locator("article.msg.user").last).to_contain_text(text)
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def current_session(api, page):
    title = page.locator(".session-row .list-item[aria-current='true'] .title").inner_text()
    return next(s for s in api.get("/v1/sessions", params={"limit": 200}).json()["data"] if s["title"] == title)


def stored(api, session):
    return api.get("/v1/messages", params={"session_id": session["id"]}).json()["data"]


def actions_of(block):
    block.hover()
    return block.locator(".msg-actions")


def test_message_actions_copy_regenerate_edit_remember_and_delete(chat_ui, page, api, fake):
    send(page, "Which river runs through Lyon?")
    answer = page.locator("article.msg.assistant").last
    expect(answer).to_contain_text("Which river runs through Lyon?")  # the fake echoes
    session = current_session(api, page)

    # Copy: by keyboard (focus shows the actions; Enter presses the button)
    copy = answer.get_by_role("button", name="Copy message")
    copy.focus()
    wait_until(lambda: answer.locator(".msg-actions").evaluate("el => getComputedStyle(el).opacity") == "1",
               message="the actions did not show on keyboard focus")
    page.keyboard.press("Enter")
    assert page.evaluate("navigator.clipboard.readText()") == "Which river runs through Lyon?"

    # Regenerate: the last answer is replaced by a new run for the same message
    fake.enqueue(Reply.text("The Rhône and the Saône.", chunks=3))
    actions_of(answer).get_by_role("button", name="Regenerate").click()
    expect(page.locator("article.msg.assistant")).to_have_count(1)
    expect(page.locator("article.msg.assistant").last).to_contain_text("The Rhône and the Saône.")
    wait_until(lambda: [m["content"] for m in stored(api, session)] ==
               ["Which river runs through Lyon?", "The Rhône and the Saône."], timeout=10)

    # Edit and resend: the user message changes, what followed is answered again
    question = page.locator("article.msg.user").last
    actions_of(question).get_by_role("button", name="Edit message").click()
    page.get_by_label("Edited text").fill("Which river runs through Paris?")
    page.get_by_role("button", name="Save and send").click()
    expect(page.locator("article.msg.assistant").last).to_contain_text("Which river runs through Paris?")
    expect(page.locator("article.msg.user")).to_have_count(1)
    wait_until(lambda: [m["content"] for m in stored(api, session)] ==
               ["Which river runs through Paris?", "Which river runs through Paris?"], timeout=10)
    chat_ui.shot("chat-message-actions")

    # Remember this: the answer becomes a memory of the agent
    answer = page.locator("article.msg.assistant").last
    expect(answer.get_by_role("button", name="Regenerate")).to_have_count(1)
    actions_of(answer).get_by_role("button", name="Remember this").click()
    expect(page.locator(".toast").last).to_contain_text("will remember this")
    memories = api.get("/v1/memory", params={"agent_id": session["agent_id"], "limit": 200}).json()["data"]
    assert any(m["content"] == "Which river runs through Paris?" for m in memories)

    # Delete: the answer goes (after the confirmation), the question stays
    actions_of(answer).get_by_role("button", name="Delete message").click()
    expect(page.locator("article.msg.assistant")).to_have_count(0)
    assert [m["role"] for m in stored(api, session)] == ["user"]
    assert any(d.startswith("confirm") for d in chat_ui.dialogs)


def test_stop_keeps_what_was_shown_and_reads_stopped_when_reopened(chat_ui, page, api, fake):
    fake.enqueue(Reply.text(" ".join(f"w{i}" for i in range(300)), chunks=300, delay=0.04))
    page.get_by_label("Message").fill("Count for me")
    page.get_by_label("Message").press("Enter")
    reply = page.locator("article.msg.assistant").last
    expect(reply.locator(".msg-body")).to_contain_text("w5")
    # What the reader sees at the instant of pressing Stop (read in the same task as the press).
    seen = page.evaluate("""() => {
      const body = [...document.querySelectorAll('article.msg.assistant')].pop().querySelector('.msg-body');
      [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Stop').click();
      return body.textContent; }""")
    expect(reply).to_contain_text("Stopped.")
    session = current_session(api, page)
    answer = wait_until(lambda: next((m for m in stored(api, session) if m["role"] == "assistant"
                                      and (m["content"] or "").split() == seen.split()), None), timeout=10,
                        message="the stored answer is not what was on screen at Stop")
    assert answer["status"] == "stopped" and "w299" not in answer["content"]
    shown = page.locator("article.msg.assistant").last.locator(".msg-body")
    expect(shown).to_have_text(answer["content"])  # the screen and the stored answer say the same
    chat_ui.shot("chat-stopped-kept")

    page.get_by_role("button", name="New chat").click()
    page.locator(".session-row .list-item", has_text="Count for me").click()
    reopened = page.locator("article.msg.assistant").last
    expect(reopened).to_contain_text("Stopped.")
    expect(reopened.locator(".msg-body")).to_have_text(answer["content"])
    expect(reopened.locator(".error-box")).to_have_count(0)


def test_conversations_list_every_agent_search_rename_export_and_delete(chat_ui, page, api, fake):
    writer = api.post("/v1/sessions", json={"agent_id": "writer", "peer": "t-writer", "title": "Poem draft"}).json()
    api.post("/v1/chat/completions", json={"agent_id": "writer", "session_id": writer["id"],
                                           "message": "a sonnet about the lighthouse keeper"})
    old = api.post("/v1/sessions", json={"agent_id": "prime", "peer": "t-cli", "title": "Before /new"}).json()
    api.delete(f"/v1/sessions/{old['id']}")  # what the CLI's /new does to the previous conversation
    page.reload()
    rows = page.locator(".session-row")

    scope = page.get_by_label("Show conversations of")
    expect(scope).to_have_value("all")
    expect(rows.filter(has_text="Poem draft")).to_contain_text("Writer")
    expect(rows.filter(has_text="Before /new")).to_contain_text("archived")  # still listed
    expect(page.locator(".sessions li.group").first).to_have_text("Today")
    scope.select_option(label="This agent only")
    expect(rows.filter(has_text="Before /new")).to_have_count(1)
    expect(rows.filter(has_text="Poem draft")).to_have_count(0)
    scope.select_option(label="All agents")

    search = page.get_by_label("Search sessions")
    search.fill("lighthouse")  # in the message text only, not the title
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Poem draft")
    chat_ui.shot("chat-search")

    row = rows.first
    row.hover()
    row.get_by_role("button", name="Rename conversation").click()
    page.get_by_label("Conversation title").fill("Lighthouse sonnet")
    page.get_by_label("Conversation title").press("Enter")
    expect(rows.first).to_contain_text("Lighthouse sonnet")
    assert api.get(f"/v1/sessions/{writer['id']}").json()["title"] == "Lighthouse sonnet"

    for fmt, suffix in (("Markdown", ".md"), ("JSON", ".json")):
        rows.first.hover()
        rows.first.get_by_role("button", name="Export conversation").click()
        with page.expect_download() as info:
            page.get_by_role("button", name=fmt, exact=True).click()
        download = info.value
        assert download.suggested_filename.startswith("conversation-lighthouse-sonnet-")
        assert download.suggested_filename.endswith(suffix)
        text = open(download.path(), encoding="utf-8").read()
        if suffix == ".md":
            assert text.startswith("# Lighthouse sonnet") and "lighthouse keeper" in text
        else:
            assert json.loads(text)["messages"][0]["content"] == "a sonnet about the lighthouse keeper"

    rows.first.hover()
    rows.first.get_by_role("button", name="Delete conversation").click()
    expect(rows).to_have_count(0)
    assert api.get(f"/v1/sessions/{writer['id']}").status_code == 404
    search.fill("")
    expect(rows.filter(has_text="Before /new")).to_have_count(1)


def test_model_picker_sets_this_conversations_model(chat_ui, page, api, fake):
    picker = page.get_by_label("Model")
    options = picker.locator("option").all_inner_texts()
    assert options[0] == "Agent default" and options[1:] == ["fake/fake-model", "fake/fake-model-large"]
    picker.select_option("fake/fake-model-large")  # before the conversation exists: saved once it does
    send(page, "Which model is this?")
    session = current_session(api, page)
    assert session["model"] == "fake/fake-model-large"
    assert fake.chat_requests()[-1].body["model"] == "fake-model-large"
    expect(page.locator("article.msg.assistant").last.locator(".msg-model")).to_have_text("fake/fake-model-large")
    chat_ui.shot("chat-model-picker")
    page.emulate_media(color_scheme="dark")
    chat_ui.shot("chat-model-picker-dark")
    page.emulate_media(color_scheme="light")

    picker.select_option("")
    wait_until(lambda: api.get(f"/v1/sessions/{session['id']}").json()["model"] is None, timeout=10)
    send(page, "And now?")
    assert fake.chat_requests()[-1].body["model"] == "fake-model"
    expect(page.locator("article.msg.assistant").last.locator(".msg-model")).to_have_text("fake/fake-model")
    page.reload()  # reopened, each answer still says which model wrote it
    expect(page.locator("article.msg.assistant .msg-model")).to_have_text(["fake/fake-model-large", "fake/fake-model"])


def test_regenerate_and_edit_on_a_turn_with_tool_calls_replace_the_whole_turn(chat_ui, page, api, fake):
    fake.enqueue(Reply.tool_calls([{"name": "calculator", "arguments": {"expression": "6*7"}}]),
                 Reply.text("It is **42**.", chunks=2))
    send(page, "What is 6*7?")
    expect(page.locator("details.tool .tstate")).to_contain_text("done")
    session = current_session(api, page)
    answer = page.locator("article.msg.assistant").last

    fake.enqueue(Reply.tool_calls([{"name": "calculator", "arguments": {"expression": "7*6"}}]),
                 Reply.text("Still **42**.", chunks=2))
    actions_of(answer).get_by_role("button", name="Regenerate").click()
    expect(page.locator("article.msg.assistant").last).to_contain_text("Still 42.")
    expect(page.locator("details.tool")).to_have_count(1)  # the old turn's card went with it
    page.locator("details.tool summary").click()
    expect(page.locator("details.tool pre").first).to_contain_text("7*6")
    wait_until(lambda: [(m["role"], m["content"]) for m in stored(api, session)] == [
        ("user", "What is 6*7?"), ("assistant", None), ("tool", '{"expression": "7*6", "result": 42}'),
        ("assistant", "Still **42**.")], timeout=10)

    fake.enqueue(Reply.tool_calls([{"name": "calculator", "arguments": {"expression": "5*5"}}]),
                 Reply.text("It is **25**.", chunks=2))
    question = page.locator("article.msg.user").last
    actions_of(question).get_by_role("button", name="Edit message").click()
    page.get_by_label("Edited text").fill("What is 5*5?")
    page.get_by_label("Edited text").press("Enter")
    expect(page.locator("article.msg.assistant").last).to_contain_text("It is 25.")
    expect(page.locator("details.tool")).to_have_count(1)
    wait_until(lambda: [(m["role"], m["content"]) for m in stored(api, session)] == [
        ("user", "What is 5*5?"), ("assistant", None), ("tool", '{"expression": "5*5", "result": 25}'),
        ("assistant", "It is **25**.")], timeout=10)


def test_keyboard_focus_after_edit_and_delete_and_a_question_left_unanswered_can_be_answered(chat_ui, page, api,
                                                                                            fake):
    send(page, "Name a colour")
    question = page.locator("article.msg.user").last
    edit = question.get_by_role("button", name="Edit message")
    edit.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Edited text")).to_be_focused()
    page.keyboard.press("Escape")  # cancels the edit, and stops nothing
    expect(page.get_by_label("Edited text")).to_have_count(0)
    expect(edit).to_be_focused()
    expect(question.locator(".msg-body")).to_have_text("Name a colour")

    answer = page.locator("article.msg.assistant").last
    answer.get_by_role("button", name="Delete message").focus()
    page.keyboard.press("Enter")
    expect(page.locator("article.msg.assistant")).to_have_count(0)
    expect(page.get_by_label("Message")).to_be_focused()  # not lost on the page's body

    fake.enqueue(Reply.text("Teal.", chunks=1))
    actions_of(question).get_by_role("button", name="Regenerate").click()
    expect(page.locator("article.msg.assistant").last).to_contain_text("Teal.")
    session = current_session(api, page)
    wait_until(lambda: [m["content"] for m in stored(api, session)] == ["Name a colour", "Teal."], timeout=10)
    expect(question.get_by_role("button", name="Regenerate")).to_have_count(0)


def test_copy_code_copies_one_block(chat_ui, page, fake):
    fake.enqueue(Reply.text("Run this:\n\n```bash\npip install qorven\n```\n\nthen this:\n\n```python\nprint('hi')\n```"))
    send(page, "How do I install it?")
    answer = page.locator("article.msg.assistant").last
    answer.get_by_role("button", name="Copy code").nth(1).click()
    expect(answer.get_by_role("button", name="Copy code").nth(1)).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "print('hi')"


def test_a_conversation_whose_model_was_removed_says_so_and_offers_the_agent_default(chat_ui, page, api, fake):
    other = api.post("/v1/providers", json={"name": "spare", "kind": "openai_compatible", "base_url": fake.base_url})
    assert other.status_code == 201, other.text
    api.put(f"/v1/providers/{other.json()['id']}/keys", json={"key": UPSTREAM_KEY}).raise_for_status()
    offered = ["fake/fake-model", "fake/fake-model-large", "spare/fake-model-large"]
    api.put("/v1/models/selected", json={"models": offered}).raise_for_status()
    try:
        page.reload()
        picker = page.get_by_label("Model")
        # the screen has finished loading (agents, models, conversations) before the pick: under load a
        # pick made during the load was lost to it
        expect(page.locator(".session-row").first).to_be_visible()
        page.wait_for_load_state("networkidle")
        picker.select_option("spare/fake-model-large")
        send(page, "Which model now?")
        expect(page.locator(".session-row .list-item[aria-current='true'] .title")).to_have_text("Which model now?")
        session = current_session(api, page)
        assert session["model"] == "spare/fake-model-large"
        api.delete(f"/v1/providers/{other.json()['id']}").raise_for_status()

        page.reload()
        page.locator(".session-row .list-item", has_text="Which model now?").click()
        expect(picker.locator("option:checked")).to_have_text("spare/fake-model-large (not available)")
        send(page, "And now?")
        error = page.locator("article.msg.assistant").last.locator(".chat-error")
        expect(error).to_contain_text("This conversation's model, spare/fake-model-large, is not available any more.")
        expect(error.get_by_role("button", name="Set up a model")).to_have_count(0)
        chat_ui.shot("chat-model-removed")
        fake.enqueue(Reply.text("The default answers.", chunks=1))
        error.get_by_role("button", name="Use the agent default").click()
        expect(page.locator("article.msg.assistant").last).to_contain_text("The default answers.")
        expect(picker).to_have_value("")
        assert api.get(f"/v1/sessions/{session['id']}").json()["model"] is None
        assert fake.chat_requests()[-1].body["model"] == "fake-model"
    finally:
        api.put("/v1/models/selected", json={"models": offered[:2]})


def test_renaming_and_deleting_conversations_by_keyboard_keeps_focus_in_the_list(chat_ui, page, api):
    for title in ("Kbd first", "Kbd second"):
        api.post("/v1/sessions", json={"agent_id": "prime", "peer": f"t-{title}", "title": title}).raise_for_status()
    page.reload()
    rows = page.locator(".session-row")
    second = rows.filter(has_text="Kbd second")
    second.get_by_role("button", name="Rename conversation").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Conversation title").fill("Kbd renamed")
    page.keyboard.press("Enter")
    renamed = rows.filter(has_text="Kbd renamed")
    expect(renamed.locator(".list-item")).to_be_focused()

    renamed.get_by_role("button", name="Rename conversation").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # cancels: the title stays, focus comes back to the row
    expect(renamed.locator(".list-item")).to_be_focused()
    expect(renamed).to_contain_text("Kbd renamed")

    neighbours = [li.get_attribute("data-id") for li in rows.all()]
    at = neighbours.index(renamed.get_attribute("data-id"))
    renamed.get_by_role("button", name="Delete conversation").focus()
    page.keyboard.press("Enter")
    expect(rows.filter(has_text="Kbd renamed")).to_have_count(0)
    following = neighbours[at + 1] if at + 1 < len(neighbours) else neighbours[at - 1]
    expect(page.locator(f".session-row[data-id='{following}'] .list-item")).to_be_focused()


def test_stop_before_the_model_says_anything_ends_the_run_and_reads_stopped_when_reopened(chat_ui, page, api, fake):
    fake.enqueue(Reply.hang())  # a model slow to start: no byte of its answer yet
    page.get_by_label("Message").fill("Think it over")
    page.get_by_label("Message").press("Enter")
    wait_until(lambda: fake.chat_requests(), timeout=10, message="the run never asked the model")
    page.get_by_role("button", name="Stop").click()
    session = current_session(api, page)
    # The server learns of the Stop at once (not at the next write that fails) and ends the run.
    answer = wait_until(lambda: next((m for m in stored(api, session) if m["role"] == "assistant"
                                      and m["status"] != "streaming"), None), timeout=3,
                        message="the run went on waiting for the model after Stop")
    assert answer["status"] == "stopped" and not answer["content"]

    page.get_by_role("button", name="New chat").click()
    page.locator(".session-row .list-item", has_text="Think it over").click()
    expect(page.locator("article.msg.assistant").last).to_contain_text("Stopped.")
    expect(page.locator("article.msg.assistant .error-box")).to_have_count(0)


def test_new_chat_pressed_while_the_agents_still_load_breaks_nothing(chat_ui):
    page = chat_ui.page
    held = []
    agents = re.compile(r"/api/agents(\?.*)?$")
    page.route(agents, lambda route: held.append(route))  # the agents' answer waits until the click is done
    try:
        page.reload()
        wait_until(lambda: held or page.wait_for_timeout(50), timeout=10, message="the screen never asked for its agents")
        page.get_by_role("button", name="New chat").click()
        held[0].continue_()
    finally:
        page.unroute(agents)
    expect(page.get_by_label("Message")).to_be_enabled()
    expect(page.locator(".welcome")).to_be_visible()
    chat_ui.assert_clean()  # no page error
