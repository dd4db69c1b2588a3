"""Benchmark the local provider on the tiny random-weight llama GGUF the tests use.

    .venv/bin/python bench/local_tiny.py [--tokens 256] [--runs 5]

Needs the `local` extra (llama-cpp-python, gguf). Measures: load time, tokens/s through
LocalGGUFProvider.stream_chat (worker thread, parser and all) and straight from llama.cpp, first-token
latency, and process RSS before/after loading. Writes bench/results/local_tiny.json. The tiny model
(2 layers, n_embd 64) measures our overhead and llama.cpp's per-token floor, not a real model's speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qorven_local.providers.events import ChatRequest, TextDelta  # noqa: E402
from qorven_local.providers.local.options import LocalOptions  # noqa: E402
from qorven_local.providers.local.pool import ModelPool, load_llama  # noqa: E402
from qorven_local.providers.local.provider import LocalGGUFProvider  # noqa: E402
from tests.local_models.tiny_gguf import write_tiny_llama  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import llama_cpp

    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp)
        path = write_tiny_llama(models / "tiny-llama.gguf")
        file_bytes = path.stat().st_size
        rss_before = rss_mb()
        started = time.perf_counter()
        pool = ModelPool(load_llama, max_resident=1, idle_seconds=600)
        provider = LocalGGUFProvider(options=LocalOptions(models, n_ctx=2048), pool=pool)
        entry = pool.acquire(path, 2048)
        load_ms = (time.perf_counter() - started) * 1000
        pool.release(entry)
        rss_loaded = rss_mb()

        messages = [{"role": "user", "content": "Tell me a long story about the sea."}]
        provider_tps, first_ms, counts = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            first = None
            n = 0
            for event in provider.stream_chat(ChatRequest(model="tiny-llama", messages=messages,
                                                          max_tokens=args.tokens, temperature=0.0)):
                if type(event) is TextDelta:
                    first = first or time.perf_counter()
                    n += 1
            elapsed = time.perf_counter() - t0
            provider_tps.append(n / elapsed)
            first_ms.append(((first or time.perf_counter()) - t0) * 1000)
            counts.append(n)

        raw_tps = []  # greedy both ways: the same tokens, so the two rates compare
        llm = pool._models[str(path)].llm
        for _ in range(args.runs):
            t0 = time.perf_counter()
            n = sum(1 for c in llm.create_chat_completion(messages=messages, max_tokens=args.tokens,
                                                          temperature=0.0, stream=True)
                    if c["choices"][0]["delta"].get("content"))
            raw_tps.append(n / (time.perf_counter() - t0))
        rss_after = rss_mb()
        pool.close()

    lib = Path(llama_cpp.__file__).parent
    lib_mb = sum(p.stat().st_size for p in lib.rglob("*") if p.is_file()) / 1e6
    result = {
        "benchmark": "local_tiny",
        "model": {"file_bytes": file_bytes, "layers": 2, "n_embd": 64,
                  "note": "random weights; measures overhead and llama.cpp's per-token floor"},
        "llama_cpp_python": llama_cpp.__version__,
        "load_ms": round(load_ms, 1),
        "tokens_requested": args.tokens,
        "text_deltas_per_run": counts,
        "sampling": "greedy (temperature 0): provider and raw llama.cpp generate the same tokens",
        "provider_tokens_per_s_median": round(statistics.median(provider_tps), 1),
        "llama_cpp_tokens_per_s_median": round(statistics.median(raw_tps), 1),
        "first_token_ms_median": round(statistics.median(first_ms), 1),
        "rss_mb": {"before_load": round(rss_before, 1), "loaded": round(rss_loaded, 1),
                   "after_generation": round(rss_after, 1)},
        "llama_cpp_package_mb": round(lib_mb, 1),
        "load_average": list(os.getloadavg()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    out = ROOT / "bench" / "results" / "local_tiny.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
