"""``/ws``: WebSocket sessions on websockets' sans-io ``ServerProtocol``, one thread each.

Waitress cannot upgrade a connection, so ``server.py`` hands one whose first request head is a
WebSocket upgrade to ``WebSocketGateway.adopt(sock, head, addr)``. The session thread then owns the
socket: it authorizes the head *before* the upgrade (``AccessPolicy.authorize()`` in
``security/access.py``, which the Falcon middleware uses too), answers 101 or the error envelope,
and runs the I/O loop: client messages, hub events, keep-alive pings, the send timeout, the
bounded queue and the close handshake.

Client -> server: ``{"type": "subscribe"|"unsubscribe", "topics": [...]}``, ``{"type": "ping"}``.
Server -> client: ``subscribed``/``unsubscribed`` (the topics asked for), ``pong``, hub events
(``{"type": "event", ...}``, see ``hub.py``) and ``{"type": "error", "code", "message"}``.
Close codes: 1001 server stopping, 1011 no pong in time, 1013 client too slow (queue overflow),
4401 token revoked (revoked, expired or past its rotation grace; checked about every second).

Admission, in order: the process-wide session cap (503 at once), the per-IP handshake rate (``admit``,
429, before any token work, so refused handshakes count too), ``authorize``, then the per-tenant
session cap (503): one token cannot hold every session of the process.
"""

from __future__ import annotations

import http
import itertools
import json
import logging
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from qorven_local.errors import (InternalError, MethodNotAllowed, QorvenError, RateLimited, TooManyConnections,
                                 UpgradeRequired, ValidationError, envelope_bytes)
from qorven_local.events.hub import Hub, Subscription
from qorven_local.security.ratelimit import ConcurrencyCap, Slot

log = logging.getLogger(__name__)

SUBPROTOCOL = Subprotocol("qorven.v1")


class Authenticated(Protocol):
    """Whom ``authorize`` found behind a handshake: the tenant whose events the session gets."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def token_id(self) -> str | None: ...


Authorize = Callable[[Mapping[str, str], str], Authenticated]
DeadTokens = Callable[[set[str]], set[str]]  # of these token ids, those that no longer authenticate
CLOSE_TOKEN_REVOKED = 4401  # like HTTP 401: reconnecting with the same token will not work
Admit = Callable[[str], object]  # charge one handshake from a client IP; raises QorvenError to refuse it


def _select_subprotocol(protocol: ServerProtocol, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    # The default rejects clients that offer no subprotocol; we accept them (header auth) and
    # never echo the token entry.
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


class HeaderView(Mapping[str, str]):
    """Read-only, case-insensitive view of request headers; repeated fields joined with ', '."""

    def __init__(self, headers: Headers) -> None:
        self._d: dict[str, str] = {}
        for name, value in headers.raw_items():
            key = name.lower()
            self._d[key] = f"{self._d[key]}, {value}" if key in self._d else value

    def __getitem__(self, key: str) -> str:
        return self._d[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._d

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


def _too_many_sessions() -> QorvenError:
    return TooManyConnections("Too many live-event connections; retry later.", retry_after=1)


_HANDSHAKE_ERRORS: dict[int, type[QorvenError]] = {
    405: MethodNotAllowed, 426: UpgradeRequired, 500: InternalError}


def _handshake_error(status: int, exc: BaseException | None) -> QorvenError:
    """Map websockets' own handshake refusals (bad key, bad version...) onto our error tree."""
    cls = _HANDSHAKE_ERRORS.get(status, ValidationError)
    return cls(f"WebSocket handshake failed: {exc or http.HTTPStatus(status).phrase}")


@dataclass(frozen=True)
class WSLimits:
    """Runtime limits of ``/ws`` sessions (seconds, counts, bytes)."""

    max_sessions: int = 1000
    max_sessions_per_tenant: int = 1000  # the product passes its setting (max_sockets_per_tenant, 32)
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    send_timeout: float = 10.0       # no byte accepted by the socket for this long: drop
    close_timeout: float = 2.0       # close handshake deadline
    max_queue: int = 1024            # hub events waiting per client; overflow closes 1013
    max_out_bytes: int = 1 << 20     # serialized bytes waiting per client before we stop draining
    max_message_bytes: int = 1 << 16
    token_recheck: float = 1.0       # how often open sessions' tokens are checked for revocation


