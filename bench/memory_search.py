"""Memory search benchmark: latency at 10k and 100k memories, KNN recall, embedding throughput.

    python bench/memory_search.py [--sizes 10000 100000] [--queries 100] [--base 2000]

What it measures (writes bench/results/memory_search.json and prints a table):

- p50/p95 latency of one agent-scope hybrid search (vector KNN + FTS5 BM25 + fusion + row fetch),
  with the query embedding included (``MemoryService.search`` on the query text) and excluded
  (the ranking on a precomputed query vector), and the same for workspace scope (every memory).
- recall@10 of the index's KNN (``bit[384]`` vec0 candidates, float rescore) against exact
  brute force over the same partitions' float vectors.
- "p50 cold": the same search timed right after the brute force of the recall pass, which reads
  every float vector and so evicts the model's weights from the CPU caches first.
- embedding throughput of the bundled model (sentences/s at batch 32).

Data: embedding 100k texts with the numpy model takes ~10 minutes, so the corpus is built from
``--base`` synthetic but realistic memory sentences (templates over people, services, invoices,
preferences, meetings...) that *are* embedded with the model; each bulk memory is one of those
sentences with a variant suffix, and its vector is a real embedding moved by Gaussian noise
(``v = normalise(e + 0.35 * g / sqrt(384))``, cosine to its source ~0.94) and renormalised, so the
vectors keep MiniLM's real geometry (clusters, anisotropy) instead of being uniform random.
Queries are held-out sentences from the same generator (never inserted), embedded for real.
Memories are spread over 10 agents (90%) and the workspace (10%); agent scope thus searches
~19% of the rows, workspace scope all of them.

The timed searches run one after another in one process, as a busy agent's would: the keyword
side's per-term memory counts (``memory.search``: common words leave the FTS5 expression) are
cached for 10 minutes, so a word met before costs nothing and a new word one capped count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Before numpy: the package pins OpenBLAS to one thread as the app does (numpy imported first
# would start a BLAS worker per core, which made every search here twice as slow).
import qorven_local  # noqa: E402,F401
import numpy as np  # noqa: E402

from qorven_local.bootstrap import build_context  # noqa: E402
from qorven_local.config import load_config  # noqa: E402
from qorven_local.memory.index import to_blob  # noqa: E402
from qorven_local.memory.types import Memory  # noqa: E402

PEOPLE = ["Dana", "Tomasz", "Priya", "Marta", "Felix", "Ilse", "Hannah", "Okafor", "Chen", "Ada", "Lukas", "Noor"]
SERVICES = ["billing service", "search cluster", "booking API", "partner portal", "email worker", "mobile backend",
            "image resizer", "analytics pipeline", "auth gateway", "payments queue", "CDN edge", "chat relay"]
PLACES = ["Frankfurt", "Warsaw", "Berlin", "Gdansk", "Vienna", "Lisbon", "Dublin", "Prague"]
THINGS = ["oat milk", "green tea", "dark mode", "short answers", "tables over charts", "British spelling",
          "TypeScript examples", "morning meetings", "written summaries", "Signal for urgent messages",
          "plain language", "bullet points", "weekly reports", "metric units"]
COMPANIES = ["Nordwind Logistics", "Baltic Print", "Helio Foods", "Acme Rail", "Kestrel Labs", "Orbit Travel"]
TOPICS = ["sleep quality", "churn", "pricing", "night trains", "hiring", "the roadmap", "security review",
          "the Q3 budget", "customer support", "the data warehouse", "onboarding", "the novel draft"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "September", "October", "November"]


def sentence(rng: random.Random) -> str:
    """One realistic memory sentence (facts, preferences, identifiers, schedules)."""
    p, s, pl, t = rng.choice(PEOPLE), rng.choice(SERVICES), rng.choice(PLACES), rng.choice(THINGS)
    c, top, d, m = rng.choice(COMPANIES), rng.choice(TOPICS), rng.choice(DAYS), rng.choice(MONTHS)
    n = rng.randint(10, 9999)
    templates = [
        f"{p} prefers {t} when working on {top}.",
        f"The {s} runs in {pl} on host {s.split()[0]}-{pl[:3].lower()}-{n % 40:02d}.",
        f"Invoice INV-2024-{n:04d} from {c} was paid on {rng.randint(1, 28)} {m}.",
        f"Invoice INV-2025-{n:04d} from {c} is overdue by {rng.randint(5, 90)} days.",
        f"The weekly meeting about {top} is on {d} at {rng.randint(8, 17)}:{rng.choice(['00', '15', '30', '45'])}.",
        f"{p} asked that answers about {top} stay under {rng.randint(3, 12)} sentences.",
        f"Ticket ENG-{n} tracks a bug in the {s} reported by {c}.",
        f"{c} signed a {rng.randint(1, 5)}-year contract worth {rng.randint(5, 900)}k euros in {m}.",
        f"The {s} times out requests after {rng.randint(2, 60)} seconds.",
        f"{p} lives in {pl} and travels to {rng.choice(PLACES)} every {d}.",
        f"Decision: {top} moves to the {pl} team starting in {m}.",
        f"{p} dislikes {t} and finds it distracting.",
        f"The budget for {top} is {rng.randint(2, 200)},000 euros this year.",
        f"Remember that {p} is responsible for {top} until {m}.",
        f"Error code ERR_{rng.choice(['QUOTA', 'TOKEN', 'RATE', 'SCHEMA', 'TIMEOUT'])}_{n} means the {s} rejected the call.",
    ]
    return rng.choice(templates)


def unique_sentences(rng: random.Random, n: int, avoid: set[str] = frozenset()) -> list[str]:
    out: dict[str, None] = {}
    while len(out) < n:
        text = sentence(rng)
        if text not in avoid:
            out[text] = None
    return list(out)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build(size: int, base_texts: list[str], base_vectors: np.ndarray, rng: random.Random):
    """A fresh data root with ``size`` memories; returns (ctx, tenant, agent ids)."""
    home = Path(tempfile.mkdtemp(prefix=f"qorven-bench-{size}-"))
    ctx = build_context(load_config({"home": str(home)}, env={}))
    ctx.tokens.issue("default", "admin", label="bench")
    agents = [a.id for a in ctx.agents.list_all("default")]
    for i in range(10 - len(agents)):
        agents.append(ctx.agents.create("default", {"name": f"bench-agent-{i}"}, by_admin=True).id)
    store, clock, ids = ctx.memory.store, ctx.clock, ctx.ids
    nprng = np.random.default_rng(rng.randint(0, 2**31))
    now = clock.iso()
    started = time.perf_counter()
    chunk = 5000
    for start in range(0, size, chunk):
        count = min(chunk, size - start)
        picks = nprng.integers(0, len(base_texts), count)
        noise = nprng.standard_normal((count, 384)).astype(np.float32) * np.float32(0.35 / np.sqrt(384))
        vectors = base_vectors[picks] + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with ctx.db.write() as conn:
            generation = store.generation()
            for j in range(count):
                workspace = nprng.random() < 0.10
                agent = None if workspace else agents[int(nprng.integers(0, len(agents)))]
                partition = store.partition_for(conn, "default", "workspace" if workspace else "agent",
                                                "" if workspace else agent)
                memory = Memory(id=ids.new("mem"), tenant_id="default", scope="workspace" if workspace else "agent",
                                agent_id=agent, session_id=None, kind="fact",
                                content=f"{base_texts[picks[j]]} (note {start + j})", importance=0.5,
                                source="import", created_at=now, updated_at=now, partition_id=partition)
                store.insert(conn, memory, to_blob(vectors[j]), generation)
    return ctx, agents, time.perf_counter() - started


def measure(size: int, base_texts, base_vectors, queries, query_vectors, rng) -> dict:
    ctx, agents, insert_s = build(size, base_texts, base_vectors, rng)
    memory = ctx.memory
    print(f"  {size} memories inserted in {insert_s:.1f} s", file=sys.stderr)
    result: dict = {"memories": size, "insert_seconds": round(insert_s, 1)}
    for scope in ("agent", "workspace"):
        with_embed, without_embed, recalls, after_scan = [], [], [], []
        warm = {"agent_id": agents[0]} if scope == "agent" else {}
        memory.search("default", query=queries[0], scope=scope, max_results=10, **warm)  # page cache, statements
        # Separate passes, not one interleaved loop: the exact ground truth reads every float vector
        # (150 MB at 100k), which evicts the model's weights from the CPU caches. The last pass
        # times a search right after each such scan too ("after scan": caches cold, as after a
        # local model has generated a reply).
        for i, text in enumerate(queries):
            args = {"agent_id": agents[i % len(agents)]} if scope == "agent" else {}
            t = time.perf_counter()
            memory.search("default", query=text, scope=scope, max_results=10, **args)
            with_embed.append((time.perf_counter() - t) * 1000)
        for i, (text, vector) in enumerate(zip(queries, query_vectors)):
            partitions = memory._partitions("default", scope, agents[i % len(agents)] if scope == "agent" else None, None)
            t = time.perf_counter()
            hits = memory.ranker.search(text, vector, partitions, 10)
            memory.store.get_many([h.seq for h in hits])
            without_embed.append((time.perf_counter() - t) * 1000)
        for i, (text, vector) in enumerate(zip(queries, query_vectors)):
            args = {"agent_id": agents[i % len(agents)]} if scope == "agent" else {}
            partitions = memory._partitions("default", scope, args.get("agent_id"), None)
            got = {seq for seq, _ in memory.index.nearest(partitions, vector, 10)}
            exact = {seq for seq, _ in memory.index.exact(partitions, vector, 10)}
            recalls.append(len(got & exact) / 10)
            t = time.perf_counter()
            memory.search("default", query=text, scope=scope, max_results=10, **args)
            after_scan.append((time.perf_counter() - t) * 1000)
        result[scope] = {
            "p50_ms_with_embedding": round(statistics.median(with_embed), 2),
            "p95_ms_with_embedding": round(pct(with_embed, 0.95), 2),
            "p50_ms_without_embedding": round(statistics.median(without_embed), 2),
            "p95_ms_without_embedding": round(pct(without_embed, 0.95), 2),
            "p50_ms_with_embedding_after_scan": round(statistics.median(after_scan), 2),
            "knn_recall_at_10": round(float(np.mean(recalls)), 4),
        }
    ctx.db.close()
    shutil.rmtree(ctx.config.home, ignore_errors=True)  # 260 MB at 100k memories
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--base", type=int, default=2000, help="really embedded sentences behind the bulk vectors")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "memory_search.json"))
    args = parser.parse_args(argv)
    rng = random.Random(42)
    from qorven_local.memory.embedder import shared_embedder
    embedder = shared_embedder()
    embedder.ensure_loaded()

    base_texts = unique_sentences(rng, args.base)
    started = time.perf_counter()
    base_vectors = embedder.embed(base_texts)
    embed_s = time.perf_counter() - started
    throughput_texts = base_texts[:512]
    started = time.perf_counter()
    embedder.embed(throughput_texts)
    throughput = len(throughput_texts) / (time.perf_counter() - started)
    queries = unique_sentences(rng, args.queries, avoid=set(base_texts))
    query_vectors = embedder.embed(queries)
    single = []
    for text in queries[:50]:
        t = time.perf_counter()
        embedder.embed_one(text)
        single.append((time.perf_counter() - t) * 1000)

    report = {
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
                    "blas_threads_env": os.environ.get("OPENBLAS_NUM_THREADS")},
        "embedding": {"sentences_per_s_batch_32": round(throughput, 1), "base_sentences": len(base_texts),
                      "base_embed_seconds": round(embed_s, 1),
                      "one_query_p50_ms": round(statistics.median(single), 2)},
        "method": "bulk vectors = real MiniLM embeddings of --base sentences + N(0, 0.35/sqrt(384)) noise, "
                  "renormalised; queries = held-out sentences embedded for real; 10 agents + workspace",
        "runs": [],
    }
    for size in args.sizes:
        print(f"building {size} ...", file=sys.stderr)
        report["runs"].append(measure(size, base_texts, base_vectors, queries, query_vectors, rng))
    report["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    head = (f"{'memories':>9} {'scope':>9} {'p50 +emb':>9} {'p95 +emb':>9} {'p50 -emb':>9} {'p95 -emb':>9} "
            f"{'recall@10':>9} {'p50 cold':>9}")
    print(head)
    print("-" * len(head))
    for run in report["runs"]:
        for scope in ("agent", "workspace"):
            r = run[scope]
            print(f"{run['memories']:>9} {scope:>9} {r['p50_ms_with_embedding']:>9.1f} {r['p95_ms_with_embedding']:>9.1f} "
                  f"{r['p50_ms_without_embedding']:>9.1f} {r['p95_ms_without_embedding']:>9.1f} "
                  f"{r['knn_recall_at_10']:>9.3f} {r['p50_ms_with_embedding_after_scan']:>9.1f}")
    e = report["embedding"]
    print(f"embedding: {e['sentences_per_s_batch_32']} sentences/s at batch 32; one query p50 "
          f"{e['one_query_p50_ms']} ms; load average {report['machine']['loadavg_at_start']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
