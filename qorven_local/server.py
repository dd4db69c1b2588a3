"""The HTTP server: waitress on 127.0.0.1, with ``/ws`` upgrades handed to ``events/ws.py``.

Waitress cannot upgrade a connection, so ``WSHandoffChannel`` watches an idle connection's first
request head; when it is ``GET /ws`` (or ``/api/ws``) with ``Upgrade: websocket``, the socket leaves
waitress (without being closed) and goes to ``WebSocketGateway.adopt``. Everything else, SSE
included, stays with waitress and the WSGI app.

Slow clients: waitress reads a request head on its loop thread without a deadline, and a connection
that trickles a byte now and then stays "active", so a few hundred half-sent heads used to fill the
connection limit. ``header_timeout`` closes any connection that has not sent a complete request head
that long after it began one (or after it connected); waitress's ``channel_timeout`` still closes idle
keep-alive connections.

Oversized bodies: waitress answers a body over ``max_request_body_size`` with its own plain-text 413
(no JSON envelope, no ``x-request-id``). ``_OversizedToApp`` instead hands such a request to the app
with an empty body, its size in ``Content-Length`` and ``Connection: close``, so the app's gate answers
the one envelope; the channel then drops the rest of the body unread. The seams are waitress internals, hence the pin
``waitress>=3.0.2,<3.1`` and the seam tests in ``tests/events/test_server.py``. This is the only
module that imports waitress.
"""

from __future__ import annotations

import logging
import math
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.utilities import RequestEntityTooLarge

from qorven_local.events.ws import WebSocketGateway

log = logging.getLogger(__name__)

_WS_REQLINE = re.compile(rb"GET /(?:api/)?ws(?:\?[^ \r\n]*)? HTTP/1\.1\r\n")
_WS_UPGRADE = re.compile(rb"\r\nupgrade:[^\r\n]*\bwebsocket\b", re.IGNORECASE)


class _OversizedToApp(HTTPRequestParser):
    """A request parser that passes a too-large body on to the app as an empty, closing request."""

    # waitress sets ``path`` only once a request line parses, but logs ``request.path`` when a client
    # leaves while its error answer (to an unparseable request) is written: without this default that
    # log line raised AttributeError on the task thread, which printed a traceback
    path = ""

    def __init__(self, adj: Any, on_oversized: Callable[[], None]) -> None:
        super().__init__(adj)
        self.on_oversized = on_oversized

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        if isinstance(getattr(self, "error", None), RequestEntityTooLarge):
            self.error = None
            self.on_oversized()
            size = max(self.content_length, self.body_bytes_received, self.adj.max_request_body_size)
            self.headers["CONTENT_LENGTH"] = str(size)  # over every app limit: the gate refuses it
            self.headers["CONNECTION"] = "close"
            self.close()  # the body buffer; the app reads an empty body
            self.body_rcv = None
            return len(data)  # whatever followed in this read is body too: dropped
        return consumed


class WSHandoffChannel(HTTPChannel):
    """An HTTP channel that gives away a connection whose next request is a /ws upgrade."""

    _ws_head = b""
    _discarding = False  # an oversized request was handed on: the rest of the connection is its body
    socket: socket.socket | None  # waitress's dispatcher attribute (None once closed), untyped there

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # When the request head now being read began (time.time(), like waitress's own stamps);
        # None between requests. A fresh connection owes its first head from the moment it connects.
        self.head_since: float | None = self.creation_time
        self.parser_class = lambda adj: _OversizedToApp(adj, on_oversized=self._discard_rest)

    def _discard_rest(self) -> None:
        self._discarding = True

    def received(self, data: bytes) -> bool:  # runs on waitress's loop thread
        if self.head_since is None and data:
            self.head_since = time.time()
        try:
            return self._receive(data)
        finally:
            if not self._ws_head and (self.request is None or self.request.headers_finished):
                self.head_since = None  # no head pending (a body may be, which channel_timeout watches)

    def _receive(self, data: bytes) -> bool:
        if self._discarding:
            return True
        gateway = self.server.ws_gateway
        if gateway is not None and (self._ws_head or (
                self.request is None and not self.requests and not self.will_close
                and not self.close_when_flushed and b"GET /".startswith(data[:5]))):
            buf = self._ws_head + data
            end = buf.find(b"\r\n\r\n")
            if end < 0 and len(buf) < self.adj.max_request_header_size:
                self._ws_head = buf  # the head is split across reads: wait for the rest
                return True
            self._ws_head = b""
            sock = self.socket
            if (sock is not None and end >= 0 and _WS_REQLINE.match(buf)
                    and _WS_UPGRADE.search(buf, 0, end + 2)):
                # socket = None before anything else: a POLLHUP handled for this channel in the
                # same poll round must not close the socket the session now owns.
                self.socket = None
                self.del_channel()
                self.connected = False
                gateway.adopt(sock, buf, self.addr)
                return True
            data = buf
        return super().received(data)


class _HandoffWSGIServer(TcpWSGIServer):
    channel_class = WSHandoffChannel

    def __init__(self, app: Callable, gateway: WebSocketGateway | None, header_timeout: float | None,
                 **adjustments: Any):
        self.ws_gateway = gateway
        self.header_timeout = header_timeout
        super().__init__(app, **adjustments)

    def maintenance(self, now: float) -> None:
        """waitress's idle sweep, plus closing connections whose request head is overdue."""
        super().maintenance(now)
        if self.header_timeout is None:
            return
        cutoff = now - self.header_timeout
        for channel in self.active_channels.values():
            since = getattr(channel, "head_since", None)
            if since is not None and since < cutoff and not channel.requests:
                channel.will_close = True  # the loop closes it on its next round


