"""Load: concurrent clients mixing reads, writes and streaming chats against a live ``qorven serve``.

A real ``qorven serve`` (temp data root, rate limits and the plan-run limit lifted so the load is
not refused by design) answers chats through the fake provider, run as its own process (bulk mode:
each answer streams ``--chat-tokens`` tokens). Each client loops until the duration ends, picking
by weight: reads (agents, sessions, one session's messages, models, a single agent), writes
(create a session; create an agent) and Qorven-form streaming chats read to ``[DONE]``.

Pass/fail: zero 5xx and zero transport errors, and no lost writes: afterwards every acknowledged
session and agent is in the database and each acknowledged chat stored its user and assistant
messages. Reports throughput and latency percentiles (reads' p95 above all).

    .venv/bin/python bench/load.py                    # 50 clients, 60 s; writes bench/results/load.json
    .venv/bin/python bench/load.py --clients 20 --duration 10
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import ServeProcess  # noqa: E402

FAKE_KEY = "sk-load-0123456789abcdef"
READS = ("list_agents", "list_sessions", "list_messages", "list_models", "get_agent")
WEIGHTS = {"list_agents": 14, "list_sessions": 14, "list_messages": 14, "list_models": 8, "get_agent": 10,
           "create_session": 16, "create_agent": 6, "chat_stream": 18}
SERVER_SETTINGS = {"rate_ip_rps": "1000000", "rate_ip_burst": "1000000", "rate_tenant_per_min": "100000000",
                   "max_runs_per_tenant": "1000", "threads": "64"}


def start_fake(tokens: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.fake_provider", "--port", "0", "--tokens",
                             str(tokens), "--api-key", FAKE_KEY], cwd=REPO, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, line.strip().rsplit(" ", 1)[-1]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Ledger:
    """What the clients saw: latencies per operation, statuses, failures, acknowledged writes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.failures: list[str] = []
        self.sessions: list[str] = []
        self.agents: list[str] = []
        self.chats: list[tuple[str, str, str]] = []   # (session id, user text, assistant message id)

    def record(self, op: str, status: int | str, seconds: float) -> None:
        with self.lock:
            self.statuses[op][status] += 1
            if isinstance(status, int) and status < 400:
                self.latency[op].append(seconds)
            if not isinstance(status, int) or status >= 500:
                self.failures.append(f"{op}: {status}")


def _stream_chat(api: httpx.Client, session_id: str, text: str) -> tuple[int, str | None]:
    """One Qorven-form streaming chat read to [DONE]; (status, assistant message id)."""
    body = {"agent_id": "prime", "session_id": session_id, "message": text, "stream": True}
    message_id = None
    done = False
    with api.stream("POST", "/v1/chat/completions", json=body) as r:
        if r.status_code != 200:
            r.read()
            return r.status_code, None
        event = None
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
                if event == "session":
                    message_id = json.loads(data).get("message_id")
                elif data == "[DONE]":
                    done = True
                elif data.startswith('{"error"'):
                    return 599, None   # a mid-stream failure: counted as a server error
                event = None
    return (200 if done else 598), message_id


def client_loop(url: str, token: str, seed: int, deadline: float, ledger: Ledger, agent_ids: list[str]) -> None:
    rng = random.Random(seed)
    ops, weights = zip(*WEIGHTS.items())
    own_session = None
    n = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        while time.monotonic() < deadline:
            op = rng.choices(ops, weights)[0]
            n += 1
            started = time.perf_counter()
            try:
                if op == "list_agents":
                    status = api.get("/v1/agents", params={"limit": 50}).status_code
                elif op == "list_sessions":
                    status = api.get("/v1/sessions", params={"limit": 50, "channel": "task"}).status_code
                elif op == "list_messages":
                    if own_session is None:
                        continue
                    status = api.get("/v1/messages", params={"session_id": own_session}).status_code
                elif op == "list_models":
                    status = api.get("/v1/models").status_code
                elif op == "get_agent":
                    status = api.get(f"/v1/agents/{rng.choice(agent_ids)}").status_code
                elif op == "create_session":
                    r = api.post("/v1/sessions", json={"agent_id": "prime", "channel": "task",
                                                       "title": f"load-{seed}-{n}"})
                    status = r.status_code
                    if status == 201:
                        own_session = r.json()["id"]
                        with ledger.lock:
                            ledger.sessions.append(own_session)
                elif op == "create_agent":
                    r = api.post("/v1/agents", json={"name": f"load-{seed}-{n}"})
                    status = r.status_code
                    if status == 201:
                        with ledger.lock:
                            ledger.agents.append(r.json()["id"])
                else:  # chat_stream
                    if own_session is None:
                        continue
                    text = f"load chat {seed}-{n}"
                    status, message_id = _stream_chat(api, own_session, text)
                    if status == 200 and message_id:
                        with ledger.lock:
                            ledger.chats.append((own_session, text, message_id))
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            ledger.record(op, status, time.perf_counter() - started)


