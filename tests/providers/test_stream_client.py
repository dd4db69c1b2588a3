"""Our HTTP/1.1 reader for streamed answers, against a real socket server that writes exactly the bytes
each test scripts: chunk framing split anywhere, bursts, kept and dropped connections, other framings."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from typing import Callable

import pytest

from qorven_local.errors import ProviderError
from qorven_local.providers.events import collect
from qorven_local.providers.http import _sse_batches, _sse_data
from qorven_local.providers.kinds import create_provider
from qorven_local.providers.stream_client import ProtocolError, StreamClient, UpstreamConnectError
from tests.providers.conftest import ask
from tests.providers.scripted import Script, ScriptedServer, scripted  # noqa: F401  (scripted: a fixture)


def client_for(server: ScriptedServer, read_timeout: float = 5.0) -> StreamClient:
    return StreamClient("127.0.0.1", server.port, connect_timeout=2.0, read_timeout=read_timeout)


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def get(client: StreamClient, path: str = "/v1/chat/completions") -> list[bytes]:
    with client.post(path, b'{"stream":true}', {"accept": "text/event-stream"}) as response:
        response.send()
        assert response.status == 200
        return list(response.iter_body())


def test_chunk_framing_split_anywhere_across_reads_is_removed(scripted):
    events = [b'data: {"n":%d}\n\n' % i for i in range(20)]
    wire = SSE_HEAD + chunked(*events[:10]) [:-5] + b"5;ext=1\r\nhello\r\n" + chunked(*events[10:])

    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        for i in range(0, len(wire), 7):  # every 7 bytes on its own: sizes, data and CRLFs all split
            conn.sendall(wire[i:i + 7])
            time.sleep(0.001)

    server = scripted(script)
    body = b"".join(get(client_for(server)))
    assert body == b"".join(events[:10]) + b"hello" + b"".join(events[10:])


def test_a_burst_of_chunks_comes_out_as_one_piece_and_chunks_sent_apart_stay_apart(scripted):
    burst = [b"data: %d\n\n" % i for i in range(50)]
    ready = threading.Event()

    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        conn.sendall(SSE_HEAD + chunked(*burst)[:-5])  # 50 chunks in one write
        ready.wait(5)
        conn.sendall(chunked(b"data: late\n\n"))

    server = scripted(script)
    client = client_for(server)
    with client.post("/x", b"{}", {}) as response:
        response.send()
        pieces = response.iter_body()
        assert next(pieces) == b"".join(burst)
        ready.set()
        assert list(pieces) == [b"data: late\n\n"]


def test_consecutive_requests_share_one_kept_connection(scripted):
    def script(conn: socket.socket, n: int) -> None:
        while server.read_request(conn):
            conn.sendall(SSE_HEAD + chunked(b"data: %d\n\n" % n))

    server = scripted(script)
    client = client_for(server)
    assert [get(client) for _ in range(3)] == [[b"data: 0\n\n"]] * 3
    assert server.connections == 1


def test_a_kept_connection_the_server_dropped_while_idle_is_replaced(scripted):
    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        conn.sendall(SSE_HEAD + chunked(b"data: %d\n\n" % n))
        time.sleep(0.05)  # then drop the kept connection

    server = scripted(script)
    client = client_for(server)
    assert get(client) == [b"data: 0\n\n"]
    time.sleep(0.2)
    assert get(client) == [b"data: 1\n\n"]
    assert server.connections == 2


def test_a_kept_connection_closed_without_an_answer_is_retried_once_on_a_new_one(scripted):
    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        conn.sendall(SSE_HEAD + chunked(b"data: %d\n\n" % n))
        if n == 0:
            server.read_request(conn)  # the second request arrives on the kept connection: drop it unanswered
            conn.shutdown(socket.SHUT_RDWR)

    server = scripted(script)
    client = client_for(server)
    assert get(client) == [b"data: 0\n\n"]
    assert get(client) == [b"data: 1\n\n"]
    assert server.connections == 2 and len(server.requests) == 3


def test_a_new_connection_closed_without_an_answer_is_an_error_not_a_retry(scripted):
    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)

    server = scripted(script)
    with pytest.raises(ConnectionError):
        get(client_for(server))
    assert server.connections == 1


def test_content_length_and_close_delimited_bodies(scripted):
    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        if n == 0:
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"a\":")
            time.sleep(0.01)
            conn.sendall(b"[1,2]}")
            server.read_request(conn)  # kept: the next request comes on this connection
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: x\n\n")

    server = scripted(script)
    client = client_for(server)
    assert b"".join(get(client)) == b'{"a":[1,2]}'
    assert b"".join(get(client)) == b"data: x\n\n"
    assert b"".join(get(client)) == b"data: x\n\n"
    assert server.connections == 2  # the close-delimited answer's connection was not kept


def test_informational_heads_are_skipped_and_headers_read(scripted):
    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 429 Too Many Requests\r\n"
                     b"Retry-After: 7\r\ncontent-length: 2\r\n\r\nno")

    server = scripted(script)
    with client_for(server).post("/x", b"{}", {}) as response:
        response.send()
        assert (response.status, response.headers["retry-after"], response.read()) == (429, "7", b"no")


@pytest.mark.parametrize("wire", [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
                                  b"SSH-2.0-OpenSSH\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcXY",
                                  b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 3\r\n\r\nabc"])
def test_broken_framing_is_a_protocol_error(scripted, wire):
    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        conn.sendall(wire)
        time.sleep(0.5)

    server = scripted(script)
    with pytest.raises(ProtocolError):
        get(client_for(server))


def test_a_header_with_a_line_break_is_never_sent(scripted):
    server = scripted(lambda conn, n: None)
    with pytest.raises(ProtocolError):
        client_for(server).post("/x", b"{}", {"authorization": "Bearer sk-1\r\nx-injected: 1"})
    assert server.connections == 0


def test_the_adapter_reports_broken_framing_as_a_provider_error(scripted):
    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        conn.sendall(SSE_HEAD + b"zz\r\n")
        time.sleep(0.5)

    server = scripted(script)
    provider = create_provider("openai_compatible", f"http://127.0.0.1:{server.port}/v1", None, name="raw")
    try:
        with pytest.raises(ProviderError, match="broke the connection"):
            collect(provider.stream_chat(ask()))
    finally:
        provider.close()


def test_the_adapter_hands_on_what_one_read_held_as_one_batch(scripted):
    def sse(delta: dict, finish: str | None = None) -> bytes:
        data = json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).encode()
        return chunked(b"data: " + data + b"\n\n")[:-5]

    read = [threading.Event() for _ in range(2)]

    def script(conn: socket.socket, n: int) -> None:
        server.read_request(conn)
        conn.sendall(SSE_HEAD + b"".join(sse({"content": f"t{i}"}) for i in range(5)))  # a burst
        read[0].wait(5)
        conn.sendall(sse({"content": "lone"}))
        read[1].wait(5)
        conn.sendall(sse({}, "stop") + chunked(b"data: [DONE]\n\n"))

    server = scripted(script)
    provider = create_provider("openai_compatible", f"http://127.0.0.1:{server.port}/v1", None, name="raw")
    batches = []
    try:
        for batch in provider.stream_chat_batches(ask()):
            batches.append(batch)
            if len(batches) <= 2:
                read[len(batches) - 1].set()
    finally:
        provider.close()
    assert [[e.text for e in b] for b in batches[:2]] == [[f"t{i}" for i in range(5)], ["lone"]]
    assert [type(e).__name__ for b in batches[2:] for e in b] == ["Finish"]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_sse_events_split_at_any_byte_parse_as_when_whole(newline):
    stream = (b': ping\n\nevent: x\ndata: {"a":1}\n\ndata: one\ndata: two\n\n\ndata:[DONE]\n\nid: 3\ndata: q\n\n'
              b"data: last").replace(b"\n", newline)
    expected = [b'{"a":1}', b"one\ntwo", b"[DONE]", b"q", b"last"]
    assert list(_sse_data([stream], None)) == expected
    rng = random.Random(20)
    for _ in range(500):
        cuts = sorted(rng.sample(range(1, len(stream)), rng.randint(1, 12)))
        reads = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
        assert list(_sse_data(reads, None)) == expected, reads
        batches = list(_sse_batches(reads, None))
        assert all(batches) and len(batches) <= len(reads) + 1  # + the unterminated last event


def test_an_http_1_0_answer_without_keep_alive_is_not_reused(scripted):
    def script(conn: socket.socket, n: int) -> None:
        while server.read_request(conn):
            conn.sendall(b"HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 9\r\n\r\ndata: x\n\n")

    server = scripted(script)
    client = client_for(server)
    assert [get(client), get(client)] == [[b"data: x\n\n"]] * 2
    assert server.connections == 2


def test_only_plain_http_upstreams_stream_through_our_client():
    """A model server on this machine or the LAN (http) is read by stream_client.py; a cloud API (https)
    by httpx, a well-kept client for TLS and the CDNs in front of those APIs."""
    local = create_provider(kind="openai_compatible", name="lan", base_url="http://192.168.1.20:1234/v1", api_key=None)
    cloud = create_provider(kind="openai", name="cloud", base_url="https://api.openai.com/v1", api_key="sk-x")
    try:
        assert local._streams is not None and (local._streams.host, local._streams.port) == ("192.168.1.20", 1234)
        assert cloud._streams is None
    finally:
        local.close()
        cloud.close()
