"""Raw-socket helpers for the seam tests: exact bytes on the wire, websockets' sans-io client."""

from __future__ import annotations

import socket
import struct
import time

from websockets.client import ClientProtocol
from websockets.http11 import Response
from websockets.uri import parse_uri


def open_socket(port, rcvbuf=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    return sock


def upgrade_request(port, path="/ws", headers=(("Authorization", "Bearer tok-a"),)):
    """(ClientProtocol, request bytes) for a WebSocket upgrade with extra headers."""
    proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}{path}"))
    request = proto.connect()
    for name, value in headers:
        request.headers[name] = value
    proto.send_request(request)
    return proto, b"".join(proto.data_to_send())


def read_response(sock, proto, timeout=5.0):
    """Feed the socket into proto until the handshake response arrives; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            proto.receive_eof()
        else:
            proto.receive_data(data)
        for event in proto.events_received():
            if isinstance(event, Response):
                return event
        if not data:
            break
    raise AssertionError("no handshake response")


def send_text(sock, proto, text):
    proto.send_text(text.encode())
    sock.sendall(b"".join(proto.data_to_send()))


def recv_frames(sock, proto, count=1, timeout=5.0):
    """Read until ``count`` data frames arrived (pongs answered by proto are sent back)."""
    frames = []
    deadline = time.monotonic() + timeout
    while len(frames) < count and time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            proto.receive_eof()
            break
        proto.receive_data(data)
        frames += [f for f in proto.events_received() if f.opcode in (1, 2)]
        out = b"".join(d for d in proto.data_to_send() if d)
        if out:
            sock.sendall(out)
    return frames


def read_until_eof(sock, proto, timeout=5.0):
    """Read without answering anything until the server closes; return the close code seen."""
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    while time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            break
        proto.receive_data(data)
        proto.events_received()
    proto.receive_eof()
    return proto.close_rcvd.code if proto.close_rcvd else None


def reset(sock):
    """Close with RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def http_exchange(sock, raw):
    """Send one raw HTTP request on a keep-alive socket; return (status, body) of the reply."""
    sock.sendall(raw)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, "connection closed early"
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), body
