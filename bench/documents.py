"""Documents benchmark: ingest a generated 300-page PDF through the API, then recall@5 on 50 questions.

    python bench/documents.py [--pages 300] [--questions 50] [--seed 7]

What it does (prints the figures and writes bench/results/documents.json):

1. Writes a PDF of ``--pages`` pages (``tests/documents/samples.make_pdf``: a real text layer, one
   Helvetica line per line of text, about 2,400 characters a page): each page is a few paragraphs of
   plausible field-report prose built from shared vocabulary, plus three facts, each a sentence that
   names a site, an instrument, an inspector and a reading. A site's name is a pair of words, each word
   shared by 30 sites, and instruments and inspectors recur on many pages, so no single word gives a
   fact away: the site's two words and the instrument together do, as in a real question.
2. Starts the whole server (``InProcessServer``: real waitress, real SQLite, the bundled embedder) and
   uploads the file with ``POST /v1/documents`` (multipart). The PDF is over the background threshold,
   so the answer is 202 and the document is read and embedded on the worker; the clock stops when
   ``GET /v1/documents/{id}`` says ``ready``. pages/s = pages / that time. The time pypdf alone takes
   to extract the text is measured separately, in-process, for the breakdown.
3. Asks ``--questions`` questions, each about one fact of a distinct page, worded differently from the
   fact ("Which inspector checked the barometer at the Kestrel Ridge station, and what did it read?"),
   through ``POST /v1/memory/search`` (workspace scope, max_results 5). A question is answered when
   one of the five hits holds the fact's sentence and cites the right page (``document.locator``).
   recall@5 = answered / asked (target >= 0.9).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qorven_local  # noqa: E402,F401  (pins BLAS threads as the app does, before numpy)

from tests.documents.samples import make_pdf  # noqa: E402
from tests.support.servers import InProcessServer  # noqa: E402

# A site is a pair of words (30 x 30 = 900 names, one per fact): every word is shared by 30 sites, so only the
# pair (and the instrument) identifies a fact, as a real question names a place and a thing.
SITE_FIRST = ["Kestrel", "Marrow", "Huxley", "Tarn", "Oriel", "Sable", "Wren", "Cobalt", "Fennick", "Larch", "Quarry",
              "Juniper", "Ashcombe", "Brindle", "Corrie", "Dunmore", "Elder", "Glenvale", "Heron", "Ivel", "Kelby",
              "Lowther", "Mossop", "Netherby", "Ormsby", "Pennant", "Rudd", "Stainton", "Thursby", "Ullock"]
SITE_SECOND = ["Ridge", "Bay", "Fen", "Hollow", "Point", "Downs", "Crossing", "Narrows", "Moor", "Valley", "Gate",
               "Shoal", "Weir", "Heath", "Lodge", "Spit", "Carr", "Dam", "Flats", "Bridge", "Cove", "Knoll", "Scar",
               "Tor", "Wold", "Beck", "Holme", "Combe", "Sound", "Haven"]
INSTRUMENTS = [("barometer", "hectopascals"), ("rain gauge", "millimetres"), ("anemometer", "knots"),
               ("hygrometer", "percent humidity"), ("thermometer", "degrees Celsius"),
               ("seismometer", "micrometres of ground motion"), ("tide gauge", "centimetres above datum"),
               ("pyranometer", "watts per square metre"), ("snow pillow", "millimetres of water"),
               ("flow meter", "litres per second")]
INSPECTORS = ["Amara Okonkwo", "Bjorn Lindqvist", "Chiara Benedetti", "Dmitri Volkov", "Esme Hartley",
              "Farid Haddad", "Greta Sorensen", "Hiro Tanaka", "Ines Carvalho", "Jonas Weber", "Kalani Akana",
              "Leila Farahani", "Mateo Alvarez", "Niamh O'Brien", "Oskar Nowak", "Priyanka Rao"]
FILLER = [
    "The survey team arrived after a long drive along the coast road and unloaded the equipment at the hut.",
    "Weather during the visit was mixed, with bright spells in the morning and showers by mid afternoon.",
    "Access to the station was possible on foot only, as the track had been washed out by the winter storms.",
    "Routine maintenance covered the solar panel, the battery enclosure and the data logger connections.",
    "Several fence posts near the enclosure were found loose and were replaced with treated timber.",
    "The logbook kept in the hut was signed and the previous entries were photographed for the archive.",
    "Local volunteers reported no unusual events since the last visit apart from a brief power outage.",
    "Vegetation around the mast was cut back so that it would not shade the sensors in the summer months.",
    "A spare set of cables was left in the storage box together with a printed copy of the wiring diagram.",
    "The radio link to the regional office was tested twice and the signal strength was judged acceptable.",
    "Bird droppings on the housing were cleaned off and the ventilation slots were checked for nests.",
    "Before leaving, the team confirmed that the clock of the logger agreed with the satellite time signal.",
    "Calibration certificates for the instruments were checked and none had passed its expiry date.",
    "The path to the lower enclosure was marked with new posts so that it can be found in poor visibility.",
    "Notes on the condition of the building were passed to the estates team for the next budget round.",
]
LINE_CHARS = 92  # characters a line of the generated page holds


def wrap(text: str) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > LINE_CHARS:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def build(pages: int, rng: random.Random) -> tuple[list[list[str]], list[dict]]:
    """The pages' lines, and every fact: {page, site, instrument, unit, inspector, value, sentence}."""
    sites = [f"{a} {b}" for a in SITE_FIRST for b in SITE_SECOND]
    rng.shuffle(sites)
    combos = [(site, rng.choice(INSTRUMENTS), rng.choice(INSPECTORS)) for site in sites]
    facts, page_lines = [], []
    for number in range(1, pages + 1):
        paragraphs = []
        for slot in range(3):
            site, (instrument, unit), inspector = combos.pop()
            value = rng.randint(11, 989)
            sentence = (f"At the {site} station the {instrument} was inspected by {inspector}, "
                        f"who recorded a reading of {value} {unit}.")
            facts.append({"page": number, "site": site, "instrument": instrument, "unit": unit,
                          "inspector": inspector, "value": value, "sentence": sentence})
            prose = rng.sample(FILLER, 4)
            prose.insert(rng.randint(0, 4), sentence)
            paragraphs.append(" ".join(prose))
        lines = [f"Field report {number}", ""]
        for paragraph in paragraphs:
            lines += wrap(paragraph) + [""]
        page_lines.append(lines)
    return page_lines, facts


