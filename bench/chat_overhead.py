"""What Qorven adds to a streamed chat completion: time-to-first-token and tokens/s, through us vs
straight to the provider, in the same run.

Two fake providers run as their own processes (bulk mode: every answer streams N one-token chunks
as fast as it can), a real ``qorven serve`` proxies them as ``short/...`` and ``long/...``, and one
client takes turns: direct, through Qorven, through the reference pass-through, so drift hits all alike:

- latency: ``--latency-requests`` turns of short answers (``--short-tokens``); TTFT is the time from
  sending the request to receiving the first content token. Added latency = proxied − direct, per
  pair; p50 and p95 are reported.
- throughput: ``--throughput-requests`` turns of long answers (``--long-tokens``); tokens/s from
  sending the request to the last token; the ratio is proxied / direct (medians). The client pays per
  HTTP chunk it reads, so the proxy's coalesced bursts (fewer chunks than the fake's one per token)
  can read faster than the fake itself: the ratio can pass 1, and the chunk counts are printed.
- CPU: the server process's user + system time (``/proc/<pid>/stat``) over the throughput phase,
  per proxied token: the number a regression in the streaming hot path moves first.
- reference: the same client also streams through a minimal Falcon/waitress/httpx pass-through (its
  own process: this script with ``--serve-pass-through``, which forwards the upstream's bytes as they
  come and parses nothing), so each run shows what the HTTP stack alone costs on the machine as it is
  loaded right then: its added TTFT, its throughput ratio and its CPU per token.

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


def serve_pass_through(upstream: str) -> None:
    """The reference: a minimal Falcon app on waitress that streams the upstream's answer through as is."""
    import falcon
    from waitress.server import create_server

    http = httpx.Client(timeout=60)

    class PassThrough:
        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            upstream_resp = http.send(http.build_request("POST", upstream + "/chat/completions",
                                                         content=req.bounded_stream.read(),
                                                         headers={"content-type": "application/json"}),
                                      stream=True)

            def body():
                try:
                    yield from upstream_resp.iter_raw()
                finally:
                    upstream_resp.close()

            resp.content_type = "text/event-stream"
            resp.stream = body()

    app = falcon.App()
    app.add_route("/v1/chat/completions", PassThrough())
    server = create_server(app, host="127.0.0.1", port=0, threads=16)
    print(f"pass-through at http://127.0.0.1:{server.effective_port}/v1", flush=True)
    server.run()


