"""A proxied stream goes out as the upstream's tokens came in: what one upstream read held in one write
(one HTTP chunk to the client), a token that came alone at once, on its own."""

from __future__ import annotations

import json
import socket
import threading

import httpx

from tests.providers.scripted import ScriptedServer, scripted  # noqa: F401  (scripted: a fixture)

MODELS = json.dumps({"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "x"}]}).encode()


def http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def sse(delta: dict, finish: str | None = None) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
    return http_chunk(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")


def test_a_burst_goes_out_in_one_write_and_tokens_that_came_apart_go_out_apart(admin, scripted):
    steps = [threading.Event() for _ in range(3)]  # the client has read: the first token, the burst, the lone one

    def upstream(conn: socket.socket, n: int) -> None:
        while True:
            head = up.read_request(conn)
            if not head:
                return
            if head.startswith(b"GET"):
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                             % (len(MODELS), MODELS))
                continue
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                         + sse({"role": "assistant", "content": ""}) + sse({"content": "t0 "}))
            steps[0].wait(5)
            conn.sendall(b"".join(sse({"content": f"t{i} "}) for i in range(1, 10)))  # nine tokens, one write
            steps[1].wait(5)
            conn.sendall(sse({"content": "t10"}))
            steps[2].wait(5)
            conn.sendall(sse({}, "stop") + http_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")

    up = scripted(upstream)
    assert admin.post("/v1/providers", json={"name": "up", "kind": "openai_compatible",
                                             "base_url": f"http://127.0.0.1:{up.port}/v1"}).status_code == 201
    assert admin.put("/v1/models/selected", json={"models": ["up/m"]}).status_code == 200

    writes: list[list[dict]] = []  # each HTTP chunk the server wrote: the chunks of the answer in it
    body = {"model": "up/m", "stream": True, "messages": [{"role": "user", "content": "go"}]}
    with admin.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        for piece in response.iter_raw():
            frames = [f[6:] for f in piece.decode().split("\n\n") if f.startswith("data: ")]
            writes.append([json.loads(f) for f in frames if f != "[DONE]"])
            if len(writes) <= 3:
                steps[len(writes) - 1].set()

    def texts(write: list[dict]) -> list[str]:
        return [c["choices"][0]["delta"].get("content") for c in write]

    assert texts(writes[0]) == ["", "t0 "]  # the role chunk, then the first token: at once
    assert writes[0][0]["choices"][0]["delta"]["role"] == "assistant"
    assert texts(writes[1]) == [f"t{i} " for i in range(1, 10)]  # the burst: one write
    assert texts(writes[2]) == ["t10"]  # the lone token: alone
    rest = [c for write in writes[3:] for c in write]
    assert [c["choices"][0]["finish_reason"] for c in rest] == ["stop"]
    assert {c["model"] for write in writes for c in write} == {"up/m"}
