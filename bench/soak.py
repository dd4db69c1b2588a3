"""Soak: one real ``qorven serve`` takes streamed chats, refused ``/ws`` upgrades, tool calls and signed
webhook deliveries, interleaved from several client threads, while a sampler reads the server's open
files and RSS from ``/proc``.

Targets (the hardening review's): open files end within +10 of the start, RSS within +40 MB, zero 5xx
answers, zero lost writes (every agent chat leaves its user and assistant messages, every accepted
webhook delivery is run and answered, every tool call answers its own result).

    .venv/bin/python bench/soak.py              # 2,000 chats, 1,000 refused upgrades, 500 tool calls,
                                                # 200 webhooks; prints a summary, writes bench/results/soak.json
    .venv/bin/python bench/soak.py --scale 0.1  # a tenth of each

``tests/robustness/test_soak_e2e.py`` runs a small version of the same workload in ``make test``.
Linux only (it reads ``/proc/<pid>``). All traffic stays on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.servers import ServeProcess  # noqa: E402

WEBHOOK_SECRET = "soak-signing-secret"
SESSIONS = 8          # agent chats are spread over this many conversations
SETTLE_S = 60.0       # at most this long for the webhook outbox to drain after the load


@dataclass
class SoakCounts:
    """How much of each kind of traffic, and from how many client threads."""

    chats: int = 2000
    refused_ws: int = 1000
    tool_calls: int = 500
    webhooks: int = 200
    concurrency: int = 4

    def scaled(self, factor: float) -> SoakCounts:
        return SoakCounts(*(max(1, round(v * factor)) for v in
                            (self.chats, self.refused_ws, self.tool_calls, self.webhooks)),
                          concurrency=self.concurrency)


@dataclass
class Outcomes:
    """What the clients saw: status counts, and answers that were wrong though not 5xx."""

    statuses: dict[str, int] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, kind: str, status: int, problem: str | None = None) -> None:
        with self.lock:
            key = f"{kind}:{status}"
            self.statuses[key] = self.statuses.get(key, 0) + 1
            if problem and len(self.wrong) < 50:
                self.wrong.append(f"{kind}: {problem}")

    @property
    def server_errors(self) -> int:
        return sum(n for key, n in self.statuses.items() if key.rsplit(":", 1)[1].startswith("5"))


def process_sample(pid: int) -> tuple[int, int]:
    """(open file descriptors, resident set size in bytes) of a process, from /proc."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss_kb = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    return fds, rss_kb * 1024


def fd_kinds(pid: int) -> Counter[str]:
    """What a process's open descriptors are: ``socket``, ``pipe``, ``anon_inode:[eventfd]`` or a path."""
    kinds: Counter[str] = Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        kinds[re.sub(r":\[\d+\]$", "", target)] += 1
    return kinds


class Sampler:
    """Samples a process every ``interval`` seconds on a thread, keeping the peak."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_fds = 0
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            fds, rss = process_sample(self.pid)
            self.peak_fds, self.peak_rss = max(self.peak_fds, fds), max(self.peak_rss, rss)


def start_fake_provider(tokens: int = 8) -> tuple[subprocess.Popen, str]:
    """The fake OpenAI-wire provider as its own process (bulk mode: every answer streams ``tokens`` tokens)."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.fake_provider", "--port", "0", "--tokens", str(tokens)],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.strip().rsplit(" ", 1)[-1]