class WebSocketGateway:
    """Owns the ``/ws`` sessions: the hub, the shared ``authorize`` and the limits.

    ``authorize(headers, path)`` gets a case-insensitive header mapping and the request path
    (with query); it returns a principal with a ``tenant_id`` or raises ``QorvenError``
    (ForbiddenHost/ForbiddenOrigin -> 403, Unauthorized -> 401), answered before the upgrade.
    With ``dead_tokens``, a watcher thread asks it every ``limits.token_recheck`` seconds which of
    the open sessions' tokens stopped working, and closes those sessions with 4401.
    """

    def __init__(self, hub: Hub, authorize: Authorize, *, limits: WSLimits = WSLimits(),
                 clock: Callable[[], float] = time.monotonic,
                 new_request_id: Callable[[], str] | None = None,
                 dead_tokens: DeadTokens | None = None, admit: Admit | None = None) -> None:
        self.hub = hub
        self.limits = limits
        self._authorize = authorize
        self._admit = admit
        self._dead_tokens = dead_tokens
        self._watcher: threading.Thread | None = None
        self._stop_watch = threading.Event()
        self._clock = clock
        self._new_request_id = new_request_id or (lambda: "req_" + secrets.token_hex(12))
        self._lock = threading.Lock()
        self._sessions: set[_Session] = set()
        self._tenant_sessions = ConcurrencyCap("live-event connections", limits.max_sessions_per_tenant)
        self._closing = False
        self._ids = itertools.count(1)
        self._stats = dict.fromkeys(("accepted", "rejected", "refused_busy", "closed_slow",
                                     "closed_no_pong", "send_timeouts", "closed_revoked"), 0)

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    def stats(self) -> dict[str, int]:
        """Counters since start, plus ``active`` sessions."""
        with self._lock:
            return {"active": len(self._sessions), **self._stats}

    def adopt(self, sock: socket.socket, head: bytes, addr: Any) -> None:
        """Take over a connection whose buffered bytes ``head`` hold a complete upgrade head.

        Runs on waitress's loop thread, so it only starts the session thread (or refuses at
        once with 503 past the session cap or while stopping)."""
        try:
            session: _Session | None = _Session(self, sock, head, addr, next(self._ids))
        except OSError:  # out of descriptors for the wake pair: refuse like the cap does
            session = None
        with self._lock:
            if session is not None and (self._closing or
                                        len(self._sessions) >= self.limits.max_sessions):
                session.release_wake()
                session = None
            if session is not None:
                # started under the lock, so close() never sees (and joins) a session whose thread
                # has not started yet
                try:
                    session.thread.start()
                except RuntimeError:  # can't start a thread: refuse like the cap does
                    session.release_wake()
                    session = None
            if session is not None:
                self._sessions.add(session)
                self._start_watcher()
                return
        self._count("refused_busy")
        _send_and_close(sock, self._error_bytes(_too_many_sessions(), self._new_request_id()))

    def close(self, timeout: float = 5.0) -> bool:
        """Refuse new sessions, close open ones with 1001, close the hub (ends in-process
        consumers such as SSE streams too); True if every session thread ended in time."""
        with self._lock:
            self._closing = True
            sessions = list(self._sessions)
            watcher = self._watcher
        self._stop_watch.set()
        for s in sessions:
            s.stop()
        self.hub.close()
        deadline = time.monotonic() + timeout
        if watcher is not None:  # it reads the database, which closes after us
            watcher.join(max(0.0, deadline - time.monotonic()))
        for s in sessions:
            s.thread.join(max(0.0, deadline - time.monotonic()))
        return not any(s.thread.is_alive() for s in sessions)

    def _start_watcher(self) -> None:
        """Start the token watcher with the first session (caller holds the lock)."""
        if self._dead_tokens is None or self._watcher is not None:
            return
        self._watcher = threading.Thread(target=self._watch_tokens, name="qorven-ws-tokens", daemon=True)
        self._watcher.start()

    def _watch_tokens(self) -> None:
        """Close the sessions whose token stopped working; one query per tick for all sessions."""
        assert self._dead_tokens is not None
        while not self._stop_watch.wait(self.limits.token_recheck):  # ends with close()
            with self._lock:
                sessions = [s for s in self._sessions if s.token_id is not None]
            if not sessions:
                continue
            try:
                dead = self._dead_tokens({s.token_id for s in sessions if s.token_id is not None})
            except Exception:  # a busy database: the next tick asks again
                log.exception("checking the /ws sessions' tokens failed")
                continue
            for s in sessions:
                if s.token_id in dead:
                    s.revoke()

    def _forget(self, session: _Session) -> None:
        with self._lock:
            self._sessions.discard(session)
        if session.tenant_slot is not None:
            session.tenant_slot.release()

    def _count(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    def _error_bytes(self, err: QorvenError, request_id: str) -> bytes:
        body = envelope_bytes(err, request_id)
        status = http.HTTPStatus(err.status)
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body)),
                   "Connection": "close", "x-request-id": request_id, **err.headers}
        if err.retry_after:
            headers["Retry-After"] = str(err.retry_after)
        head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        return head.encode("latin-1") + body


