"""The browser side of documents: "Upload document" on the Memory screen (list, passages, delete) and
"Attach file" in the chat composer (a document of that conversation, recalled and cited in it).

Here rather than in tests/documents/ because it shares this folder's one Chromium session: a second
``browser`` fixture elsewhere would start a second sync Playwright in the same thread."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.documents.samples import make_pdf
from tests.fakes import Reply
from tests.ui.conftest import UI


def test_upload_document_lists_it_with_its_passages_and_deletes_it(ui: UI, server, configured):
    api = configured
    pdf = make_pdf([["Harbour handbook", "General notes about the harbour office."],
                    ["Moorings", "Visiting yachts moor at pontoon C beside the fuel dock."]])
    ui.open(server.admin_token, "memory")
    page = ui.page
    panel = page.get_by_role("region", name="Documents")
    expect(panel.get_by_text("No documents yet")).to_be_visible()
    panel.get_by_label("Upload document").set_input_files(
        {"name": "harbour.pdf", "mimeType": "application/pdf", "buffer": pdf})
    item = panel.get_by_role("listitem", name="harbour.pdf")
    expect(item).to_contain_text("ready · ")
    expect(item).to_contain_text("PDF")
    expect(item).to_contain_text("2 pages")
    stored = api.get("/v1/documents").json()["data"]
    assert [d["title"] for d in stored] == ["harbour.pdf"] and stored[0]["status"] == "ready"

    item.get_by_role("button", name="Passages").click()
    passages = item.get_by_role("list", name="Passages of harbour.pdf")
    expect(passages).to_contain_text("pontoon C")
    expect(passages.get_by_text("p. 2", exact=True)).to_be_visible()
    ui.shot("documents-upload")
    page.set_viewport_size({"width": 640, "height": 480})
    item.scroll_into_view_if_needed()
    # the panel fits its column at 640 px (the Memory screen's own columns are its layout's business)
    assert page.evaluate("""() => { const pane = document.querySelector('.pane-detail').getBoundingClientRect();
        return [...document.querySelectorAll('.docs-panel *')].every((e) => e.getBoundingClientRect().right <= pane.right + 1); }""")
    ui.shot("documents-upload-640")

    item.get_by_role("button", name="Delete document").click()
    expect(panel.get_by_text("No documents yet")).to_be_visible()
    assert api.get("/v1/documents").json()["data"] == []
    found = api.post("/v1/memory/search", json={"scope": "workspace", "query": "where do yachts moor"}).json()
    assert not [m for m in found["data"] if m.get("document")]
    ui.assert_clean()


def test_attach_file_makes_a_document_of_the_conversation_that_is_recalled_and_cited(ui: UI, server,
                                                                                    configured, fake):
    prime = next(a for a in configured.get("/v1/agents").json()["data"] if a["name"] == "prime")
    configured.patch(f"/v1/agents/{prime['id']}", json={"memory": {"auto_save": False}}).raise_for_status()
    notes = b"# Trip notes\n\n## Ferry\n\nThe night ferry to Skye leaves from berth nine at 23:40.\n"
    ui.open(server.admin_token)
    page = ui.page
    expect(page.get_by_label("Message")).to_be_enabled()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach file").click()
    chooser.value.set_files({"name": "trip.md", "mimeType": "text/markdown", "buffer": notes})
    tray = page.get_by_role("group", name="Attached files")
    expect(tray).to_contain_text("trip.md")
    docs = configured.get("/v1/documents", params={"scope": "session"}).json()["data"]
    assert len(docs) == 1 and docs[0]["session_id"] and docs[0]["status"] == "ready"
    session_id = docs[0]["session_id"]

    fake.enqueue(Reply.text("It leaves from berth nine (trip.md, Trip notes › Ferry).", chunks=2))
    page.get_by_label("Message").fill("Which berth does the night ferry to Skye leave from?")
    page.get_by_label("Message").press("Enter")
    reply = page.locator("article.msg.assistant").last
    expect(reply).to_contain_text("berth nine")
    chip = reply.get_by_role("group", name="Recalled memories").locator(".chip").first
    expect(chip.locator(".cite")).to_have_text("trip.md, Trip notes › Ferry")
    system = fake.last_request.body["messages"][0]["content"]
    assert '[from "trip.md", Trip notes › Ferry] ' in system
    sessions = configured.get(f"/v1/sessions/{session_id}")
    assert sessions.status_code == 200
    ui.shot("chat-attached-file")

    # another conversation does not carry this one's file
    page.get_by_role("button", name="New chat").click()
    expect(page.get_by_role("group", name="Attached files")).to_be_hidden()
    ui.assert_clean()