class Workload:
    """The four kinds of traffic against one server, each call checking its own answer."""

    def __init__(self, server: ServeProcess, client: httpx.Client, outcomes: Outcomes) -> None:
        self.server = server
        self.client = client
        self.outcomes = outcomes
        self.sessions: list[str] = []
        self.binding_id = ""

    def set_up(self, fake_url: str) -> None:
        api = self.client
        provider = api.post("/v1/providers", json={"name": "fake", "kind": "openai_compatible", "base_url": fake_url})
        provider.raise_for_status()
        api.put("/v1/models/selected", json={"models": ["fake/fake-model"]}).raise_for_status()
        api.put("/v1/models/default", json={"model": "fake/fake-model"}).raise_for_status()
        for _ in range(SESSIONS):
            created = api.post("/v1/sessions", json={"agent_id": "prime", "channel": "task", "title": "soak"})
            created.raise_for_status()
            self.sessions.append(created.json()["id"])
        binding = api.post("/v1/channels", json={"kind": "webhook", "agent_id": "prime", "name": "soak"})
        binding.raise_for_status()
        self.binding_id = binding.json()["id"]
        api.put(f"/v1/channels/{self.binding_id}/secret", json={"secret": WEBHOOK_SECRET}).raise_for_status()

    # -- the four kinds ---------------------------------------------------------------------------
    def proxied_chat(self, i: int) -> None:
        body = {"model": "fake/fake-model", "stream": True, "messages": [{"role": "user", "content": f"soak {i}"}]}
        self._stream("chat", body)

    def agent_chat(self, i: int) -> None:
        body = {"agent_id": "prime", "session_id": self.sessions[i % SESSIONS], "message": f"soak {i}",
                "stream": True}
        self._stream("agent_chat", body)

    def _stream(self, kind: str, body: dict[str, Any]) -> None:
        with self.client.stream("POST", "/v1/chat/completions", json=body) as r:
            text = "".join(r.iter_text())
            problem = None if r.status_code != 200 or text.rstrip().endswith("data: [DONE]") else "no [DONE]"
            self.outcomes.record(kind, r.status_code, problem)

    def refused_ws(self, i: int) -> None:
        """A WebSocket upgrade with a token that does not exist: refused before any session starts."""
        key = base64.b64encode(os.urandom(16)).decode()
        head = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{self.server.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Protocol: qorven.v1, token.qvn_not_a_token_{i}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            sock.sendall(head)
            reply = b""
            while b"\r\n" not in reply:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 599
        self.outcomes.record("refused_ws", status, None if status in (401, 429) else f"upgrade answered {status}")

    def tool_call(self, i: int) -> None:
        r = self.client.post("/v1/tools/calculator/invoke", json={"arguments": {"expression": f"{i}*2"}})
        problem = None
        if r.status_code == 200 and r.json().get("result", {}).get("result") != i * 2:
            problem = f"calculator answered {r.text[:120]}"
        self.outcomes.record("tool_call", r.status_code, problem)

    def webhook(self, i: int) -> None:
        body = json.dumps({"text": f"soak delivery {i}", "sender": f"soak-sender-{i % 4}", "id": f"soak-{i}"}).encode()
        ts = str(int(time.time()))
        signature = hmac.new(WEBHOOK_SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        # the channel's signature is the credential: no bearer token on this request
        r = httpx.post(f"{self.server.url}/v1/webhooks/{self.binding_id}", content=body, timeout=30, headers={
            "Content-Type": "application/json", "X-Qorven-Timestamp": ts, "X-Qorven-Signature": "sha256=" + signature})
        self.outcomes.record("webhook", r.status_code)

    # -- checks after the load --------------------------------------------------------------------
    def wait_for_outbox(self, deliveries: int) -> dict[str, Any]:
        """Wait until every accepted delivery was run and its reply stored; the binding's status."""
        deadline = time.monotonic() + SETTLE_S
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            rows = self.client.get("/v1/channels/status").json()["data"]
            status = next(row for row in rows if row["id"] == self.binding_id)
            if status["inbound_count"] >= deliveries and status["outbox_pending"] == 0:
                break
            time.sleep(0.25)
        return status

    def stored_messages(self) -> int:
        return sum(self.client.get(f"/v1/sessions/{sid}").json()["message_count"] for sid in self.sessions)


def run_soak(counts: SoakCounts, home: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole soak against a fresh server under ``home``; the figures as a dict."""
    fake, fake_url = start_fake_provider()
    try:
        settings = {"max_runs_per_tenant": 64}
        with ServeProcess(home, settings=settings) as server, server.client() as api:
            assert server.proc is not None
            pid = server.proc.pid
            outcomes = Outcomes()
            work = Workload(server, api, outcomes)
            work.set_up(fake_url)
            for warm in range(4):  # load the embedder, the adapter, the pools before the first sample
                work.agent_chat(warm + 10_000)
                work.proxied_chat(warm)
                work.tool_call(warm)
                work.refused_ws(warm)
            warm_messages = work.stored_messages()
            start_fds, start_rss = process_sample(pid)
            start_kinds = fd_kinds(pid)
            jobs: list[Callable[[], None]] = []
            jobs += [(lambda i=i: (work.agent_chat if i % 2 else work.proxied_chat)(i)) for i in range(counts.chats)]
            jobs += [(lambda i=i: work.refused_ws(i)) for i in range(counts.refused_ws)]
            jobs += [(lambda i=i: work.tool_call(i)) for i in range(counts.tool_calls)]
            jobs += [(lambda i=i: work.webhook(i)) for i in range(counts.webhooks)]
            random.Random(7).shuffle(jobs)  # interleaved, the same order every run
            started = time.monotonic()
            log(f"soak: {len(jobs)} requests from {counts.concurrency} threads "
                f"(start: {start_fds} open files, {start_rss / 2**20:.0f} MB)")
            with Sampler(pid) as sampler, ThreadPoolExecutor(counts.concurrency) as pool:
                for future in [pool.submit(job) for job in jobs]:
                    try:
                        future.result(timeout=120)
                    except Exception as exc:  # a client-side failure (timeout, reset) is an outcome too
                        outcomes.record("client_error", 0, f"{type(exc).__name__}: {exc}")
            load_s = time.monotonic() - started
            webhook_status = work.wait_for_outbox(counts.webhooks)
            time.sleep(2.0)  # let finished threads end and idle keep-alive sockets close
            end_fds, end_rss = process_sample(pid)
            added = fd_kinds(pid) - start_kinds  # what the growth is made of, when there is one
            agent_chats = counts.chats // 2
            stored = work.stored_messages() - warm_messages
            lost = {
                "agent_chat_messages_missing": max(0, 2 * agent_chats - stored),
                "webhooks_not_run": max(0, counts.webhooks - int(webhook_status.get("inbound_count", 0))),
                "outbox_pending": int(webhook_status.get("outbox_pending", 0)),
            }
    finally:
        fake.terminate()
        fake.wait(5)
    return {
        "benchmark": "soak",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "load_average_1m": round(os.getloadavg()[0], 2),
        "counts": asdict(counts),
        "load_seconds": round(load_s, 1),
        "open_files": {"start": start_fds, "peak": sampler.peak_fds, "end": end_fds, "growth": end_fds - start_fds,
                       "added": dict(added)},
        "rss_mb": {"start": round(start_rss / 2**20, 1), "peak": round(sampler.peak_rss / 2**20, 1),
                   "end": round(end_rss / 2**20, 1), "growth": round((end_rss - start_rss) / 2**20, 1)},
        "statuses": dict(sorted(outcomes.statuses.items())),
        "server_errors": outcomes.server_errors,
        "wrong_answers": outcomes.wrong,
        "lost_writes": lost,
        "targets": {"open_files_growth_max": 10, "rss_growth_mb_max": 40, "server_errors": 0, "lost_writes": 0},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every count (0.1: a tenth)")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "soak.json"))
    args = ap.parse_args()
    counts = SoakCounts(concurrency=args.concurrency).scaled(args.scale)
    with tempfile.TemporaryDirectory(prefix="qorven-soak-") as tmp:
        result = run_soak(counts, Path(tmp) / "home")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: result[k] for k in ("load_seconds", "open_files", "rss_mb", "server_errors",
                                            "lost_writes", "statuses")}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
