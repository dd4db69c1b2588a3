"""Stopping the app drains agent runs: new ones are refused, those in flight end ``stopped`` with the
text streamed so far, stored before the database closes (they used to die with ``DatabaseClosed``)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.chat.conftest import configure
from tests.fakes import FakeProvider, Reply
from tests.support.servers import InProcessServer
from tests.support.wait import wait_until

GRACE_S = 0.8
LONG_ANSWER = "word " * 400  # streamed over about 8 s: far longer than the grace


@dataclass
class SlowRun:
    server: InProcessServer
    session_id: str
    seen: list[str] = field(default_factory=list)   # the text the client received

    @property
    def streamed(self) -> str:
        return "".join(self.seen)


def read_text(lines: Iterator[str], seen: list[str], first: threading.Event) -> None:
    """Collect the OpenAI chunks' text of an SSE stream until it ends."""
    for line in lines:
        payload = line[5:].strip() if line.startswith("data:") else ""
        if payload and payload != "[DONE]":
            for choice in json.loads(payload).get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    seen.append(text)
                    first.set()


@contextmanager
def slow_run_streaming(home: Path, fake: FakeProvider) -> Iterator[SlowRun]:
    """A server with a streamed run in flight (text already arriving); the stream is read to its end on exit."""
    server = InProcessServer(home, {"shutdown_grace_seconds": GRACE_S}).start()
    try:
        with server.client() as api:
            configure(api, fake)
            run = SlowRun(server, api.post("/v1/sessions", json={"agent_id": "writer"}).json()["id"])
        fake.enqueue(Reply.text(LONG_ANSWER, delay=0.02))
        first = threading.Event()
        with server.client() as client, client.stream("POST", "/v1/chat/completions", json={
                "agent_id": "writer", "session_id": run.session_id, "message": "long", "stream": True}) as r:
            assert r.status_code == 200
            reader = threading.Thread(target=read_text, args=(r.iter_lines(), run.seen, first))
            reader.start()
            assert first.wait(10), "no text streamed"
            yield run
            reader.join(15)
    finally:
        server.stop()


def stored_answer(home: Path, session_id: str) -> dict:
    """The session's last message, read by a server started again on the same data root."""
    with InProcessServer(home) as reopened, reopened.client() as api:
        return api.get("/v1/messages", params={"session_id": session_id}).json()["data"][-1]


def refuses_runs(server: InProcessServer) -> bool:
    try:
        server.ctx.runner.check_capacity("default")
    except Exception:
        return True
    return False


def test_a_run_in_flight_at_stop_is_stored_stopped_with_the_text_streamed_so_far(tmp_path, fake, caplog):
    caplog.set_level(logging.WARNING)
    home = tmp_path / "home"
    with slow_run_streaming(home, fake) as run:
        run.server.stop()
    answer = stored_answer(home, run.session_id)
    assert answer["role"] == "assistant"
    assert answer["status"] == "stopped" and answer["error"] is None, answer
    assert "word" in run.streamed and answer["content"].startswith(run.streamed)
    assert len(answer["content"]) < len(LONG_ANSWER)
    assert "DatabaseClosed" not in caplog.text
    assert "DatabaseClosed" not in (home / "logs" / "qorven.log").read_text()


def test_a_run_started_during_shutdown_is_refused_503_with_retry_after(tmp_path, fake):
    with slow_run_streaming(tmp_path / "home", fake) as run:
        stopper = threading.Thread(target=run.server.stop)
        stopper.start()
        try:
            wait_until(lambda: refuses_runs(run.server), timeout=GRACE_S / 2, interval=0.01,
                       message="shutdown did not refuse new runs")
            with run.server.client() as api:
                refused = api.post("/v1/chat/completions", json={"agent_id": "writer", "message": "one more"})
        finally:
            stopper.join(15)
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "too_many_runs"
    assert int(refused.headers["retry-after"]) >= 1
    assert not stopper.is_alive(), "the runtime did not stop"
