"""An HTTP/1.1 client for one job: POST a JSON body to a plain-``http`` upstream (a model server on this
machine or the LAN: Ollama, LM Studio, llama.cpp, vLLM) and read the streamed answer, on kept-alive sockets.

Why not httpx here: httpx parses the body with h11, one event (and about ten Python frames) per
HTTP chunk, and upstreams send one chunk per token; that cost ~12 µs of the proxy's ~20 µs per
streamed token. This client reads whatever the socket holds (one ``recv``) and strips the chunk
framing of all of it with ``bytes.find``, so a burst of tokens costs one pass, not one per chunk.
httpx still makes every other request, this one too behind an HTTP(S) proxy, and every request to an
``https`` upstream (``http.py``): a cloud API's tokens come slowly enough that httpx's per-chunk cost
does not matter there, and TLS, HTTP/2 and the quirks of CDNs in front of cloud APIs are better left to
a well-kept client.

It does no redirects (none are followed anywhere for a provider), no compression (it asks for
``identity``), no HTTP/2. A kept socket is reused only when its last answer was read to the end and
it still looks open; a request whose reused socket turns out closed before any answer byte is
retried once on a fresh one (the server dropped an idle connection, as servers do).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from typing import Callable, Iterator

IDLE_EXPIRY_S = 5.0   # as httpcore: servers drop idle connections after a few seconds
READ_SIZE = 65536
MAX_HEAD = 65536


class UpstreamConnectError(OSError):
    """The upstream could not be reached (refused, no route, DNS)."""


class ConnectTimeout(TimeoutError):
    """The upstream did not accept the connection in time."""


class ProtocolError(Exception):
    """The upstream's answer is not HTTP/1.1 as we read it (bad status line, chunk size, head too long)."""


class StreamClient:
    """Kept-alive sockets to one origin (scheme, host, port), and the requests made on them."""

    def __init__(self, host: str, port: int, *, connect_timeout: float, read_timeout: float,
                 write_timeout: float = 30.0, max_idle: int = 16) -> None:
        self.host, self.port = host, port
        self._host_header = (f"[{host}]" if ":" in host else host) + ("" if port == 80 else f":{port}")
        self.connect_timeout, self.read_timeout, self.write_timeout = connect_timeout, read_timeout, write_timeout
        self._idle: list[tuple[socket.socket, float]] = []  # (socket, when it became idle)
        self._max_idle = max_idle
        self._lock = threading.Lock()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> StreamResponse:
        """A request, not sent yet: ``send()`` it (``abort()`` works from then on, from any thread)."""
        return StreamResponse(self, self._request_head(path, len(body), headers) + body)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sock, _ in idle:
            _close(sock)

    def _request_head(self, path: str, length: int, headers: dict[str, str]) -> bytes:
        lines = [f"POST {path} HTTP/1.1", f"Host: {self._host_header}", "Content-Type: application/json",
                 f"Content-Length: {length}", "Accept-Encoding: identity", "User-Agent: qorven-local"]
        for name, value in headers.items():
            if any(c in name or c in value for c in "\r\n\0"):  # header injection, e.g. a pasted key with a newline
                raise ProtocolError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _socket(self) -> tuple[socket.socket, bool]:
        """An open kept socket (True) or a new one (False)."""
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._idle:
                    break
                sock, since = self._idle.pop()
            if now - since < IDLE_EXPIRY_S and not _readable(sock):  # readable when idle: closed by the server
                return sock, True
            _close(sock)
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError:
            raise ConnectTimeout(f"no connection to {self.host}:{self.port} within {self.connect_timeout} s") from None
        except OSError as exc:
            raise UpstreamConnectError(str(exc)) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, False

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append((sock, time.monotonic()))
                return
        _close(sock)


class _StaleConnection(Exception):
    """A reused socket was closed by the server before it answered (retried on a new one)."""


