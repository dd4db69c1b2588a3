"""Live MCP client sessions, all on one asyncio event-loop thread of our own.

The app is threaded WSGI; the MCP SDK's client sessions are asyncio and their transports are anyio
context managers that must be entered and left by the same task. So each connection is one
long-lived task on this module's loop (``_hold``) that opens the transport and the
``ClientSession``, hands the session out and waits for its stop signal; request threads submit
``list_tools``/``call_tool`` coroutines to the loop and wait on the future with a time limit.

Stdio servers are child processes started on first use (the SDK's ``stdio_client``); their stderr
goes to ``<logs>/mcp/<server id>.log`` and its last line explains a failure. Before each use a live
stdio session answers a ping; one that does not (the process crashed or was killed) is closed and
started again, so the call after a crash reaches a fresh process. HTTP servers go through the
SDK's streamable-HTTP client with the server's headers.

A server's tools may change: when it says so (``notifications/tools/list_changed``) and whenever a
call had to start its session again (a restarted process may be a newer version), the tools are
listed again in the background and handed to the ``on_tools`` callback, which stores them. A call
that outlives its time limit is cancelled on the server (``notifications/cancelled``) and the
session stays open for the next call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Coroutine, TypeVar

from qorven_local.mcp.sdk import load_sdk
from qorven_local.mcp.types import McpToolSpec

log = logging.getLogger(__name__)

T = TypeVar("T")
PING_TIMEOUT_S = 2.0         # a live local process answers a ping in milliseconds
CLOSE_TIMEOUT_S = 5.0        # the SDK gives a child 2 s to exit on closed stdin, then terminates it
MAX_TOOL_PAGES = 20          # tools/list pages read at most (a bounded loop over a foreign server)
STDERR_TAIL_BYTES = 2000
REQUEST_TIMEOUT = 408        # the SDK's error code when its own read timeout fires


class McpConnectionError(Exception):
    """The server could not be reached, started or did not answer in time; the message says why."""


class McpCallTimeout(McpConnectionError):
    """One tool call did not finish in time; the server itself is still connected."""


ToolsListener = Callable[[str, list[McpToolSpec]], None]


@dataclass(frozen=True)
class Endpoint:
    """How to reach one server (secrets decrypted); ``key`` is the server id."""

    key: str
    transport: str
    command: str | None = None
    args: tuple[str, ...] = ()
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """Changes whenever any setting changes, so a stale session is replaced."""
        text = json.dumps([self.transport, self.command, list(self.args), self.cwd, self.env, self.url, self.headers],
                          sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class _Live:
    session: Any                  # mcp.ClientSession
    task: asyncio.Task[None]
    stop: asyncio.Event
    fingerprint: str
    transport: str
    timeout: float
    calls: int = 0                # calls in flight: a server busy with one may not answer a ping meanwhile


class McpConnections:
    """The event-loop thread and every open MCP client session, keyed by server id."""

    def __init__(self, logs_dir: Path, on_tools: ToolsListener | None = None) -> None:
        self.logs_dir = logs_dir / "mcp"
        self.on_tools = on_tools          # called (on a worker thread) with a server's fresh tool listing
        self._background: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._live: dict[str, _Live] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._closed = False

    # -- the loop thread ------------------------------------------------------------------------
    def _running_loop(self) -> asyncio.AbstractEventLoop:
        load_sdk()  # before the loop's coroutines import the SDK
        with self._start_lock:
            if self._closed:
                raise McpConnectionError("the app is stopping")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="mcp-loop", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _submit(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait at most ``timeout`` seconds for it."""
        future = asyncio.run_coroutine_threadsafe(coro, self._running_loop())
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise McpConnectionError(f"no answer within {timeout:g} s") from None

    # -- public, called from request threads -----------------------------------------------------
    def list_tools(self, endpoint: Endpoint, timeout: float) -> list[McpToolSpec]:
        """Connect (or reuse the session) and read the server's whole tool listing."""
        return self._submit(self._list_tools(endpoint, timeout), timeout + 1)

    def call_tool(self, endpoint: Endpoint, tool: str, arguments: dict[str, Any], timeout: float) -> Any:
        """Call one tool; answers the SDK's ``CallToolResult``. Connection trouble raises McpConnectionError."""
        return self._submit(self._call_tool(endpoint, tool, arguments, timeout), timeout + 1)

    def close(self, key: str) -> None:
        """Stop one server's session (its child process exits); nothing to do when none is open."""
        loop = self._loop
        if loop is None or key not in self._live:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(key), loop).result(CLOSE_TIMEOUT_S + 1)
        except Exception:  # stopping must not fail the caller's request
            log.warning("closing MCP server %s did not finish cleanly", key, exc_info=True)

    def close_all(self) -> None:
        """Stop every session and the loop thread (the app is stopping)."""
        with self._start_lock:
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close_all(), loop).result(CLOSE_TIMEOUT_S + 2)
        except Exception:
            log.warning("closing the MCP sessions did not finish cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(CLOSE_TIMEOUT_S)

    def is_open(self, key: str) -> bool:
        live = self._live.get(key)
        return live is not None and not live.task.done()

    # -- on the loop ----------------------------------------------------------------------------
    async def _list_tools(self, endpoint: Endpoint, timeout: float) -> list[McpToolSpec]:
        return await _all_tools(await self._session(endpoint, timeout), timeout)

    def _relist_soon(self, key: str) -> None:
        """List the tools of ``key``'s live session in the background and hand them to ``on_tools``."""
        task = asyncio.get_running_loop().create_task(self._relist(key), name=f"mcp-relist-{key}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _relist(self, key: str) -> None:
        live = self._live.get(key)
        if live is None or self.on_tools is None:
            return
        try:
            specs = await _all_tools(live.session, live.timeout)
            await asyncio.to_thread(self.on_tools, key, specs)
        except Exception:  # the next test or call shows what is wrong; nothing waits on this one
            log.info("listing the tools of MCP server %s again failed", key, exc_info=True)

    async def _call_tool(self, endpoint: Endpoint, tool: str, arguments: dict[str, Any], timeout: float) -> Any:
        from mcp.shared.exceptions import McpError
        from mcp.types import CONNECTION_CLOSED

        live = await self._live_session(endpoint, timeout, relist=True)
        session = live.session
        request_id = getattr(session, "_request_id", None)  # the id the SDK gives this call, to cancel it
        live.calls += 1
        try:
            # the SDK's own read timeout is set past ours, so a late answer is always our timeout
            return await asyncio.wait_for(
                session.call_tool(tool, arguments, read_timeout_seconds=timedelta(seconds=timeout + 5)), timeout)
        except asyncio.TimeoutError:
            await _cancel(session, request_id, f"no answer within {timeout:g} s")
            raise McpCallTimeout(f"{tool} did not finish within {timeout:g} s (QORVEN_MCP_TIMEOUT)") from None
        except Exception as exc:
            if isinstance(exc, McpError) and exc.error.code == REQUEST_TIMEOUT:
                await _cancel(session, request_id, f"no answer within {timeout:g} s")
                raise McpCallTimeout(f"{tool} did not finish within {timeout:g} s (QORVEN_MCP_TIMEOUT)") from None
            if isinstance(exc, McpError) and exc.error.code != CONNECTION_CLOSED:  # a JSON-RPC error answer
                self._relist_soon(endpoint.key)  # e.g. a tool the server no longer has: learn its tools now
                raise McpConnectionError(f"the server refused the call: {exc.error.message}") from None
            await self._close(endpoint.key)  # the connection broke (mid-call crash): the next call restarts
            raise McpConnectionError(self._explain(endpoint, exc)) from None
        finally:
            live.calls -= 1

    async def _session(self, endpoint: Endpoint, timeout: float) -> Any:
        return (await self._live_session(endpoint, timeout)).session

    async def _live_session(self, endpoint: Endpoint, timeout: float, relist: bool = False) -> _Live:
        """The endpoint's live session: reused when it answers, else (re)started. ``relist``: a session
        started here has its tools listed again in the background (the caller does not list them)."""
        lock = self._locks.setdefault(endpoint.key, asyncio.Lock())
        async with lock:
            live = self._live.get(endpoint.key)
            if live is not None and (live.task.done() or live.fingerprint != endpoint.fingerprint()
                                     or not await self._answers(live)):
                await self._close(endpoint.key)
                live = None
            if live is None:
                live = await self._open(endpoint, timeout)
                self._live[endpoint.key] = live
                if relist:
                    self._relist_soon(endpoint.key)
            return live

        cursor: str | None = None
    @staticmethod
    async def _answers(live: _Live) -> bool:
        """A stdio session is probed (its process may have died); HTTP ones fail on use and reconnect then."""
        if live.transport != "stdio" or live.calls:
            # a server busy with a call (one that blocks, say) may not answer the ping until it is done:
            # a crash meanwhile fails that call, which closes the session
            return True
        try:
            await asyncio.wait_for(live.session.send_ping(), PING_TIMEOUT_S)
            return True
        except Exception:
            log.info("an MCP stdio server stopped answering; starting it again")
            return False

    async def _open(self, endpoint: Endpoint, timeout: float) -> _Live:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Any] = loop.create_future()
        stop = asyncio.Event()
        task = loop.create_task(self._hold(endpoint, ready, stop, timeout), name=f"mcp-{endpoint.key}")
        try:
            session = await asyncio.wait_for(asyncio.shield(ready), timeout)
        except asyncio.TimeoutError:
            task.cancel()
            raise McpConnectionError(self._explain(endpoint, f"the server did not start within {timeout:g} s")) \
                from None
        except Exception as exc:
            if endpoint.transport == "http" and str(exc) == "Session terminated":
                # the SDK's reading of a 404 to initialize (404 means "session gone" in the protocol)
                exc = McpConnectionError(f"the server answered HTTP 404 Not Found at {endpoint.url}: is that its "
                                         "MCP endpoint?")
            raise McpConnectionError(self._explain(endpoint, exc)) from None
        return _Live(session=session, task=task, stop=stop, fingerprint=endpoint.fingerprint(),
                     transport=endpoint.transport, timeout=timeout)

    async def _hold(self, endpoint: Endpoint, ready: asyncio.Future[Any], stop: asyncio.Event,
                    timeout: float) -> None:
        """Open the transport and session, hand the session out, and keep both open until ``stop``."""
        from mcp import ClientSession

        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport(endpoint, stack))
                session = await stack.enter_async_context(
                    ClientSession(read, write, read_timeout_seconds=timedelta(seconds=timeout),
                                  message_handler=self._notifications(endpoint.key)))
                await session.initialize()
                ready.set_result(session)
                await stop.wait()
        except BaseException as exc:  # anyio wraps failures in groups; the caller gets the first cause
            if not ready.done():
                ready.set_exception(first_cause(exc) if isinstance(exc, Exception) else
                                    McpConnectionError("the connection was cancelled"))
            elif not isinstance(exc, asyncio.CancelledError):
                log.info("MCP server %s connection ended: %s", endpoint.key, first_cause(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise

    def _notifications(self, key: str) -> Any:  # the SDK's MessageHandlerFnT
        """The session's handler of what the server sends unasked: a changed tool list is listed again."""
        async def handle(message: Any) -> None:
            from mcp import types

            if isinstance(message, types.ServerNotification) and \
                    isinstance(message.root, types.ToolListChangedNotification):
                self._relist_soon(key)  # not awaited here: this runs inside the session's reader
        return handle

    def _transport(self, endpoint: Endpoint, stack: AsyncExitStack) -> Any:
        """The SDK transport context manager; it yields (read, write) streams (HTTP: plus a session-id getter)."""
        if endpoint.transport == "stdio":
            from mcp.client.stdio import StdioServerParameters, stdio_client

            self.logs_dir.mkdir(parents=True, exist_ok=True)
            errlog = stack.enter_context(open(self._stderr_path(endpoint), "w", encoding="utf-8"))
            params = StdioServerParameters(command=endpoint.command or "", args=list(endpoint.args),
                                           env=dict(endpoint.env) or None, cwd=endpoint.cwd)
            return stdio_client(params, errlog=errlog)
        return _http_streams(endpoint, stack)

    def _stderr_path(self, endpoint: Endpoint) -> Path:
        return self.logs_dir / f"{endpoint.key}.log"

    def _explain(self, endpoint: Endpoint, exc: BaseException | str) -> str:
        """Why a connection failed, with the last line the child wrote to stderr when there is one."""
        text = exc if isinstance(exc, str) else describe_failure(exc)
        if endpoint.transport == "stdio":
            tail = _last_line(self._stderr_path(endpoint))
            if tail and tail not in text:
                text += f" (stderr: {tail})"
        return text[:500]

    async def _close(self, key: str) -> None:
        live = self._live.pop(key, None)
        if live is None:
            return
        live.stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(live.task), CLOSE_TIMEOUT_S)
        except BaseException:
            live.task.cancel()

    async def _close_all(self) -> None:
        for task in list(self._background):  # a listing under way is of no use to a stopping app
            task.cancel()
        await asyncio.gather(*(self._close(key) for key in list(self._live)), *self._background,
                             return_exceptions=True)


async def _all_tools(session: Any, timeout: float) -> list[McpToolSpec]:
    """A session's whole tool listing (every page, within bounds)."""
    specs: list[McpToolSpec] = []
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        page = await asyncio.wait_for(session.list_tools(cursor=cursor), timeout)
        specs.extend(McpToolSpec(name=t.name, description=t.description or "",
                                 input_schema=dict(t.inputSchema or {})) for t in page.tools)
        cursor = page.nextCursor
        if not cursor:
            break
    return specs


async def _cancel(session: Any, request_id: Any, reason: str) -> None:
    """Tell the server to stop working on a call we no longer wait for (best effort)."""
    if not isinstance(request_id, int):
        return
    from mcp import types

    try:
        await asyncio.wait_for(session.send_notification(types.ClientNotification(types.CancelledNotification(
            params=types.CancelledNotificationParams(requestId=request_id, reason=reason)))), PING_TIMEOUT_S)
    except Exception:
        log.info("could not cancel a timed-out MCP call", exc_info=True)


def _http_streams(endpoint: Endpoint, stack: AsyncExitStack) -> Any:
    """The SDK's streamable-HTTP client over an httpx client carrying the server's headers."""
    from contextlib import asynccontextmanager

    import httpx
    from mcp.client.streamable_http import streamable_http_client

    @asynccontextmanager
    async def streams() -> Any:
        async with httpx.AsyncClient(headers=endpoint.headers, follow_redirects=False,
                                     timeout=httpx.Timeout(30.0, read=300.0)) as client:
            async with streamable_http_client(endpoint.url or "", http_client=client) as (read, write, _):
                yield read, write
    return streams()


def describe_failure(exc: BaseException) -> str:
    """One line saying why a connection failed (the first cause of an exception group)."""
    return _describe(first_cause(exc))


def first_cause(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (anyio task groups wrap what went wrong)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException) -> str:
    import httpx

    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, McpConnectionError):
        return str(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        status, url = exc.response.status_code, exc.request.url
        if status in (401, 403):
            return f"the server refused the credentials (HTTP {status}): check the headers (Authorization)"
        return f"the server answered HTTP {status} {exc.response.reason_phrase} at {url}: is that its MCP endpoint?"
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return f"nothing answers there ({exc}): is the server running, and is the URL right?"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


def _last_line(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - STDERR_TAIL_BYTES))
            lines = [ln.strip() for ln in fh.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""
