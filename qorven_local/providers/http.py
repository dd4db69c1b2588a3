"""The HTTP plumbing the HTTP adapters share: one httpx client, timeouts, error mapping, SSE parsing,
cancellation of a blocked read. httpx and httpcore are imported on first use (start-up time).

Streamed answers from plain-``http`` upstreams (model servers on this machine or the LAN) go through
``stream_client.py`` (our own HTTP/1.1 reader: httpx's per-chunk parsing was most of the proxy's CPU
per token); httpx streams from ``https`` upstreams and behind an HTTP(S) proxy.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from qorven_local.errors import ProviderError, ProviderTimeout, retry_after_seconds
from qorven_local.providers.events import ModelInfo
from qorven_local.providers.stream_client import ConnectTimeout, ProtocolError, StreamClient, UpstreamConnectError
from qorven_local.security.redaction import redact, secret_pattern

if TYPE_CHECKING:
    import httpx


class HTTPProvider:
    """Base of the HTTP adapters: one httpx.Client, explicit timeouts, no redirects, error mapping.

    The key only ever travels in headers built by ``_auth_headers``; every message we raise is
    scrubbed of it, because upstream error bodies sometimes echo the key they were given (as is,
    URL-encoded or base64-encoded: ``security/redaction.py``).
    """

    kind = "http"

    def __init__(self, *, name: str, base_url: str, api_key: str | None = None,
                 connect_timeout: float = 10.0, read_timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        import urllib.request

        import httpx

        self.name = name
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key or None
        self._key_pattern = secret_pattern(self._api_key)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        # Streamed answers (the per-token hot path) are read by our own client, everything else by httpx.
        self._streams: StreamClient | None = None
        if transport is None and not urllib.request.getproxies():
            url = httpx.URL(self.base_url)
            if url.scheme == "http" and url.host:  # https (cloud APIs): httpx streams, see stream_client.py
                self._streams = StreamClient(url.host, url.port or 80, connect_timeout=connect_timeout,
                                             read_timeout=read_timeout)
        # else: behind HTTP(S)_PROXY httpx streams too; cancel then waits for the answer's head
        # (its socket is known from then on).
        self._client = httpx.Client(
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=30.0,
                                  pool=connect_timeout),
            follow_redirects=False,  # a redirect could carry the key to another host
            limits=limits,
            transport=transport,
        )

    def __repr__(self) -> str:  # never show the key
        return f"<{type(self).__name__} {self.name!r} {self.base_url}>"

    def close(self) -> None:
        self._client.close()
        if self._streams is not None:
            self._streams.close()

    def _auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    def _label(self) -> str:
        return f"provider {self.name!r} ({self.kind})"

    def _scrub(self, text: str) -> str:
        return redact(text, self._key_pattern)

    def list_models(self) -> list[ModelInfo]:
        raise NotImplementedError

    def check(self) -> dict[str, Any]:
        """List the models: proves the host answers and accepts the key (raises otherwise)."""
        import httpx

        started = time.perf_counter()
        models = self.list_models()
        return {"ok": True, "provider": self.name, "kind": self.kind,
                "host": httpx.URL(self.base_url).host, "models": len(models),
                "latency_ms": round((time.perf_counter() - started) * 1000, 1)}

    # -- requests ---------------------------------------------------------------------------

    def _get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """GET and parse JSON, mapping every failure to ProviderError/ProviderTimeout."""
        return self._request_json("GET", url, params=params)

    def _post_json(self, url: str, body: dict[str, Any]) -> Any:
        """POST ``body`` and parse the JSON answer, failures mapped as ``_get_json`` maps them."""
        return self._request_json("POST", url, json=body)

    def _request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        import httpx

        try:
            resp = self._client.request(method, url, headers=self._auth_headers(), **kwargs)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if resp.status_code >= 300:
            raise self._status_error(resp.status_code, resp.headers, resp.text)
        try:
            return resp.json()
        except ValueError:
            raise ProviderError(f"{self._label()} answered {url} with invalid JSON",
                                details={"provider": self.name}) from None

    def _stream_sse(self, url: str, body: dict[str, Any],
                    cancel: threading.Event | None) -> Iterator[bytes]:
        """POST ``body`` and yield each SSE event's data (bytes) until the stream or ``cancel`` ends it.

        A JSON answer (a server that does not stream) is yielded whole, as a single item.
        """
        for batch in self._stream_sse_batches(url, body, cancel):
            yield from batch

    def _stream_sse_batches(self, url: str, body: dict[str, Any],
                            cancel: threading.Event | None) -> Iterator[list[bytes]]:
        """``_stream_sse``'s data, one list per socket read: what arrived together, to be sent on together."""
        if self._streams is None:
            yield from self._stream_sse_httpx(url, body, cancel)
            return
        import httpx

        headers = self._auth_headers()
        headers["accept"] = "text/event-stream"
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        try:
            response = self._streams.post(httpx.URL(url).raw_path.decode("ascii"), payload, headers)
        except ProtocolError as exc:
            raise self._socket_error(exc) from None
        ticket = _WATCHER.watch(cancel, response.abort) if cancel is not None else None
        try:
            with response:
                response.send()
                yield from self._answer_batches(response.status, response.headers, response.read,
                                                response.iter_body(), cancel)
        except (OSError, ProtocolError) as exc:
            if cancel is not None and cancel.is_set():
                return  # we broke the connection ourselves
            raise self._socket_error(exc) from None
        finally:
            if ticket is not None:
                _WATCHER.unwatch(ticket)

    def _stream_sse_httpx(self, url: str, body: dict[str, Any],
                          cancel: threading.Event | None) -> Iterator[list[bytes]]:
        """``_stream_sse`` through httpx: behind an HTTP(S) proxy, or on a transport given by the caller."""
        import httpx

        headers = self._auth_headers()
        headers["accept"] = "text/event-stream"
        sockets: list[socket.socket | None] = []  # known once the answer's head is in
        ticket = _WATCHER.watch(cancel, lambda: _shut_down(sockets[0]) if sockets else None) \
            if cancel is not None else None
        try:
            with self._client.stream("POST", url, json=body, headers=headers) as resp:
                sockets.append(_socket_of(resp))
                yield from self._answer_batches(resp.status_code, resp.headers, lambda limit: resp.read()[:limit],
                                                resp.iter_bytes(), cancel)
        except httpx.HTTPError as exc:
            if cancel is not None and cancel.is_set():
                return  # we broke the connection ourselves
            raise self._transport_error(exc) from None
        finally:
            if ticket is not None:
                _WATCHER.unwatch(ticket)

    def _answer_batches(self, status: int, headers: Any, read: Callable[[int | None], bytes],
                        body: Iterable[bytes], cancel: threading.Event | None) -> Iterator[list[bytes]]:
        """The answer to a streamed request, whichever client read its head: an error status raised with
        the start of its body (``read(4096)``), a JSON answer (a server that ignored stream=true) whole
        (``read(None)``), else the SSE data of ``body`` in lists of what each read held."""
        if status >= 300:
            raise self._status_error(status, headers, read(4096).decode("utf-8", "replace"))
        if headers.get("content-type", "").startswith("application/json"):
            yield [read(None)]
            return
        yield from _sse_batches(body, cancel)

    # -- error mapping ----------------------------------------------------------------------

    def _transport_error(self, exc: httpx.HTTPError) -> ProviderError | ProviderTimeout:
        import httpx

        url = httpx.URL(self.base_url)
        # host:port, the port spelled out even when it is the scheme's: a wrong port is the usual mistake
        host = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
        if isinstance(exc, httpx.TimeoutException):
            return ProviderTimeout(f"{self._label()} timed out ({type(exc).__name__})",
                                   details={"provider": self.name})
        if isinstance(exc, httpx.ConnectError):
            return ProviderError(f"{self._label()} is unreachable at {host}",
                                 details={"provider": self.name})
        return ProviderError(f"{self._label()} broke the connection ({type(exc).__name__})",
                             details={"provider": self.name})

    def _socket_error(self, exc: OSError | ProtocolError) -> ProviderError | ProviderTimeout:
        """``_transport_error`` for a failure of our own stream client."""
        if isinstance(exc, TimeoutError):
            phase = "connect" if isinstance(exc, ConnectTimeout) else "read"
            return ProviderTimeout(f"{self._label()} timed out ({phase})", details={"provider": self.name})
        if isinstance(exc, UpstreamConnectError):
            assert self._streams is not None
            return ProviderError(f"{self._label()} is unreachable at {self._streams.host}:{self._streams.port}",
                                 details={"provider": self.name})
        return ProviderError(f"{self._label()} broke the connection ({type(exc).__name__})",
                             details={"provider": self.name})

    def _status_error(self, status: int, headers: httpx.Headers | dict[str, str], text: str) -> ProviderError:
        upstream = self._scrub(_error_message(text))[:500]
        details: dict[str, Any] = {"provider": self.name, "status": status}
        if upstream:
            details["upstream_message"] = upstream
        retry_after = retry_after_seconds(headers.get("retry-after"))
        if retry_after is not None:
            details["retry_after"] = retry_after
        if status == 401:
            msg = f"{self._label()} rejected the API key (401); check the key in its settings"
        elif status == 403:  # a valid key without access (model, region, org), not a bad key
            msg = f"{self._label()} refused access (403)" + (f": {upstream}" if upstream else "")
        elif status == 429:
            msg = f"{self._label()} is rate limiting requests (429)"
        elif status in (301, 302, 303, 307, 308):
            msg = f"{self._label()} answered with a redirect ({status}); check its base URL"
        else:
            msg = f"{self._label()} answered {status}" + (f": {upstream}" if upstream else "")
        return ProviderError(msg, retry_after=retry_after, details=details)

    def _check_finished(self, finished: bool, cancel: threading.Event | None) -> None:
        """Raise when a stream ended without its finish event, unless the caller cancelled it."""
        if not finished and not (cancel is not None and cancel.is_set()):
            raise self._stream_error("ended the stream before finishing the answer")

    def _stream_error(self, reason: str, **details: Any) -> ProviderError:
        # upstream codes and types travel in the details and may echo the key as much as the message
        shown = {name: self._scrub(value) if isinstance(value, str) else value for name, value in details.items()}
        return ProviderError(f"{self._label()} {self._scrub(reason)}"[:600],
                             details={"provider": self.name, **shown})