class StreamResponse:
    """One request and its answer: ``send()``, then ``status`` and ``headers`` (lower-case names), then
    the body from ``iter_body``/``read``.

    Use it as a context manager: a body read to its end gives the socket back for the next request,
    anything else closes it. ``abort()`` (from another thread) wakes a read blocked on the socket.
    """

    status: int
    headers: dict[str, str]

    def __init__(self, client: StreamClient, request: bytes) -> None:
        self._client, self._request = client, request
        self._sock: socket.socket | None = None
        self._aborted = False
        self._done = False      # the body was read to its end
        self._reusable = True   # the server allows the socket another request
        self._http10 = False
        self._buf = b""

    def send(self) -> None:
        """Send the request and read the answer's head (on a kept socket when one is open)."""
        client = self._client
        while True:
            if self._aborted:
                raise ConnectionAbortedError("the request was cancelled")
            sock, reused = client._socket()
            self._sock = sock
            try:
                sock.settimeout(client.write_timeout)
                try:
                    sock.sendall(self._request)
                except OSError:
                    if not reused:
                        raise
                    raise _StaleConnection() from None
                sock.settimeout(client.read_timeout)
                buf = b""
                while True:  # 1xx heads (103 Early Hints...) come before the real one
                    buf, status, headers = self._read_head(buf, reused)
                    reused = False
                    if status >= 200:
                        break
            except _StaleConnection:
                self._sock = None
                _close(sock)  # the server had dropped it: try again on a fresh one
                continue
            self.status, self.headers, self._buf = status, headers, buf
            connection = headers.get("connection", "").lower()
            if connection == "close" or (self._http10 and connection != "keep-alive"):
                self._reusable = False
            return

    def _read_head(self, buf: bytes, reused: bool) -> tuple[bytes, int, dict[str, str]]:
        assert self._sock is not None
        recv = self._sock.recv
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buf) > MAX_HEAD:
                raise ProtocolError("the answer's head is too long")
            data = recv(READ_SIZE)
            if not data:
                if reused and not buf:
                    raise _StaleConnection()
                raise ConnectionError("the connection closed before the answer's head")
            buf += data
        lines = buf[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
        self._http10 = parts[0] == "HTTP/1.0"  # closes after the answer unless it says keep-alive
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise ProtocolError("a header line without a colon")
            name, value = name.strip().lower(), value.strip()
            headers[name] = headers[name] + ", " + value if name in headers else value
        return buf[end + 4:], int(parts[1]), headers

    def __enter__(self) -> StreamResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._done and self._reusable and not self._aborted:  # aborted: a late abort() may still shut it down
            self._client._keep(sock)
        else:
            _close(sock)

    def abort(self) -> None:
        """Shut the socket down: a ``recv`` blocked on it returns at once (close alone would not wake it)."""
        self._aborted = True
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def read(self, limit: int | None = None) -> bytes:
        """The body (its first ``limit`` bytes at most: an error answer's message)."""
        out = b""
        for piece in self.iter_body():
            out += piece
            if limit is not None and len(out) >= limit:
                self._reusable = False  # the rest is left unread
                return out[:limit]
        return out

    def iter_body(self) -> Iterator[bytes]:
        """The body's bytes, framing removed: one piece per socket read, however many chunks it held."""
        encoding = self.headers.get("content-encoding", "identity").lower()
        if encoding not in ("identity", ""):
            raise ProtocolError(f"the answer is compressed ({encoding[:20]}) though identity was asked for")
        if self.status in (204, 304):
            self._done = True
            return iter(())
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._chunked()
        length = self.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise ProtocolError(f"content-length {length[:20]!r}")
            return self._sized(int(length))
        self._reusable = False  # the body ends when the server closes the connection
        return self._until_close()

    def _chunked(self) -> Iterator[bytes]:
        buf, self._buf = self._buf, b""
        assert self._sock is not None
        recv = self._sock.recv
        left = 0          # bytes of the current chunk's data still to come
        crlf = False      # the current chunk's data is done; its CRLF is next
        while True:
            pos, out = 0, []
            while True:
                if left:
                    piece = buf[pos:pos + left]
                    out.append(piece)
                    left -= len(piece)
                    pos += len(piece)
                    if left:
                        break  # the chunk goes on in the next read
                    crlf = True
                if crlf:
                    if len(buf) - pos < 2:
                        break
                    if buf[pos:pos + 2] != b"\r\n":
                        raise ProtocolError("a chunk not followed by CRLF")
                    pos += 2
                    crlf = False
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    if len(buf) - pos > 1024:
                        raise ProtocolError("a chunk size line too long")
                    break
                try:
                    size = int(buf[pos:eol], 16)
                except ValueError:  # a chunk extension (";name=value"), or no size at all
                    try:
                        size = int(buf[pos:eol].split(b";", 1)[0], 16)
                    except ValueError:
                        raise ProtocolError("a chunk size that is not hexadecimal") from None
                if size < 0:
                    raise ProtocolError("a negative chunk size")
                if size == 0:  # the last chunk, then trailers (usually none) and a blank line
                    end = buf.find(b"\r\n\r\n", eol) if buf[eol + 2:eol + 4] != b"\r\n" else eol
                    if end >= 0:
                        if out:
                            yield b"".join(out)
                        self._done = True
                        if end + 4 != len(buf):
                            self._reusable = False  # bytes after the answer: the socket is out of step
                        return
                    break
                pos, left = eol + 2, size
            if out:
                yield out[0] if len(out) == 1 else b"".join(out)
            buf = buf[pos:]
            data = recv(READ_SIZE)
            if not data:
                raise ConnectionError("the connection closed in the middle of the answer")
            buf = buf + data if buf else data

    def _sized(self, length: int) -> Iterator[bytes]:
        buf, self._buf = self._buf, b""
        if len(buf) > length:
            self._reusable = False
            buf = buf[:length]
        got = len(buf)
        if buf:
            yield buf
        assert self._sock is not None
        recv = self._sock.recv
        while got < length:
            data = recv(min(READ_SIZE, length - got))
            if not data:
                raise ConnectionError("the connection closed in the middle of the answer")
            got += len(data)
            yield data
        self._done = True

    def _until_close(self) -> Iterator[bytes]:
        buf, self._buf = self._buf, b""
        if buf:
            yield buf
        assert self._sock is not None
        recv = self._sock.recv
        while True:
            data = recv(READ_SIZE)
            if not data:
                self._done = True
                return
            yield data


def _readable(sock: socket.socket) -> bool:
    """True when an idle socket has something to read: the server closed it (or sent stray bytes)."""
    try:
        if hasattr(select, "poll"):  # select() fails on descriptors past FD_SETSIZE (1024)
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