QUESTIONS = [
    "Which inspector checked the {instrument} at the {site} station, and what did it read?",
    "What reading did the {instrument} at {site} give when it was last inspected?",
    "Who looked at the {site} {instrument} and how many {unit} were recorded?",
]


def chunking_max() -> int:
    from qorven_local.documents import chunking
    return chunking.MAX_CHARS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--passage-chars", type=int, default=0,
                        help="try another passage size (documents.chunking.MAX_CHARS) in this run")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "documents.json"))
    args = parser.parse_args()
    if args.pages * 3 > len(SITE_FIRST) * len(SITE_SECOND):
        parser.error(f"at most {len(SITE_FIRST) * len(SITE_SECOND) // 3} pages (one site name per fact)")
    if args.passage_chars:
        from qorven_local.documents import chunking
        chunking.MAX_CHARS = args.passage_chars
    rng = random.Random(args.seed)
    pages, facts = build(args.pages, rng)
    pdf = make_pdf(pages, title="Field station reports")
    print(f"PDF: {args.pages} pages, {len(pdf) / 1024:.0f} KiB, {len(facts)} facts")

    from pypdf import PdfReader
    started = time.perf_counter()
    extracted = sum(len(p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages)
    extract_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as home, \
            InProcessServer(Path(home), settings={"document_background_bytes": 1024}) as server, \
            server.client() as api:
        api.post("/v1/embeddings", json={"input": "warm up"}).raise_for_status()
        started = time.perf_counter()
        r = api.post("/v1/documents", files={"file": ("field-reports.pdf", pdf, "application/pdf")},
                     timeout=600)
        assert r.status_code == 202, r.text
        doc_id = r.json()["id"]
        document = r.json()
        deadline = time.monotonic() + 1800
        while document["status"] == "processing" and time.monotonic() < deadline:
            time.sleep(0.25)
            document = api.get(f"/v1/documents/{doc_id}").json()
        ingest_s = time.perf_counter() - started
        assert document["status"] == "ready", document
        print(f"ingested: {document['chunks']} passages in {ingest_s:.1f} s -> {args.pages / ingest_s:.1f} pages/s "
              f"({document['chunks'] / ingest_s:.1f} passages/s; pypdf text extraction alone {extract_s:.2f} s "
              f"for {extracted} characters)")

        # the embedder alone on the same passages, at the same moment: how much of the time is the model's
        sample = [c["content"] for c in api.get(f"/v1/documents/{doc_id}/chunks", params={"limit": 32}).json()["data"]]
        t0 = time.perf_counter()
        server.ctx.memory.embed(sample)
        embed_alone = len(sample) / (time.perf_counter() - t0)
        print(f"embedder alone on {len(sample)} of these passages: {embed_alone:.1f} passages/s")

        asked = rng.sample([f for f in facts], args.questions)
        answered, latencies, misses = 0, [], []
        for i, fact in enumerate(asked):
            question = QUESTIONS[i % len(QUESTIONS)].format(**fact)
            t0 = time.perf_counter()
            hits = api.post("/v1/memory/search", json={"scope": "workspace", "query": question,
                                                       "max_results": 5}).json()["data"]
            latencies.append((time.perf_counter() - t0) * 1000)
            # a PDF wraps lines, so the passage holds the sentence with line breaks where the page had them
            found = any(fact["sentence"] in " ".join(h["content"].split())
                        and (h.get("document") or {}).get("locator") == f"p. {fact['page']}" for h in hits)
            answered += found
            if not found:
                misses.append({"question": question, "page": fact["page"],
                               "top": [(h.get("document") or {}).get("locator") for h in hits]})
        recall = answered / len(asked)
        latencies.sort()
        print(f"machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"recall@5: {answered}/{len(asked)} = {recall:.2f} (target >= 0.9); search p50 "
              f"{latencies[len(latencies) // 2]:.1f} ms over HTTP")
        for miss in misses[:5]:
            print("  missed:", miss)

    report = {"passage_max_chars": chunking_max(), "load_average_1m_at_end": round(os.getloadavg()[0], 1), "pages": args.pages, "pdf_bytes": len(pdf), "passages": document["chunks"],
              "ingest_seconds": round(ingest_s, 2), "pages_per_second": round(args.pages / ingest_s, 2),
              "passages_per_second": round(document["chunks"] / ingest_s, 2),
              "pypdf_extract_seconds": round(extract_s, 2), "embedder_alone_passages_per_second": round(embed_alone, 2), "questions": len(asked), "answered": answered,
              "recall_at_5": round(recall, 3), "search_p50_ms": round(latencies[len(latencies) // 2], 1),
              "misses": misses}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