def _error_message(text: str) -> str:
    """The human part of an upstream error body (OpenAI and Anthropic both use error.message)."""
    try:
        err = json.loads(text).get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
    except (ValueError, AttributeError):
        pass
    return text.strip()


def _sse_data(chunks: Iterable[bytes], cancel: threading.Event | None) -> Iterator[bytes]:
    """Yield the data of each server-sent event."""
    for batch in _sse_batches(chunks, cancel):
        yield from batch


def _sse_batches(chunks: Iterable[bytes], cancel: threading.Event | None) -> Iterator[list[bytes]]:
    """The data of the server-sent events each read completes, one list per read (never empty);
    cheap on purpose (bytes, no decoding, no regex)."""
    buf = b""
    data: list[bytes] = []  # the data lines of an event still open (the line-by-line path)
    for chunk in chunks:
        if cancel is not None and cancel.is_set():
            return
        if buf:
            chunk = buf + chunk
        batch: list[bytes] = []
        if not data and b"\r" not in chunk:
            # the common case: LF line ends, so a blank line is "\n\n" and an event is what lies between
            events = chunk.split(b"\n\n")
            buf = events.pop()  # the start of an event still to be finished, or b""
            for event in events:
                if event[:6] == b"data: " and b"\n" not in event:
                    batch.append(event[6:])
                elif event:
                    lines = [line[6:] if line[5:6] == b" " else line[5:]
                             for line in event.split(b"\n") if line[:5] == b"data:"]
                    if lines:  # event:, id:, retry: and ": ping" comments carry nothing we need
                        batch.append(b"\n".join(lines))
        else:
            lines = chunk.split(b"\n")
            buf = lines.pop()
            for line in lines:
                if line[-1:] == b"\r":
                    line = line[:-1]
                if not line:  # a blank line dispatches the event
                    if data:
                        batch.append(data[0] if len(data) == 1 else b"\n".join(data))
                        data = []
                elif line[:5] == b"data:":
                    data.append(line[6:] if line[5:6] == b" " else line[5:])
        if batch:
            yield batch
    # The spec drops an unterminated last event; we keep it, as some servers end without "\n\n".
    for line in buf.split(b"\n"):
        line = line.rstrip(b"\r")
        if line[:5] == b"data:":
            data.append(line[6:] if line[5:6] == b" " else line[5:])
    if data:
        yield [b"\n".join(data)]


