"""The first answer a new user gets: the starter model through `prime`, from an empty data root.

A real ``qorven serve`` on an empty data root (the product's defaults: the `local` provider and the
starter model SmolLM2-135M-Instruct as the default), then ``--rounds`` times "Hello, who are you?"
to ``qor:prime`` over the OpenAI SDK, streamed. Reported: the model's load time (the server log's
"loaded local model ... in N ms"), time to the first token and to the whole answer per round,
tokens/s (streamed pieces / generation time), the server's RSS with the model loaded, the machine's
load average (this box is shared: figures under load are slower) and each answer's text.

The server preloads its default model in the background (``local_preload``); by default the first
question is asked once the log says it is loaded (a user who opens the window and types); ``--no-wait``
asks at once, so the first answer includes what is left of the load.

    .venv/bin/python bench/first_answer.py      # prints a summary, writes bench/results/first_answer.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import ServeProcess  # noqa: E402

QUESTION = "Hello, who are you?"
LOADED = re.compile(r"loaded local model \S+ in (\d+) ms")
PRELOADED = "preloaded the default model"


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ask(client, model: str) -> dict:
    started = time.perf_counter()
    first = None
    pieces = []
    for chunk in client.chat.completions.create(model=model, stream=True,
                                                messages=[{"role": "user", "content": QUESTION}]):
        text = chunk.choices[0].delta.content if chunk.choices else None
        if text:
            first = first if first is not None else time.perf_counter() - started
            pieces.append(text)
    whole = time.perf_counter() - started
    generating = whole - (first or whole)
    return {"first_token_s": round(first or whole, 3), "whole_answer_s": round(whole, 3), "pieces": len(pieces),
            "tokens_per_s": round(len(pieces) / generating, 1) if generating > 0 else None,
            "answer": "".join(pieces)}


def wait_for_preload(server, home: Path, started: float, timeout: float = 120.0) -> float | None:
    """Seconds from the server's launch until its log says the default model is preloaded (None: never)."""
    deadline = time.monotonic() + timeout
    log_file = home / "logs" / "qorven.log"
    while time.monotonic() < deadline:
        text = "".join(server.output) + (log_file.read_text(errors="replace") if log_file.exists() else "")
        if PRELOADED in text:
            return round(time.perf_counter() - started, 2)
        time.sleep(0.05)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="qor:prime")
    parser.add_argument("--no-wait", dest="after_preload", action="store_false",
                        help="ask at once instead of after the background preload of the model (a user who "
                             "types the question at once: the first answer then includes the rest of the load)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        with ServeProcess(Path(home), settings={"local_starter": "true", "local_preload": "true"}) as server:
            serving_s = time.perf_counter() - started
            preloaded_s = wait_for_preload(server, Path(home), started) if args.after_preload else None
            client = server.openai(timeout=600)
            rounds = [ask(client, args.model) for _ in range(max(1, args.rounds))]
            assert server.proc is not None
            rss = rss_mb(server.proc.pid)
            log = "".join(server.output) + (Path(home) / "logs" / "qorven.log").read_text(errors="replace")
    loaded = LOADED.search(log)
    result = {"model": args.model, "question": QUESTION, "rounds": rounds, "serving_s": round(serving_s, 2),
              "asked_after_preload": args.after_preload, "preloaded_s": preloaded_s,
              "model_load_ms": int(loaded.group(1)) if loaded else None, "server_rss_mb": round(rss, 1),
              "cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
              "python": platform.python_version(), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for i, r in enumerate(rounds, 1):
        print(f"round {i}: first token {r['first_token_s']} s, whole answer {r['whole_answer_s']} s, "
              f"{r['tokens_per_s']} tokens/s: {r['answer']!r}")
    print(f"serving after {result['serving_s']} s, model preloaded after {preloaded_s} s (from launch)")
    print(f"model load {result['model_load_ms']} ms, server RSS {result['server_rss_mb']} MB, "
          f"load average {load_before[0]:.1f} → {result['loadavg_after'][0]:.1f} on {os.cpu_count()} CPUs")
    out = REPO / "bench" / "results" / "first_answer.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