def verify_writes(srv: ServeProcess, ledger: Ledger) -> dict[str, Any]:
    """Every acknowledged write is there, read back through the API after the load."""
    lost: list[str] = []
    with srv.client() as api:
        sessions: set[str] = set()
        cursor = None
        while True:
            params = {"limit": 200, "channel": "task", **({"cursor": cursor} if cursor else {})}
            page = api.get("/v1/sessions", params=params).json()
            sessions.update(s["id"] for s in page["data"])
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        lost += [f"session {s}" for s in ledger.sessions if s not in sessions]
        agents: set[str] = set()
        cursor = None
        while True:
            page = api.get("/v1/agents", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
            agents.update(a["id"] for a in page["data"])
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        lost += [f"agent {a}" for a in ledger.agents if a not in agents]
        by_session: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
        for session_id, text, message_id in ledger.chats:
            by_session[session_id].append((text, message_id))
        for session_id, chats in by_session.items():
            messages, cursor = [], None
            while True:
                params = {"session_id": session_id, "limit": 200, **({"cursor": cursor} if cursor else {})}
                page = api.get("/v1/messages", params=params).json()
                messages += page["data"]
                if not page["has_more"]:
                    break
                cursor = page["next_cursor"]
            ids = {m["id"] for m in messages}
            users = {m["content"] for m in messages if m["role"] == "user"}
            lost += [f"chat {text}" for text, message_id in chats if message_id not in ids or text not in users]
    return {"sessions": len(ledger.sessions), "agents": len(ledger.agents), "chats": len(ledger.chats),
            "lost": lost}


def run_load(clients: int, duration: float, seed: int = 7, chat_tokens: int = 20,
             home: Path | None = None) -> dict[str, Any]:
    """Start the fake and a server, run the load, verify the writes; the figures as a dict."""
    fake_proc, fake_url = start_fake(chat_tokens)
    tmp = None
    if home is None:
        tmp = tempfile.TemporaryDirectory(prefix="qorven-load-")
        home = Path(tmp.name)
    try:
        with ServeProcess(home, SERVER_SETTINGS) as srv:
            with srv.client() as api:
                provider = api.post("/v1/providers", json={"name": "fake", "kind": "openai_compatible",
                                                           "base_url": fake_url})
                provider.raise_for_status()
                api.put(f"/v1/providers/{provider.json()['id']}/keys", json={"key": FAKE_KEY}).raise_for_status()
                api.put("/v1/models/default", json={"model": "fake/fake-model"}).raise_for_status()
                agent_ids = [a["id"] for a in api.get("/v1/agents").json()["data"]]
            ledger = Ledger()
            started = time.monotonic()
            deadline = started + duration
            threads = [threading.Thread(target=client_loop, args=(srv.url, srv.admin_token, seed * 1000 + i,
                                                                  deadline, ledger, agent_ids), daemon=True)
                       for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(duration + 120)
            elapsed = time.monotonic() - started
            hung = sum(t.is_alive() for t in threads)
            writes = verify_writes(srv, ledger)
            alive = srv.proc.poll() is None
    finally:
        fake_proc.terminate()
        fake_proc.wait(10)
        if tmp is not None:
            tmp.cleanup()
    reads = [s for op in READS for s in ledger.latency[op]]
    total = sum(sum(c.values()) for c in ledger.statuses.values())
    server_errors = sum(n for c in ledger.statuses.values() for status, n in c.items()
                        if not isinstance(status, int) or status >= 500)
    ms = lambda v: None if v is None else round(v * 1000, 1)  # noqa: E731
    return {
        "clients": clients, "duration_s": duration, "elapsed_s": round(elapsed, 1), "requests": total,
        "throughput_rps": round(total / elapsed, 1), "server_errors": server_errors, "hung_clients": hung,
        "server_alive": alive, "failures_sample": ledger.failures[:20],
        "reads": {"count": len(reads), "p50_ms": ms(pct(reads, 50)), "p95_ms": ms(pct(reads, 95)),
                  "p99_ms": ms(pct(reads, 99))},
        "operations": {op: {"count": sum(ledger.statuses[op].values()),
                            "statuses": {str(k): v for k, v in ledger.statuses[op].items()},
                            "p50_ms": ms(pct(ledger.latency[op], 50)), "p95_ms": ms(pct(ledger.latency[op], 95))}
                       for op in WEIGHTS},
        "writes": {k: v for k, v in writes.items() if k != "lost"}, "lost_writes": len(writes["lost"]),
        "lost_sample": writes["lost"][:20],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg": os.getloadavg() if hasattr(os, "getloadavg") else None},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--chat-tokens", type=int, default=20)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "load.json"))
    args = ap.parse_args()
    result = run_load(args.clients, args.duration, args.seed, args.chat_tokens)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"{result['clients']} clients for {result['duration_s']:.0f}s: {result['requests']} requests, "
          f"{result['throughput_rps']} req/s, server errors {result['server_errors']}, "
          f"lost writes {result['lost_writes']}, hung clients {result['hung_clients']}")
    r = result["reads"]
    print(f"reads: {r['count']}  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  p99 {r['p99_ms']} ms")
    for op, o in result["operations"].items():
        print(f"  {op:15s} {o['count']:6d}  p50 {o['p50_ms']} ms  p95 {o['p95_ms']} ms  {o['statuses']}")
    print(f"writes acknowledged: {result['writes']}  → {out}")
    ok = (result["server_errors"] == 0 and result["lost_writes"] == 0 and result["hung_clients"] == 0
          and result["server_alive"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
