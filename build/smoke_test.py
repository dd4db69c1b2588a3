"""Smoke test of the one-file executable as a USB-stick install (``make test-build``).

1. Build the binary (``make build``: reused when no source changed) unless ``--binary`` names one.
2. Copy it into a temp "stick" beside an empty ``qorven-data/`` (portable mode), start it
   ``--headless --port 0``, wait for ``/readyz``.
3. Through the Python client: add the fake LLM provider (tests/fakes) with a key, make its model the
   default, chat with ``prime`` (streamed), create an agent, save a memory and find it by meaning,
   upload a PDF and a DOCX and find their passages, and list and call tools through ``<binary> mcp``.
4. Stop it (SIGTERM), move the whole stick folder elsewhere, start it again from there, and find
   everything: the agent, the session and its messages, the memory, and the provider key (sealed
   with ``qorven-data/secret.key``, so a second chat works).
5. ``--cold-starts N``: N more starts on the moved stick, timing process start to ``/readyz`` 200.

Prints the figures (size, times) and exits non-zero on the first failed step. ``--json PATH``
writes them for CI. Run from the repo: ``.venv/bin/python build/smoke_test.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from qorven_local.client import Client  # noqa: E402
from tests.fakes import FakeProvider, Reply  # noqa: E402

BINARY_NAME = "qorven.exe" if os.name == "nt" else "qorven"
URL_LINE = re.compile(r"serving at (http://\S+?)/?\s")
KEY = "sk-smoke-test-0123456789abcdef"
MEMORY = "The code word for the smoke test is heliotrope."


class Failure(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def build(binary: Path | None) -> Path:
    """The binary to test: the one given, else ``make build``'s (rebuilt only if sources changed)."""
    if binary is not None:
        check(binary.is_file(), f"no binary at {binary}")
        return binary
    started = time.monotonic()
    subprocess.run(["make", "--no-print-directory", "build"], cwd=REPO, check=True)
    print(f"build: up to date after {time.monotonic() - started:.1f} s", flush=True)
    return REPO / "dist" / BINARY_NAME


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a person double-clicking: no QORVEN_* settings, no proxies."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QORVEN_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update(extra or {})
    return env