def _send_and_close(sock: socket.socket, data: bytes) -> None:
    # A fresh socket's send buffer takes a small response whole; never block the caller.
    try:
        sock.setblocking(False)
        sock.send(data)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        sock.close()


class _Closed(Exception):
    """The peer is gone (reset, broken pipe): stop without a close handshake."""


class _Session:
    """One WebSocket connection and its thread."""

    def __init__(self, gateway: WebSocketGateway, sock: socket.socket, head: bytes, addr: Any,
                 number: int) -> None:
        self.gw = gateway
        self.sock = sock
        self.addr = addr
        self._head = head
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = False
        self._revoked = False
        self.token_id: str | None = None  # set by the accepted handshake
        self.tenant_slot: Slot | None = None  # the session's place in its tenant's cap, once authorized
        self.sub: Subscription | None = None
        self.p = ServerProtocol(subprotocols=[SUBPROTOCOL], select_subprotocol=_select_subprotocol,
                                max_size=gateway.limits.max_message_bytes)
        self._out = bytearray()
        self._eof_pending = self._eof_sent = False
        self._closing_slow = False  # closing with 1013: the close frame waits behind the backlog
        self._fragments: list[bytes] | None = None
        self._ping_sent_at: float | None = None
        self._pings = itertools.count()
        self.thread = threading.Thread(target=self._run, name=f"qorven-ws-{number}", daemon=True)

    def wake(self) -> None:
        """Make the loop look at the subscription and the stop flag (any thread, never blocks)."""
        try:
            self._wake_w.send(b"\0")
        except OSError:  # buffer full: already awake; closed: session over
            pass

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    def revoke(self) -> None:
        """The session's token stopped working: close with 4401 (any thread)."""
        self._revoked = True
        self.wake()

    def release(self) -> None:
        if self.sub is not None:
            self.sub.close()
        try:
            self.sock.close()
        except OSError:
            pass
        self.release_wake()

    def release_wake(self) -> None:
        for s in (self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass

    def _run(self) -> None:
        try:
            self.sock.setblocking(False)
            if self._handshake():
                self._loop()
        except _Closed:
            pass
        except Exception:  # a bug must not take the process down; the socket is closed below
            log.exception("websocket session from %s failed", self.addr)
        finally:
            self.release()
            self.gw._forget(self)

    # --- opening handshake -------------------------------------------------------------------

    def _handshake(self) -> bool:
        p, gw = self.p, self.gw
        p.receive_data(self._head)
        self._head = b""
        events = p.events_received()
        if not events or not isinstance(events[0], Request):
            self._queue_output()  # websockets queued EOF for an unparsable head
            self._flush_before(gw._clock() + gw.limits.send_timeout)
            return False
        request = events[0]
        request_id = gw._new_request_id()
        try:
            if gw._admit is not None:
                gw._admit(_client_ip(self.addr))
            principal = gw._authorize(HeaderView(request.headers), request.path)
            tenant_id = principal.tenant_id
            self.token_id = principal.token_id
        except QorvenError as err:
            return self._refuse(err, request_id)
        except Exception:
            log.exception("authorize() failed for a websocket handshake")
            return self._refuse(InternalError(f"Internal error (request {request_id})."),
                                request_id)
        try:
            self.tenant_slot = gw._tenant_sessions.acquire(tenant_id)
        except RateLimited:  # a socket past the cap is refused like the process-wide cap refuses it
            return self._refuse(TooManyConnections(
                f"This token's tenant already holds {gw.limits.max_sessions_per_tenant} live-event "
                f"connections; close one or retry later.", retry_after=1), request_id)
        response = p.accept(request)
        if response.status_code != 101:
            return self._refuse(_handshake_error(response.status_code, p.handshake_exc),
                                request_id)
        response.headers["x-request-id"] = request_id
        self.sub = gw.hub.subscribe(tenant_id, on_wake=self.wake, max_queue=gw.limits.max_queue)
        p.send_response(response)
        gw._count("accepted")
        return True

    @property
    def _subscription(self) -> Subscription:
        """The hub subscription, which exists from the accepted handshake on (so in the loop)."""
        if self.sub is None:
            raise RuntimeError("the /ws session has no subscription before its handshake")
        return self.sub

    def _refuse(self, err: QorvenError, request_id: str) -> bool:
        self.gw._count("rejected")
        self._out += self.gw._error_bytes(err, request_id)
        self._eof_pending = True
        self._flush_before(self.gw._clock() + self.gw.limits.send_timeout)
        return False

    # --- the I/O loop ------------------------------------------------------------------------

    def _loop(self) -> None:
        p, lim, clock = self.p, self.gw.limits, self.gw._clock
        waiter = _Waiter(self.sock, self._wake_r)
        now = clock()
        self._next_ping = now + lim.ping_interval
        self._last_progress = now
        closing_since: float | None = None
        while True:
            self._queue_output()
            self._flush(now)
            if p.state is State.CLOSED and (not self._out or self._eof_sent):
                return
            # The close handshake's deadline runs from when our close frame is out. A 1013 close
            # queues its frame behind the backlog the slow client has not read: until that is sent,
            # send_timeout (no progress) rules, or the client would never see why it was dropped.
            if closing_since is None and p.close_expected() and not (self._closing_slow and self._out):
                closing_since = now
            if closing_since is not None and now - closing_since >= lim.close_timeout:
                return
            if self._out and now - self._last_progress >= lim.send_timeout:
                self.gw._count("send_timeouts")
                return
            deadlines = [self._ping_sent_at + lim.ping_timeout if self._ping_sent_at is not None
                         else self._next_ping]
            if self._out:
                deadlines.append(self._last_progress + lim.send_timeout)
            if closing_since is not None:
                deadlines.append(closing_since + lim.close_timeout)
            readable, woken = waiter.wait(bool(self._out) and not self._eof_sent,
                                          min(deadlines) - now)
            if woken:
                _drain(self._wake_r)
            now = clock()
            if readable:
                self._receive(now)
            if p.state is State.OPEN:
                self._duties(now)

    def _receive(self, now: float) -> None:
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""  # reset by peer: same as EOF
        if not data:
            self.p.receive_eof()
            self.p.events_received()
            if self._out and not self._eof_sent:  # the peer left; what we owe it is moot
                self._out.clear()
            return
        self.p.receive_data(data)
        for frame in self.p.events_received():
            if isinstance(frame, Frame):  # after the handshake the protocol yields only frames
                self._on_frame(frame, now)

    def _on_frame(self, frame: Frame, now: float) -> None:
        op, data = frame.opcode, bytes(frame.data)  # bytes() of bytes is the same object
        if op is Opcode.PONG:
            self._ping_sent_at = None
            self._next_ping = now + self.gw.limits.ping_interval
        elif op is Opcode.TEXT or op is Opcode.BINARY:
            self._fragments = [data] if op is Opcode.TEXT else None
            if frame.fin:
                self._on_message(data if op is Opcode.TEXT else None)
        elif op is Opcode.CONT:
            if self._fragments is not None:
                self._fragments.append(data)
            if frame.fin:
                parts, self._fragments = self._fragments, None
                self._on_message(b"".join(parts) if parts is not None else None)
        # PING and CLOSE are answered by the protocol object itself.

    def _on_message(self, raw: bytes | None) -> None:
        try:
            msg = json.loads(raw) if raw is not None else None
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            return self._send_error(ValidationError("messages must be JSON objects (text frames)"))
        kind = msg.get("type")
        if kind == "ping":
            return self._send({"type": "pong"})
        if kind in ("subscribe", "unsubscribe"):
            topics = msg.get("topics")
            if not isinstance(topics, list) or not topics:
                return self._send_error(ValidationError("topics must be a non-empty list",
                                                        param="topics"))
            sub = self._subscription
            try:
                sub.add(topics) if kind == "subscribe" else sub.remove(topics)
            except QorvenError as err:
                return self._send_error(err)
            except TypeError:  # unhashable entries in the list
                return self._send_error(ValidationError("topics must be strings", param="topics"))
            return self._send({"type": kind + "d", "topics": list(dict.fromkeys(topics))})
        return self._send_error(ValidationError(f"unknown message type {kind!r}", param="type"))

    def _duties(self, now: float) -> None:
        """Stop, overflow and keep-alive checks, then move hub events into the out buffer."""
        p, lim, sub = self.p, self.gw.limits, self._subscription
        if self._stopping or sub.closed:
            return p.send_close(1001, "server stopping")
        if self._revoked:
            self.gw._count("closed_revoked")
            return p.send_close(CLOSE_TOKEN_REVOKED, "token revoked")
        if sub.overflowed:
            self.gw._count("closed_slow")
            self._closing_slow = True
            return p.send_close(1013, "client too slow")
        if self._ping_sent_at is not None:
            if now - self._ping_sent_at >= lim.ping_timeout:
                self.gw._count("closed_no_pong")
                return p.fail(1011, "keepalive ping timeout")
        elif now >= self._next_ping:
            p.send_ping(next(self._pings).to_bytes(4, "big"))
            self._ping_sent_at = now
        # Stop draining while the socket lags: the hub queue then fills and overflows (1013).
        while len(self._out) < lim.max_out_bytes:
            batch = sub.drain(limit=64)
            if not batch:
                break
            for event in batch:
                p.send_text(_dumps(event))
            self._queue_output()

    def _send(self, obj: dict[str, Any]) -> None:
        if self.p.state is State.OPEN:
            self.p.send_text(_dumps(obj))

    def _send_error(self, err: QorvenError) -> None:
        self._send({"type": "error", "code": err.code, "message": err.message})

    # --- output ------------------------------------------------------------------------------

    def _queue_output(self) -> None:
        for chunk in self.p.data_to_send():
            if chunk:
                self._out += chunk
            else:
                self._eof_pending = True

    def _flush(self, now: float) -> None:
        """Send what the socket takes now; half-close once everything owed went out."""
        if self._out and not self._eof_sent:
            try:
                sent = self.sock.send(self._out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                raise _Closed from exc
            if sent:
                del self._out[:sent]
                self._last_progress = now
        if self._eof_pending and not self._out and not self._eof_sent:
            self._eof_sent = True
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _flush_before(self, deadline: float) -> None:
        waiter = _Waiter(self.sock, None)
        while self._out or (self._eof_pending and not self._eof_sent):
            now = self.gw._clock()
            if now >= deadline:
                return
            self._flush(now)
            if self._out:
                waiter.wait(True, deadline - now)


def _client_ip(addr: Any) -> str:
    """The IP of a socket peer address (waitress hands ``(host, port)``; tests may hand a string)."""
    return str(addr[0]) if isinstance(addr, tuple) and addr else str(addr)


def _dumps(obj: Any) -> bytes:
    # default=str: one odd value in an event's data must not kill the session.
    return json.dumps(obj, separators=(",", ":"), default=str).encode()


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


class _Waiter:
    """Wait for the session socket (and the wake socket) with poll(), select() where absent."""

    def __init__(self, sock: socket.socket, wake: socket.socket | None) -> None:
        self._sock, self._wake = sock, wake
        self._poll = select.poll() if hasattr(select, "poll") else None
        self._want_write: bool | None = None
        if self._poll is not None and wake is not None:
            self._poll.register(wake, select.POLLIN)

    def wait(self, want_write: bool, timeout: float) -> tuple[bool, bool]:
        """Return (socket readable or hung up, woken)."""
        timeout = min(max(timeout, 0.0), 1.0)  # a 1 s tick bounds any missed deadline
        if self._poll is None:
            rl = [self._sock] + ([self._wake] if self._wake is not None else [])
            r, w, x = select.select(rl, [self._sock] if want_write else [], [self._sock], timeout)
            return (self._sock in r or self._sock in x), (self._wake in r)
        if want_write != self._want_write:
            flags = select.POLLIN | (select.POLLOUT if want_write else 0)
            self._poll.register(self._sock, flags)  # re-registering modifies
            self._want_write = want_write
        readable = woken = False
        for fd, ev in self._poll.poll(timeout * 1000):
            if self._wake is not None and fd == self._wake.fileno():
                woken = True
            elif ev & (select.POLLIN | select.POLLHUP | select.POLLERR | select.POLLNVAL):
                readable = True
        return readable, woken
