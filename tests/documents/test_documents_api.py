"""/v1/documents over real HTTP: each type round-trips through memory search with its citation, dedupe,
the refusals with nothing stored, background ingestion with progress on /ws, and recall citing a source."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from qorven_local.documents.chunking import MAX_CHARS
from tests.chat.conftest import configure
from tests.documents.samples import PNG_BYTES, blank_pdf, encrypted_pdf, make_docx, make_pdf
from tests.fakes import FakeProvider, Reply
from tests.support.servers import InProcessServer
from tests.support.upstream import UPSTREAM_KEY

MAX_UPLOAD = 200_000        # small, so a 413 costs little
BACKGROUND = 40_000         # files this large go to the worker (202 + progress)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    settings = {"max_upload_bytes": MAX_UPLOAD, "document_background_bytes": BACKGROUND}
    with InProcessServer(tmp_path_factory.mktemp("documents-api"), settings=settings) as server:
        yield server


@pytest.fixture(scope="module")
def api(srv):
    with srv.client() as client:
        yield client


def upload(api: httpx.Client, name: str, data: bytes, **fields: str) -> httpx.Response:
    return api.post("/v1/documents", files={"file": (name, data)}, data=fields)


def search(api: httpx.Client, query: str, **body) -> list[dict]:
    r = api.post("/v1/memory/search", json={"scope": "workspace", "query": query, "max_results": 5, **body})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def counts(srv: InProcessServer) -> tuple[int, int]:
    """(documents, memories) stored, across the whole database."""
    db = srv.ctx.db
    return db.scalar("SELECT count(*) FROM documents"), db.scalar("SELECT count(*) FROM memories")


FILLER = ("The committee met on a Tuesday and reviewed the quarterly figures. Nothing unusual was reported about "
          "the budget, the staffing plan or the office move. ")

TYPES = {
    "text": ("notes.txt", (FILLER * 3 + "\n\nThe lighthouse keeper feeds the cat named Bartholomew sardines.\n").encode(),
             "text/plain", "what does the lighthouse keeper feed Bartholomew", "lines "),
    "markdown": ("guide.md", ("# Garden guide\n\n" + FILLER + "\n\n## Tomatoes\n\nWater the heirloom tomatoes with "
                              "rainwater from the copper cistern every dawn.\n").encode(),
                 "text/markdown", "how are heirloom tomatoes watered", "Garden guide › Tomatoes"),
    "html": ("page.html", ("<!doctype html><html><head><title>Observatory</title><style>.x{color:red}</style>"
                           "<script>var hidden = 'scriptonlyzebra';</script></head><body><h1>Observatory</h1>"
                           f"<p>{FILLER}</p><h2>Telescope</h2><p>The refractor telescope is polished with walnut "
                           "oil each solstice.</p></body></html>").encode(),
             "text/html", "what is the telescope polished with", "Observatory › Telescope"),
    "pdf": ("report.pdf", make_pdf([[FILLER[:90], FILLER[90:]], ["Appendix", "The glacier survey counted 41 "
                                    "crevasses near the northern moraine."]]),
            "application/pdf", "how many crevasses did the glacier survey count", "p. 2"),
    "docx": ("handbook.docx", make_docx([("h1", "Handbook"), ("p", FILLER), ("h2", "Parking"),
                                         ("p", "Bicycles are parked beside the greenhouse under the blue awning.")]),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "where are bicycles parked", "Handbook › Parking"),
    "code": ("retry.py", ("import time\n\n\ndef backoff(attempt):\n    \"\"\"Exponential backoff capped at ninety "
                          "seconds for the pelican uploader.\"\"\"\n    return min(90, 2 ** attempt)\n").encode(),
             "text/x-source", "pelican uploader backoff cap", "lines 1-"),
}


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_each_type_round_trips_through_search_with_its_citation(api, srv, kind):
    name, data, media_type, question, locator = TYPES[kind]
    r = upload(api, name, data)
    assert r.status_code == 201, r.text
    document = r.json()
    assert document["object"] == "document" and document["id"].startswith("doc_") and document["status"] == "ready"
    assert document["media_type"] == media_type and document["bytes"] == len(data) and document["chunks"] >= 1
    assert document["deduplicated"] is False and document["scope"] == "workspace" and document["error"] is None
    if kind == "pdf":
        assert document["pages"] == 2
    assert srv.ctx.documents.get("default", document["id"]).to_dict() == api.get(
        f"/v1/documents/{document['id']}").json()

    hits = search(api, question)
    mine = [h for h in hits if h.get("document", {}).get("id") == document["id"]]
    assert mine and hits[0]["id"] == mine[0]["id"], [h["content"][:60] for h in hits]
    citation = hits[0]["document"]
    assert citation["title"] == document["title"] and citation["locator"].startswith(locator)
    assert hits[0]["kind"] == "note" and hits[0]["source"] == "import"
    assert api.get(f"/v1/memory/{hits[0]['id']}").json()["document"] == citation

    chunks = api.get(f"/v1/documents/{document['id']}/chunks").json()["data"]
    assert len(chunks) == document["chunks"] and hits[0]["id"] in {c["id"] for c in chunks}
    if kind == "html":
        assert document["title"] == "Observatory"
        assert not any("scriptonlyzebra" in c["content"] or "color:red" in c["content"] for c in chunks)

    gone = api.delete(f"/v1/documents/{document['id']}")
    assert gone.status_code == 200 and gone.json() == {"id": document["id"], "object": "document", "deleted": True,
                                                         "chunks": document["chunks"]}
    assert not [h for h in search(api, question) if h.get("document", {}).get("id") == document["id"]]
    assert api.get(f"/v1/memory/{hits[0]['id']}").status_code == 404
    assert api.get(f"/v1/documents/{document['id']}").status_code == 404
    assert api.get(f"/v1/documents/{document['id']}/chunks").status_code == 404
    assert srv.ctx.memory.counts()["memories"] == srv.ctx.memory.counts()["fts"]


def test_json_upload_reads_content_by_its_filename(api):
    r = api.post("/v1/documents", json={"title": "Recipes", "filename": "recipes.md",
                                        "content": "# Soup\n\nThe saffron soup needs eleven threads of saffron."})
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Recipes" and r.json()["media_type"] == "text/markdown"
    hit = search(api, "how many saffron threads in the soup")[0]
    assert hit["document"] == {"id": r.json()["id"], "title": "Recipes", "locator": "Soup"}
    api.delete(f"/v1/documents/{r.json()['id']}").raise_for_status()


def test_the_same_bytes_twice_in_a_scope_are_deduplicated(api, srv):
    agent = api.get("/v1/agents").json()["data"][0]["id"]
    data = b"The orchard has exactly seventeen quince trees planted in two rows."
    first = upload(api, "orchard.txt", data)
    assert first.status_code == 201
    before = counts(srv)
    again = upload(api, "orchard-copy.txt", data)
    assert again.status_code == 200 and again.json()["deduplicated"] is True
    assert again.json()["id"] == first.json()["id"] and counts(srv) == before
    elsewhere = upload(api, "orchard.txt", data, scope="agent", agent_id=agent)
    assert elsewhere.status_code == 201 and elsewhere.json()["id"] != first.json()["id"]
    assert elsewhere.json()["agent_id"] == agent and elsewhere.json()["scope"] == "agent"
    listed = api.get("/v1/documents", params={"scope": "agent", "agent_id": agent}).json()["data"]
    assert [d["id"] for d in listed] == [elsewhere.json()["id"]]
    for doc in (first.json(), elsewhere.json()):
        api.delete(f"/v1/documents/{doc['id']}").raise_for_status()


@pytest.mark.parametrize("name, data, status, code, words", [
    ("huge.txt", b"a" * (MAX_UPLOAD + 1), 413, "payload_too_large", "larger than"),
    ("photo.png", PNG_BYTES, 415, "unsupported_media_type", "PNG image"),
    ("blob.bin", bytes(range(256)) * 8, 415, "unsupported_media_type", "binary"),
    ("archive.zip", b"PK\x03\x04" + b"\x00" * 200, 415, "unsupported_media_type", "ZIP"),
    ("locked.pdf", None, 422, "unreadable_document", "encrypted"),
    ("scan.pdf", None, 422, "unreadable_document", "no text"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage without xref", 422, "unreadable_document",
     "damaged"),
    ("broken.docx", b"not a word file at all", 422, "unreadable_document", "not a Word document"),
    ("empty.md", b"   \n\n  ", 422, "unreadable_document", "no text"),
])
def test_bad_input_gets_a_clear_error_and_stores_nothing(api, srv, name, data, status, code, words):
    if data is None:
        data = encrypted_pdf() if name == "locked.pdf" else blank_pdf()
    before = counts(srv)
    r = upload(api, name, data)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and words in error["message"], error
    assert counts(srv) == before


def test_a_body_over_the_upload_cap_is_refused_at_the_gate_and_other_routes_keep_theirs(api, srv):
    before = counts(srv)
    r = upload(api, "big.txt", b"b" * (MAX_UPLOAD + 80_000))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    # the larger cap is for uploads only: a 1.5 MiB JSON body elsewhere is still refused
    big_json = api.post("/v1/memory/search", content=b'{"query": "' + b"x" * 1_500_000 + b'"}',
                        headers={"Content-Type": "application/json"})
    assert big_json.status_code == 413
    assert counts(srv) == before


def test_an_unknown_scope_or_agent_is_refused(api, srv):
    before = counts(srv)
    r = upload(api, "a.txt", b"hello there", scope="galaxy")
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"
    r = upload(api, "a.txt", b"hello there", scope="agent", agent_id="agt_nope")
    assert r.status_code == 404
    r = upload(api, "a.txt", b"hello there", scope="session")
    assert r.status_code == 400 and r.json()["error"]["param"] == "session_id"
    assert counts(srv) == before


def test_a_large_file_is_read_in_the_background_with_progress_on_ws(api, srv):
    # a web page is mostly markup: 40 short paragraphs (about 40 passages, two embedding batches) in a
    # page whose scripts make it large enough for the background
    paragraphs = "".join(f"<p>Section {i}. {FILLER * 2}Marker fact {i}: the beacon number {i} is painted "
                         f"{'amber' if i == 33 else 'grey'}.</p>" for i in range(40))
    script = "<script>" + "var tracking = 'scriptonlyzebra';\n" * 900 + "</script>"
    data = f"<!doctype html><html><head><title>Beacons</title>{script}</head><body>{paragraphs}</body></html>".encode()
    with connect(f"ws://127.0.0.1:{srv.port}/ws",
                 additional_headers={"Authorization": f"Bearer {srv.admin_token}"}) as ws:
        ws.send(json.dumps({"type": "subscribe", "topics": ["activity"]}))
        assert json.loads(ws.recv(10))["type"] == "subscribed"
        r = upload(api, "beacons.html", data)
        assert r.status_code == 202, r.text
        document = r.json()
        assert document["status"] == "processing" and document["chunks"] == 0
        progress = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            event = json.loads(ws.recv(max(0.1, deadline - time.monotonic())))
            if event.get("event") == "document.progress" and event["data"]["id"] == document["id"]:
                progress.append(event["data"])
                if event["data"]["status"] != "processing":
                    break
    assert progress[-1]["status"] == "ready", progress
    total = progress[-1]["total"]
    assert total > 32 and progress[-1]["done"] == total  # more than one batch of 32
    dones = [p["done"] for p in progress]
    assert dones == sorted(dones) and len(set(dones)) >= 3
    stored = api.get(f"/v1/documents/{document['id']}").json()
    assert stored["status"] == "ready" and stored["chunks"] == total
    hit = search(api, "which beacon is painted amber")[0]
    assert "amber" in hit["content"] and hit["document"]["id"] == document["id"]
    assert hit["document"]["title"] == "Beacons"
    assert not [h for h in search(api, "scriptonlyzebra tracking") if "scriptonlyzebra" in h["content"]]
    api.delete(f"/v1/documents/{document['id']}").raise_for_status()


def test_a_failed_background_read_ends_failed_with_the_reason_and_no_passages(api, srv):
    data = b"%PDF-1.4\n" + b"% padding that is not a PDF body\n" * 1300
    assert len(data) >= BACKGROUND
    before = counts(srv)
    events = srv.ctx.hub.subscribe("default", topics=["activity"])
    try:
        r = upload(api, "big-broken.pdf", data)
        assert r.status_code == 202
        doc_id = r.json()["id"]
        from tests.support.wait import wait_until
        stored = wait_until(lambda: (d := api.get(f"/v1/documents/{doc_id}").json())["status"] != "processing" and d,
                            timeout=20)
        assert stored["status"] == "failed" and "damaged" in stored["error"] and stored["chunks"] == 0
        told = [e["data"] for e in events.drain() if e["event"] == "document.progress"]
        assert told and told[-1]["status"] == "failed" and "damaged" in told[-1]["error"]
    finally:
        events.close()
    assert counts(srv)[1] == before[1]
    # a failed document does not block trying the same bytes again
    assert upload(api, "big-broken.pdf", data).status_code == 202
    wait_until(lambda: api.get("/v1/documents", params={"status": "processing"}).json()["data"] == [], timeout=20)
    for doc in api.get("/v1/documents").json()["data"]:
        api.delete(f"/v1/documents/{doc['id']}").raise_for_status()


def test_chunks_are_paged_in_document_order(api):
    text = "\n\n".join(f"Paragraph {i}: " + FILLER * 3 for i in range(8))
    doc = api.post("/v1/documents", json={"title": "Long", "content": text}).json()
    assert doc["chunks"] >= 4
    seen, cursor = [], None
    for _ in range(20):
        page = api.get(f"/v1/documents/{doc['id']}/chunks",
                       params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert [c["index"] for c in seen] == list(range(doc["chunks"]))
    assert all(len(c["content"]) <= MAX_CHARS for c in seen)
    # neighbouring passages overlap, so a fact across a cut is whole in one of them
    assert seen[1]["content"].split("\n\n")[0] in seen[0]["content"]
    api.delete(f"/v1/documents/{doc['id']}").raise_for_status()


def test_recalled_passages_reach_the_model_labelled_with_their_source(srv, api):
    with FakeProvider(api_key=UPSTREAM_KEY) as fake:
        configure(api, fake)
        doc = upload(api, "fleet.pdf", make_pdf([["Cover page"], ["Fleet notes", "The ferry Persephone carries "
                                                  "ninety bicycles on its lower deck."]]), title="Fleet manual")
        assert doc.status_code == 201
        prime = next(a for a in api.get("/v1/agents").json()["data"] if a["name"] == "prime")
        api.patch(f"/v1/agents/{prime['id']}", json={"memory": {"auto_save": False}}).raise_for_status()
        fake.enqueue(Reply.text('It carries ninety bicycles ("Fleet manual", p. 2).'))
        r = api.post("/v1/chat/completions", json={"agent_id": "prime", "stream": False,
                                                   "message": "How many bicycles does the ferry Persephone carry?"})
        assert r.status_code == 200, r.text
        system = fake.last_request.body["messages"][0]["content"]
        assert '[from "Fleet manual", p. 2] ' in system and "ninety bicycles" in system
        assert "cite it by that title and place" in system
        api.delete(f"/v1/documents/{doc.json()['id']}").raise_for_status()


def test_deleting_one_passage_memory_lowers_the_document_count(api):
    text = "\n\n".join(f"Section {i}: " + FILLER * 3 for i in range(6))
    doc = api.post("/v1/documents", json={"title": "Counted", "content": text}).json()
    first = api.get(f"/v1/documents/{doc['id']}/chunks", params={"limit": 1}).json()["data"][0]
    assert api.delete(f"/v1/memory/{first['id']}").status_code in (200, 204)
    after = api.get(f"/v1/documents/{doc['id']}").json()
    listed = api.get(f"/v1/documents/{doc['id']}/chunks", params={"limit": 100}).json()["data"]
    assert after["chunks"] == doc["chunks"] - 1 == len(listed)
    assert first["id"] not in [c["id"] for c in listed]
    api.delete(f"/v1/documents/{doc['id']}").raise_for_status()