class Server:
    """Serves a WSGI app (and ``/ws`` when a gateway is given) on one port.

    ``port=0`` binds an ephemeral port; ``port`` then tells the real one. ``header_timeout``
    (seconds) closes connections slower than that to send a request head. Extra keyword
    arguments are waitress adjustments (e.g. ``channel_timeout``, ``connection_limit``).
    """

    def __init__(self, app: Callable, *, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 8, ws: WebSocketGateway | None = None,
                 header_timeout: float | None = None, **adjustments: Any) -> None:
        self.ws = ws
        if header_timeout is not None:  # the sweep runs every cleanup_interval: often enough to keep the deadline
            adjustments.setdefault("cleanup_interval", max(1, math.ceil(header_timeout / 2)))
        # A look-ahead of one request keeps a busy connection readable, so waitress sees a client that
        # goes away mid-answer (waitress.client_disconnected) and a Stop ends the run at once.
        adjustments.setdefault("channel_request_lookahead", 1)
        self._wsgi = _HandoffWSGIServer(app, ws, header_timeout, host=host, port=port, threads=threads,
                                        asyncore_use_poll=True, **adjustments)
        self.host = str(self._wsgi.effective_host)
        self.port = int(self._wsgi.effective_port)
        self._loop_thread: threading.Thread | None = None
        self._running = threading.Event()
        self._stop_lock = threading.Lock()
        self._stopped = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Server:
        """Serve on a background thread; returns self."""
        self._loop_thread = threading.Thread(target=self.serve_forever, name="qorven-http",
                                             daemon=True)
        self._loop_thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until ``stop()`` is called from another one."""
        self._loop_thread = self._loop_thread or threading.current_thread()
        self._running.set()
        try:
            self._wsgi.run()
        finally:
            self._running.clear()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop in the order that leaves no thread behind; True if everything ended in time.

        1. close the listener (no new connections); 2. close ``/ws`` sessions with 1001 and the
        hub (ends SSE consumers); 3. let in-flight requests finish, then cancel the stragglers'
        connections so a streaming response sees the disconnect; 4. only when the worker threads
        are gone, close the remaining sockets and the trigger (closing them earlier made a
        finishing task hit EBADF on the trigger pipe), which ends the loop.
        """
        with self._stop_lock:
            if self._stopped:
                return True
            self._stopped = True
        deadline = time.monotonic() + timeout
        srv = self._wsgi
        self._on_loop(lambda: wasyncore.dispatcher.close(srv))
        ok = True
        if self.ws is not None:
            ok = self.ws.close(timeout=max(0.0, deadline - time.monotonic()) / 2)
        self._on_loop(self._close_idle_channels)
        dispatcher = srv.task_dispatcher
        dispatcher.set_thread_count(0)
        grace = time.monotonic() + max(0.0, deadline - time.monotonic()) / 2
        if not _wait_workers(dispatcher, grace):
            self._on_loop(self._cancel_channels)
            ok = _wait_workers(dispatcher, deadline) and ok
        dispatcher.shutdown(cancel_pending=True, timeout=0)  # cancel tasks nobody will run
        self._on_loop(lambda: wasyncore.close_all(srv._map))
        if self._loop_thread is not None and self._loop_thread is not threading.current_thread():
            self._loop_thread.join(max(0.05, deadline - time.monotonic()))
            ok = ok and not self._loop_thread.is_alive()
        return ok

    def run_until_signal(self, signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM),
                         timeout: float = 5.0) -> bool:
        """Serve until one of ``signals`` arrives (main thread only), then stop cleanly."""
        stop = threading.Event()
        previous = {s: signal.signal(s, lambda *_: stop.set()) for s in signals}
        try:
            loop_thread = self.start()._loop_thread
            while not stop.wait(0.5) and loop_thread is not None and loop_thread.is_alive():
                pass
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        return self.stop(timeout)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- helpers -----------------------------------------------------------------------------

    def _on_loop(self, thunk: Callable[[], None]) -> None:
        """Run ``thunk`` on the loop thread (waitress's map is not thread-safe) and wait."""
        done = threading.Event()

        def run() -> None:
            try:
                thunk()
            finally:
                done.set()

        if not self._running.is_set() or self._wsgi.trigger._closed:
            run()
            return
        try:
            self._wsgi.trigger.pull_trigger(run)
        except OSError:
            # the trigger pipe closed between the check and the pull (the loop is ending):
            # nothing can wake the loop any more, so do the step here rather than fail the stop
            run()
            return
        if not done.wait(2.0):
            log.warning("waitress loop did not run a shutdown step in time")

    def _close_idle_channels(self) -> None:
        for channel in list(self._wsgi.active_channels.values()):
            if not channel.requests:
                channel.will_close = True  # the loop closes it on its next round

    def _cancel_channels(self) -> None:
        for channel in list(self._wsgi.active_channels.values()):
            channel.cancel()  # write_soon() then raises ClientDisconnected in the worker


def _wait_workers(dispatcher: Any, until: float) -> bool:
    with dispatcher.lock:
        while dispatcher.threads:
            left = until - time.monotonic()
            if left <= 0:
                return False
            dispatcher.thread_exit_cv.wait(min(left, 0.1))
    return True