class Running:
    """One headless run of the binary on a stick, started and stopped as a user would."""

    def __init__(self, exe: Path, env: dict[str, str] | None = None, wrapper: list[str] | None = None,
                 cwd: Path | None = None) -> None:
        self.exe = exe
        self.cwd = cwd or exe.parent
        self.env = clean_env(env)
        self.wrapper = wrapper or []
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.output: list[str] = []
        self.ready_seconds = 0.0
        self.ready_cpu_seconds: float | None = None

    def start(self, timeout: float = 120) -> "Running":
        started = time.monotonic()
        self.proc = subprocess.Popen([*self.wrapper, str(self.exe), "--headless", "--port", "0"],
                                     cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        deadline = started + timeout
        while not self.url:
            line = self.proc.stdout.readline()
            if not line:
                check(self.proc.poll() is None, "the binary exited:\n" + "".join(self.output))
                check(time.monotonic() < deadline, "no URL printed in time:\n" + "".join(self.output))
                continue
            self.output.append(line)
            match = URL_LINE.search(line)
            if match:
                self.url = match.group(1)
        threading.Thread(target=self._drain, daemon=True).start()
        while True:  # the launcher prints its URL after /readyz, but a test must not trust that
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            check(time.monotonic() < deadline, "/readyz never answered 200:\n" + "".join(self.output))
            time.sleep(0.02)
        self.ready_seconds = time.monotonic() - started
        self.ready_cpu_seconds = process_tree_cpu(self.proc.pid)
        return self

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)

    def client(self) -> Client:
        token = (self.exe.parent / "qorven-data" / "admin-token").read_text().strip()
        return Client(self.url, token, timeout=60)

    def stop(self, timeout: float = 30) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal_app(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("the binary did not stop on SIGTERM:\n" + "".join(self.output)) from None

    def signal_app(self, sig: int) -> None:
        """Signal the executable (under a wrapper such as strace: the wrapper's child, on Linux)."""
        if not self.wrapper:
            self.proc.send_signal(sig)
            return
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        for pid in children:
            os.kill(int(pid), sig)

    def __enter__(self) -> "Running":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        code = self.stop()
        if exc[0] is None:
            check(code == 0, f"exit status {code} after SIGTERM:\n" + "".join(self.output))


def process_tree_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a process and its descendants have used so far (Linux; else None).

    On a loaded machine the wall time to /readyz mostly measures the queue for the CPU; this does not.
    """
    proc = Path("/proc")
    if not (proc / str(pid)).is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = (proc / str(current) / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for task in (proc / str(current) / "task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def make_stick(exe: Path, where: Path) -> Path:
    """A folder holding the executable and an empty qorven-data/: a portable install."""
    where.mkdir(parents=True)
    target = where / exe.name
    shutil.copy2(exe, target)
    (where / "qorven-data").mkdir()
    return target


def first_run(run: Running, fake: FakeProvider) -> dict[str, str]:
    with run.client() as qorven:
        provider = qorven.providers.create({"name": "fake", "kind": "openai_compatible", "base_url": fake.base_url})
        check(qorven.providers.set_key(provider["id"], KEY)["has_key"], "the key was not stored")
        qorven.models.select(["fake/fake-model"])
        check(qorven.models.set_default("fake/fake-model") == "fake/fake-model", "default model not set")
        fake.enqueue(Reply.text("Hello from the stick", chunks=4))
        events = list(qorven.chat.stream("prime", "Say hello"))
        answer = "".join(e.text for e in events)
        check(answer == "Hello from the stick", f"chat answered {answer!r}")
        session_id = next(e.data["session_id"] for e in events if e.type == "session")
        agent = qorven.agents.create({"name": "stick-agent", "instructions": "Travels on a USB stick."})
        memory = qorven.memory.save(MEMORY, scope="workspace", kind="fact")
        found = qorven.memory.search("which word is the code for the smoke test?", scope="workspace")
        check(bool(found) and found[0]["id"] == memory["id"], f"memory search found {found[:1]}")
        return {"session_id": session_id, "agent_id": agent["id"], "memory_id": memory["id"],
                "provider_id": provider["id"]}


def documents_and_mcp(run: Running, fake: FakeProvider) -> None:
    """What the bundle must still hold: PDF (pypdf) and DOCX (python-docx, lxml) reading, and ``qorven mcp``
    (the MCP SDK) relaying to the running install, answered by the SDK's own stdio client."""
    from tests.documents.samples import make_docx, make_pdf

    token = (run.exe.parent / "qorven-data" / "admin-token").read_text().strip()
    files = {"report.pdf": make_pdf([["Smoke test appendix"], ["The stick's glacier survey counted 41 crevasses."]]),
             "handbook.docx": make_docx([("h1", "Handbook"), ("p", "Bicycles on the stick park by the greenhouse.")])}
    with httpx.Client(base_url=run.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        for name, data in files.items():
            r = api.post("/v1/documents", files={"file": (name, data)})
            check(r.status_code == 201 and r.json()["status"] == "ready", f"{name}: {r.status_code} {r.text[:300]}")
        for question, words in (("how many crevasses did the survey count", "41 crevasses"),
                                ("where do bicycles park", "greenhouse")):
            hits = api.post("/v1/memory/search", json={"query": question, "scope": "workspace"}).json()["data"]
            check(bool(hits) and words in hits[0]["content"] and hits[0].get("document"),
                  f"document search for {question!r} found {hits[:1]}")
    check_mcp(run.exe, run.url, token)


def check_mcp(exe: Path, url: str, token: str) -> None:
    """``<exe> mcp`` on stdio lists Qorven's tools and finds a document passage through /mcp."""
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from tests.mcp.support import run_async

    env = {k: v for k, v in os.environ.items() if not k.startswith("QORVEN_")}
    env.update(QORVEN_SERVER=url, QORVEN_TOKEN=token)

    async def session() -> tuple[set[str], str]:
        with open(os.devnull, "w") as errlog:
            async with stdio_client(StdioServerParameters(command=str(exe), args=["mcp"], env=env),
                                    errlog=errlog) as (read, write):
                async with ClientSession(read, write) as mcp:
                    await mcp.initialize()
                    tools = {t.name for t in (await mcp.list_tools()).tools}
                    found = await mcp.call_tool("search_documents", {"query": "how many crevasses"})
                    return tools, json.dumps(found.structuredContent)
    tools, found = run_async(session)  # on a thread of its own: a caller's event loop may be running here
    check({"ask_agent", "memory_search", "search_documents"} <= tools, f"qorven mcp listed {sorted(tools)}")
    check("41 crevasses" in found, f"qorven mcp search_documents answered {found[:300]}")


def after_move(run: Running, fake: FakeProvider, ids: dict[str, str]) -> None:
    with run.client() as qorven:
        settings = qorven.settings()
        check(settings["portable"] and Path(settings["data_root"]) == run.exe.parent.resolve() / "qorven-data",
              f"not the moved stick's data: {settings['data_root']}")
        check(qorven.agents.get(ids["agent_id"])["name"] == "stick-agent", "the agent is gone")
        messages = [m["content"] for m in qorven.messages.iterate(ids["session_id"])]
        check(messages[-2:] == ["Say hello", "Hello from the stick"], f"session messages: {messages}")
        found = qorven.memory.search("which word is the code for the smoke test?", scope="workspace")
        check(bool(found) and found[0]["id"] == ids["memory_id"], f"memory not found after the move: {found[:1]}")
        check(qorven.providers.get(ids["provider_id"])["has_key"], "the provider key is gone")
        fake.enqueue(Reply.text("Still here"))
        answer = "".join(e.text for e in qorven.chat.stream("prime", "Still there?", session_id=ids["session_id"]))
        check(answer == "Still here", f"chat after the move answered {answer!r}")
        check(fake.requests[-1].headers.get("authorization") == f"Bearer {KEY}",
              "the sealed key did not decrypt to the same key after the move")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=None, help="Test this binary (default: make build's).")
    parser.add_argument("--cold-starts", type=int, default=5, help="Timed restarts for the median (default 5).")
    parser.add_argument("--json", type=Path, default=None, help="Write the figures here.")
    parser.add_argument("--keep", action="store_true", help="Keep the temp stick folders.")
    args = parser.parse_args(argv)

    exe = build(args.binary)
    figures: dict[str, object] = {"binary": str(exe), "size_bytes": exe.stat().st_size}
    print(f"binary: {exe} ({exe.stat().st_size / 1e6:.1f} MB)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="qorven-smoke-"))
    try:
        with FakeProvider(api_key=KEY) as fake:
            stick = make_stick(exe, work / "stick-a")
            with Running(stick) as run:
                figures["first_start_ready_s"] = round(run.ready_seconds, 3)
                print(f"first start: ready in {run.ready_seconds:.2f} s at {run.url}", flush=True)
                ids = first_run(run, fake)
                documents_and_mcp(run, fake)
            print("first run: chat, agent, memory, PDF and DOCX documents, qorven mcp ok; stopped", flush=True)

            moved_root = work / "elsewhere" / "another stick"
            moved_root.parent.mkdir(parents=True)
            shutil.move(str(stick.parent), str(moved_root))
            moved = moved_root / stick.name
            with Running(moved) as run:
                after_move(run, fake, ids)
            print(f"after moving the stick to {moved_root}: everything found, the key still works", flush=True)

            times, cpu = [], []
            for _ in range(args.cold_starts):
                with Running(moved) as run:
                    times.append(run.ready_seconds)
                    cpu.append(run.ready_cpu_seconds)
            if times:
                figures["cold_start_ready_s"] = [round(t, 3) for t in times]
                figures["cold_start_median_s"] = round(statistics.median(times), 3)
                print(f"cold start to /readyz: median {statistics.median(times):.2f} s of "
                      f"{', '.join(f'{t:.2f}' for t in times)}", flush=True)
            if cpu and None not in cpu:
                figures["cold_start_cpu_s"] = [round(c, 2) for c in cpu]
                figures["cold_start_cpu_median_s"] = round(statistics.median(cpu), 2)
                print(f"CPU used until /readyz: median {statistics.median(cpu):.2f} s "
                      f"({os.getloadavg()[0]:.1f} load average now)", flush=True)
            leftovers = [p.name for p in (moved_root).iterdir()]
            check(sorted(leftovers) == sorted([stick.name, "qorven-data"]),
                  f"files written beside the executable: {leftovers}")
    except Failure as exc:
        print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    print("smoke test passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