def start_pass_through(upstream: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve-pass-through", upstream], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, line.strip().rsplit(" ", 1)[-1]


def start_fake(tokens: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.fake_provider", "--port", "0", "--tokens",
                             str(tokens)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, line.strip().rsplit(" ", 1)[-1]


def stream_once(client: httpx.Client, url: str, model: str,
                headers: dict[str, str]) -> tuple[float, float, int, int]:
    """(ttft seconds, seconds from sending the request to the last token, tokens, HTTP chunks of the body)
    for one streamed request."""
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "go"}]}
    started = time.perf_counter()
    first = last = 0.0
    tokens = chunks = 0
    carry = b""
    keep = len(TOKEN_MARK) - 1
    with client.stream("POST", url, json=body, headers=headers) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():
            chunks += 1
            joined = carry + chunk
            n = joined.count(TOKEN_MARK)  # a mark split across reads is found in the joined bytes
            carry = joined[-keep:]  # shorter than a mark: nothing in it was counted whole
            if n:
                last = time.perf_counter()
                if not tokens:
                    first = last
                tokens += n
    return first - started, last - started, tokens, chunks


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
    ap.add_argument("--serve-pass-through", metavar="UPSTREAM", help=argparse.SUPPRESS)  # the reference's process
    args = ap.parse_args()
    if args.serve_pass_through:
        serve_pass_through(args.serve_pass_through)
        return

    short_fake, short_url = start_fake(args.short_tokens)
    long_fake, long_url = start_fake(args.long_tokens)
    short_pass, short_pass_url = start_pass_through(short_url)
    long_pass, long_pass_url = start_pass_through(long_url)
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

            def triple(fake_url: str, pass_url: str, model: str) -> tuple[tuple, tuple, tuple]:
                """(direct, through Qorven, through the pass-through), one after the other."""
                direct = stream_once(client, fake_url + "/chat/completions", "fake-model", {})
                proxied = stream_once(client, ours, model, auth)
                passed = stream_once(client, pass_url + "/chat/completions", "fake-model", {})
                return direct, proxied, passed

            for _ in range(20):  # warm up connections, caches and the adapter
                triple(short_url, short_pass_url, "short/fake-model")
            triple(long_url, long_pass_url, "long/fake-model")

            def timed_get(url: str, headers: dict[str, str]) -> float:
                started = time.perf_counter()
                client.get(url, headers=headers).raise_for_status()
                return time.perf_counter() - started

            # the floor: an authenticated no-op request through our gate vs a GET the fake answers
            floor = [(timed_get(server.url + "/v1/models/default", auth), timed_get(short_url + "/models", {}))
                     for _ in range(args.latency_requests)]
            latency = [triple(short_url, short_pass_url, "short/fake-model") for _ in range(args.latency_requests)]
            assert server.proc is not None
            # only proxied requests reach the server from here, only pass-through ones the reference
            cpu_before = cpu_seconds(server.proc.pid), cpu_seconds(long_pass.pid)
            throughput = [triple(long_url, long_pass_url, "long/fake-model") for _ in range(args.throughput_requests)]
            server_cpu_s = cpu_seconds(server.proc.pid) - cpu_before[0]
            pass_cpu_s = cpu_seconds(long_pass.pid) - cpu_before[1]
    finally:
        for proc in (short_pass, long_pass, short_fake, long_fake):
            proc.terminate()
            proc.wait(5)

    added_ms = [(p[0] - d[0]) * 1000 for d, p, _ in latency]
    pass_added_ms = [(t[0] - d[0]) * 1000 for d, _, t in latency]
    floor_ms = [(ours - fake) * 1000 for ours, fake in floor]
    direct_ttft = [d[0] * 1000 for d, _, _ in latency]
    proxied_ttft = [p[0] * 1000 for _, p, _ in latency]
    direct_tps = [d[2] / d[1] for d, _, _ in throughput if d[1] > 0]
    proxied_tps = [p[2] / p[1] for _, p, _ in throughput if p[1] > 0]
    pass_tps = [t[2] / t[1] for _, _, t in throughput if t[1] > 0]
    assert all(d[2] == p[2] == t[2] == args.long_tokens for d, p, t in throughput), "token counts differ"
    tokens = args.long_tokens * args.throughput_requests
    result = {
        "benchmark": "chat_overhead",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "serve_pass_through")},
        "ttft_ms": {"direct_p50": round(pct(direct_ttft, 50), 3), "direct_p95": round(pct(direct_ttft, 95), 3),
                    "proxied_p50": round(pct(proxied_ttft, 50), 3), "proxied_p95": round(pct(proxied_ttft, 95), 3)},
        "added_latency_ms": {"p50": round(pct(added_ms, 50), 3), "p95": round(pct(added_ms, 95), 3),
                             "mean": round(statistics.fmean(added_ms), 3),
                             "of_which_request_floor_p50": round(pct(floor_ms, 50), 3)},
        "tokens_per_s": {"direct_median": round(statistics.median(direct_tps)),
                         "proxied_median": round(statistics.median(proxied_tps)),
                         "ratio": round(statistics.median(proxied_tps) / statistics.median(direct_tps), 4)},
        "server_cpu_per_token_us": round(server_cpu_s / tokens * 1e6, 2),
        # the client reads each HTTP chunk with its own per-chunk cost: fewer, larger chunks (bursts
        # the proxy coalesced) read faster, which can put the ratio above 1
        "http_chunks_per_answer": {"direct_median": statistics.median(d[3] for d, _, _ in throughput),
                                   "proxied_median": statistics.median(p[3] for _, p, _ in throughput),
                                   "pass_through_median": statistics.median(t[3] for _, _, t in throughput)},
        "pass_through": {"added_latency_p50_ms": round(pct(pass_added_ms, 50), 3),
                         "tokens_per_s_median": round(statistics.median(pass_tps)),
                         "ratio": round(statistics.median(pass_tps) / statistics.median(direct_tps), 4),
                         "cpu_per_token_us": round(pass_cpu_s / tokens * 1e6, 2)},
        "targets": {"added_latency_p50_ms_max": 3.0, "throughput_ratio_min": 0.95},
    }
    result["targets"]["met"] = (result["added_latency_ms"]["p50"] <= 3.0
                                and result["tokens_per_s"]["ratio"] >= 0.95)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    ref = result["pass_through"]
    print(f"load average (1 min) {result['load_average_1m']}")
    print(f"TTFT direct p50 {result['ttft_ms']['direct_p50']:.2f} ms, through Qorven p50 "
          f"{result['ttft_ms']['proxied_p50']:.2f} ms")
    print(f"added latency p50 {result['added_latency_ms']['p50']:.2f} ms, p95 {result['added_latency_ms']['p95']:.2f} ms"
          f" (target <= 3 ms at p50; the pass-through adds {ref['added_latency_p50_ms']:.2f} ms)")
    print(f"  (an authenticated no-op GET through the same server costs {result['added_latency_ms']['of_which_request_floor_p50']:.2f} ms"
          " more than a GET the fake answers: the HTTP stack's floor)")
    print(f"tokens/s direct {result['tokens_per_s']['direct_median']}, through Qorven "
          f"{result['tokens_per_s']['proxied_median']}, ratio {result['tokens_per_s']['ratio']:.3f} (target >= 0.95; "
          f"the pass-through: {ref['tokens_per_s_median']}, ratio {ref['ratio']:.3f})")
    print(f"server CPU per proxied token {result['server_cpu_per_token_us']:.2f} us (user + system, "
          f"{args.throughput_requests} answers of {args.long_tokens} tokens; the pass-through's: "
          f"{ref['cpu_per_token_us']:.2f} us)")
    chunks = result["http_chunks_per_answer"]
    print(f"HTTP chunks per {args.long_tokens}-token answer: direct {chunks['direct_median']:.0f}, through Qorven "
          f"{chunks['proxied_median']:.0f} (bursts coalesced), pass-through {chunks['pass_through_median']:.0f}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
