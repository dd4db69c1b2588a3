"""What Qorven adds to a streamed chat completion: time-to-first-token and tokens/s, through us vs
straight to the provider, in the same run.

Two fake providers run as their own processes (bulk mode: every answer streams N one-token chunks
as fast as it can), a real ``qorven serve`` proxies them as ``short/...`` and ``long/...``, and one
client alternates direct and proxied requests so drift hits both sides alike:

- latency: ``--latency-requests`` pairs of short answers (``--short-tokens``); TTFT is the time from
  sending the request to receiving the first content token. Added latency = proxied − direct, per
  pair; p50 and p95 are reported.
- throughput: ``--throughput-requests`` pairs of long answers (``--long-tokens``); tokens/s from
  sending the request to the last token; the ratio is proxied / direct (medians).
- CPU: the server process's user + system time (``/proc/<pid>/stat``) over the throughput phase,
  per proxied token: the number a regression in the streaming hot path moves first.

    .venv/bin/python bench/chat_overhead.py            # prints a summary, writes bench/results/chat_overhead.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import ServeProcess  # noqa: E402

TOKEN_MARK = b'"content":"tok'


def start_fake(tokens: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.fake_provider", "--port", "0", "--tokens",
                             str(tokens)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, line.strip().rsplit(" ", 1)[-1]


def stream_once(client: httpx.Client, url: str, model: str, headers: dict[str, str]) -> tuple[float, float, int]:
    """(ttft seconds, seconds from sending the request to the last token, tokens) for one streamed request."""
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "go"}]}
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    carry = b""
    keep = len(TOKEN_MARK) - 1
    with client.stream("POST", url, json=body, headers=headers) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():
            joined = carry + chunk
            n = joined.count(TOKEN_MARK)  # a mark split across reads is found in the joined bytes
            carry = joined[-keep:]  # shorter than a mark: nothing in it was counted whole
            if n:
                last = time.perf_counter()
                if not tokens:
                    first = last
                tokens += n
    return first - started, last - started, tokens


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process ``pid`` has used so far (Linux ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime in clock ticks


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-requests", type=int, default=300)
    ap.add_argument("--short-tokens", type=int, default=20)
    ap.add_argument("--throughput-requests", type=int, default=30)
    ap.add_argument("--long-tokens", type=int, default=2000)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "chat_overhead.json"))
    args = ap.parse_args()

    short_fake, short_url = start_fake(args.short_tokens)
    long_fake, long_url = start_fake(args.long_tokens)
    home = Path(tempfile.mkdtemp(prefix="qorven-bench-"))
    try:
        with ServeProcess(home / "home") as server, httpx.Client(timeout=60) as client:
            auth = {"Authorization": f"Bearer {server.admin_token}"}
            for name, url in (("short", short_url), ("long", long_url)):
                r = client.post(server.url + "/v1/providers", headers=auth,
                                json={"name": name, "kind": "openai_compatible", "base_url": url})
                r.raise_for_status()
            client.put(server.url + "/v1/models/selected", headers=auth,
                       json={"models": ["short/fake-model", "long/fake-model"]}).raise_for_status()
            ours = server.url + "/v1/chat/completions"

            def pair(fake_url: str, model: str) -> tuple[tuple, tuple]:
                direct = stream_once(client, fake_url + "/chat/completions", "fake-model", {})
                proxied = stream_once(client, ours, model, auth)
                return direct, proxied

            for _ in range(20):  # warm up connections, caches and the adapter
                pair(short_url, "short/fake-model")
            pair(long_url, "long/fake-model")

            def timed_get(url: str, headers: dict[str, str]) -> float:
                started = time.perf_counter()
                client.get(url, headers=headers).raise_for_status()
                return time.perf_counter() - started

            # the floor: an authenticated no-op request through our gate vs a GET the fake answers
            floor = [(timed_get(server.url + "/v1/models/default", auth), timed_get(short_url + "/models", {}))
                     for _ in range(args.latency_requests)]
            latency = [pair(short_url, "short/fake-model") for _ in range(args.latency_requests)]
            assert server.proc is not None
            cpu_before = cpu_seconds(server.proc.pid)  # only proxied requests reach the server from here
            throughput = [pair(long_url, "long/fake-model") for _ in range(args.throughput_requests)]
            server_cpu_s = cpu_seconds(server.proc.pid) - cpu_before
    finally:
        for proc in (short_fake, long_fake):
            proc.terminate()
            proc.wait(5)

    added_ms = [(p[0] - d[0]) * 1000 for d, p in latency]
    floor_ms = [(ours - fake) * 1000 for ours, fake in floor]
    direct_ttft = [d[0] * 1000 for d, _ in latency]
    proxied_ttft = [p[0] * 1000 for _, p in latency]
    direct_tps = [d[2] / d[1] for d, _ in throughput if d[1] > 0]
    proxied_tps = [p[2] / p[1] for _, p in throughput if p[1] > 0]
    assert all(d[2] == p[2] == args.long_tokens for d, p in throughput), "token counts differ"
    result = {
        "benchmark": "chat_overhead",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "ttft_ms": {"direct_p50": round(pct(direct_ttft, 50), 3), "direct_p95": round(pct(direct_ttft, 95), 3),
                    "proxied_p50": round(pct(proxied_ttft, 50), 3), "proxied_p95": round(pct(proxied_ttft, 95), 3)},
        "added_latency_ms": {"p50": round(pct(added_ms, 50), 3), "p95": round(pct(added_ms, 95), 3),
                             "mean": round(statistics.fmean(added_ms), 3),
                             "of_which_request_floor_p50": round(pct(floor_ms, 50), 3)},
        "tokens_per_s": {"direct_median": round(statistics.median(direct_tps)),
                         "proxied_median": round(statistics.median(proxied_tps)),
                         "ratio": round(statistics.median(proxied_tps) / statistics.median(direct_tps), 4)},
        "server_cpu_per_token_us": round(server_cpu_s / sum(p[2] for _, p in throughput) * 1e6, 2),
        "targets": {"added_latency_p50_ms_max": 3.0, "throughput_ratio_min": 0.95},
    }
    result["targets"]["met"] = (result["added_latency_ms"]["p50"] <= 3.0
                                and result["tokens_per_s"]["ratio"] >= 0.95)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"TTFT direct p50 {result['ttft_ms']['direct_p50']:.2f} ms, through Qorven p50 "
          f"{result['ttft_ms']['proxied_p50']:.2f} ms")
    print(f"added latency p50 {result['added_latency_ms']['p50']:.2f} ms, p95 {result['added_latency_ms']['p95']:.2f} ms"
          f" (target <= 3 ms at p50)")
    print(f"  (an authenticated no-op GET through the same server costs {result['added_latency_ms']['of_which_request_floor_p50']:.2f} ms"
          " more than a GET the fake answers: the HTTP stack's floor)")
    print(f"tokens/s direct {result['tokens_per_s']['direct_median']}, through Qorven "
          f"{result['tokens_per_s']['proxied_median']}, ratio {result['tokens_per_s']['ratio']:.3f} (target >= 0.95)")
    print(f"server CPU per proxied token {result['server_cpu_per_token_us']:.2f} us (user + system, "
          f"{args.throughput_requests} answers of {args.long_tokens} tokens)")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