# -- cancellation --------------------------------------------------------------------------------
# A reader blocked in recv() (waiting for headers or the next chunk) only wakes when its socket is
# shut down; close() alone does not wake it. So the watcher shuts the request's socket down on cancel.

def _socket_of(resp: httpx.Response) -> socket.socket | None:
    stream = resp.extensions.get("network_stream")
    return stream.get_extra_info("socket") if stream is not None else None


def _shut_down(sock: socket.socket | None) -> None:
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


class _CancelWatcher:
    """One daemon thread that aborts requests whose cancel event is set (checked every 0.2 s).

    A single shared thread, rather than one per stream, because waitress already spends a thread
    on every open stream.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self._interval = interval
        self._watched: dict[int, tuple[threading.Event, Callable[[], None]]] = {}
        self._next = 0
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, cancel: threading.Event, abort: Callable[[], None]) -> int:
        """Call ``abort`` (wake the request's blocked read) once ``cancel`` is set, until unwatched."""
        with self._lock:
            self._next += 1
            self._watched[self._next] = (cancel, abort)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="provider-cancel-watcher",
                                                daemon=True)
                self._thread.start()
            self._lock.notify()
            return self._next

    def unwatch(self, ticket: int) -> None:
        with self._lock:
            self._watched.pop(ticket, None)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._watched:
                    self._lock.wait()
                # Due entries stay until unwatched: a request still connecting has no socket
                # yet, so it is aborted on a later tick.
                due = [abort for cancel, abort in self._watched.values() if cancel.is_set()]
            for abort in due:
                abort()
            time.sleep(self._interval)


_WATCHER = _CancelWatcher()
