"""A provider key never appears in clear in a response body, the log file or the database file."""

from __future__ import annotations

from tests.chat.conftest import configure
from tests.fakes import Reply
from tests.support.servers import ServeProcess
from tests.support.upstream import UPSTREAM_KEY as KEY


def test_the_key_never_appears_in_responses_logs_or_the_database(tmp_path, fake):
    bodies: list[bytes] = []

    def keep(response):
        response.read()
        bodies.append(response.content)
        bodies.append(str(response.headers).encode())

    # a fresh `qorven serve` owns its log file; DEBUG, the most talkative level, must not leak either
    with ServeProcess(tmp_path / "home", settings={"log_level": "DEBUG"}) as server:
        with server.client(event_hooks={"response": [keep]}) as api:
            provider = configure(api, fake)
            pid = provider["id"]
            api.get("/v1/providers")
            api.get(f"/v1/providers/{pid}")
            api.post(f"/v1/providers/{pid}/test")
            api.post("/v1/chat/completions", json={"model": "fake/fake-model",
                                                   "messages": [{"role": "user", "content": "hi"}]})
            fake.enqueue(Reply.error(500, f"upstream echoes the key {KEY}"))
            failed = api.post("/v1/chat/completions", json={"agent_id": "prime", "message": "hi"})
            assert failed.status_code == 502 and "[key]" in failed.text
            fake.api_key = "sk-some-other-key-000000000000"  # the fake now echoes the key it was sent
            assert api.post(f"/v1/providers/{pid}/test").json()["ok"] is False
            r = api.post("/v1/chat/completions", json={"model": "fake/fake-model", "stream": True,
                                                       "messages": [{"role": "user", "content": "hi"}]})
            assert r.status_code == 502
            api.get("/v1/models/catalog", params={"refresh": "true"})
            api.get("/openapi.json")
    assert fake.chat_requests() and any(KEY in r.headers.get("authorization", "") for r in fake.requests)
    needle = KEY.encode()
    assert not [b for b in bodies if needle in b]
    log_file = server.home / "logs" / "qorven.log"
    assert b"serving at" in log_file.read_bytes() and needle not in log_file.read_bytes()
    assert KEY not in "".join(server.output)  # the console too
    for path in server.home.glob("qorven.db*"):
        assert needle not in path.read_bytes(), path
    # the hint is all that is stored in clear
    assert KEY[-4:].encode() in b"".join(p.read_bytes() for p in server.home.glob("qorven.db*"))
