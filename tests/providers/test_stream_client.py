"""Our HTTP/1.1 reader for streamed answers, against a real socket server that writes exactly the bytes
each test scripts: chunk framing split anywhere, bursts, kept and dropped connections, other framings."""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable, Iterator

import pytest

from qorven_local.errors import ProviderError
from qorven_local.providers.events import collect
from qorven_local.providers.kinds import create_provider
from qorven_local.providers.stream_client import ProtocolError, StreamClient
from tests.providers.conftest import ask

Script = Callable[[socket.socket, int], None]  # (accepted connection, its number from 0)


class ScriptedServer:
    """A loopback TCP server that runs ``script(conn, n)`` for each accepted connection."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            n, self.connections = self.connections, self.connections + 1
            threading.Thread(target=self._run, args=(conn, n), daemon=True).start()

    def _run(self, conn: socket.socket, n: int) -> None:
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self._script(conn, n)
            except OSError:
                pass

    def read_request(self, conn: socket.socket) -> bytes:
        """One request (head and Content-Length body), or b"" when the client closed the connection."""
        data = b""
        while b"\r\n\r\n" not in data:
            piece = conn.recv(65536)
            if not piece:
                return b""
            data += piece
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        while len(body) < length:
            body += conn.recv(65536)
        self.requests.append(head)
        return head

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def scripted() -> Iterator[Callable[[Script], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def client_for(server: ScriptedServer, read_timeout: float = 5.0) -> StreamClient:
    return StreamClient("http", "127.0.0.1", server.port, connect_timeout=2.0, read_timeout=read_timeout)


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
                                  b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcXY"])
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
