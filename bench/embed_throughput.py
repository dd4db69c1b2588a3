"""Benchmark the embedded MiniLM model: sentences/s at batch 32 and single-query latency.

    .venv/bin/python bench/embed_throughput.py [--sentences 640] [--queries 200]

Prints the figures and writes them to bench/results/embed_throughput.json. Reference points on a
2-core machine (PLATFORM-NOTES): ~165 sentences/s at batch 32, ~7 ms for one short query.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Before numpy: the package pins OpenBLAS to one thread as the app does; numpy imported first
# would start a BLAS worker per core and measure a configuration the app never runs.
import qorven_local  # noqa: E402,F401
import numpy as np  # noqa: E402

from qorven_local.memory.embedder import BATCH_SIZE, Embedder  # noqa: E402

SUBJECTS = ["the user", "our agent", "the release", "a memory note", "the SQLite file", "the chair"]
VERBS = ["prefers", "mentioned", "scheduled", "forgot about", "summarised", "voted against"]
OBJECTS = ["dark mode and short answers", "the Friday deadline for the desktop build",
           "tea rather than coffee in the mornings", "backing up the data folder every week",
           "the plan to index all notes with hybrid search", "a meeting with Ana about the installer"]


def sentences(n: int) -> list[str]:
    """``n`` distinct memory-like sentences of typical length (about 10-25 tokens)."""
    out = []
    for i in range(n):
        s, v, o = SUBJECTS[i % 6], VERBS[(i // 6) % 6], OBJECTS[(i // 36) % 6]
        out.append(f"Note {i}: {s} {v} {o}.")
    return out


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=640)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="throughput runs; best and median are kept")
    args = parser.parse_args()

    embedder = Embedder()
    started = time.perf_counter()
    embedder.ensure_loaded()
    load_s = time.perf_counter() - started

    texts = sentences(args.sentences)
    tokens = embedder.count_tokens(texts)
    embedder.embed(texts[:BATCH_SIZE])  # warm-up: first-touch of the weights and BLAS buffers
    rates = []
    for _ in range(args.rounds):  # several rounds: a shared 2-core machine is noisy
        started = time.perf_counter()
        embedder.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - started))

    query = "what does the user prefer to drink?"
    for _ in range(5):
        embedder.embed_one(query)
    latencies = []
    for _ in range(args.queries):
        started = time.perf_counter()
        embedder.embed_one(query)
        latencies.append((time.perf_counter() - started) * 1000)

    result = {
        "model": embedder.model_id,
        "load_s": round(load_s, 3),
        "batch_size": BATCH_SIZE,
        "sentences": len(texts),
        "mean_tokens_per_sentence": round(tokens / len(texts), 1),
        "sentences_per_s": round(statistics.median(rates), 1),
        "sentences_per_s_best": round(max(rates), 1),
        "single_query_tokens": embedder.count_tokens([query]),
        "single_query_ms_p50": round(statistics.median(latencies), 2),
        "single_query_ms_p95": round(percentile(latencies, 95), 2),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    print(f"load {result['load_s']} s")
    print(f"batch {BATCH_SIZE}: {result['sentences_per_s']} sentences/s median of {args.rounds} "
          f"(best {result['sentences_per_s_best']}; "
          f"{len(texts)} sentences, {result['mean_tokens_per_sentence']} tokens each on average)")
    print(f"one query: p50 {result['single_query_ms_p50']} ms, p95 {result['single_query_ms_p95']} ms")

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "embed_throughput.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out_dir / 'embed_throughput.json'}")


if __name__ == "__main__":
    main()
