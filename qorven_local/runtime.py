"""Runtime: the whole running program (context, app, hub, server) started and stopped as one."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Mapping

from qorven_local import __version__
from qorven_local.bootstrap import build_context, ensure_admin_token
from qorven_local.config import Config
from qorven_local.clock import Clock
from qorven_local.context import AppContext
from qorven_local.events.ws import WebSocketGateway, WSLimits
from qorven_local.models import Principal
from qorven_local.memory.warmup import warm_embedder
from qorven_local.server import Server
from qorven_local.web.app import create_app
from qorven_local.web.middleware import UPLOAD_OVERHEAD_BYTES

log = logging.getLogger("qorven")


def start_workers(ctx: AppContext) -> None:
    """Background work that starts once the server is up: the channel worker, the embedder's warm-up and
    the preload of a local default model."""
    ctx.channels.start_worker()
    warm_embedder(ctx.embedder_warm_up)
    ctx.local_preload.start()


def stop_workers(ctx: AppContext) -> None:
    """Before the database closes: stop the channel worker (jobs in progress finish), close provider pools,
    the documents worker, and the MCP servers' sessions and child processes."""
    for stop in (ctx.local_preload.stop, ctx.channels.stop_worker, ctx.providers.close, ctx.documents.close,
                 ctx.mcp.close):
        try:
            stop()
        except Exception:
            log.exception("stopping %s failed", stop.__qualname__)


class Runtime:
    """Build everything under a Config, serve it, stop it cleanly."""

    version = __version__

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock
        self.ctx: AppContext | None = None
        self.server: Server | None = None
        self._stopped = threading.Event()

    def start(self) -> str | None:
        """Open the data root, serve in the background; return the admin token on first start."""
        ctx = self.ctx = build_context(self.config, self.clock)
        if interrupted := ctx.sessions.end_interrupted_answers():
            log.warning("%d answers were cut off when Qorven last stopped; they are marked failed", interrupted)
        token = ensure_admin_token(ctx)
        app = create_app(ctx)
        gateway = WebSocketGateway(ctx.hub, self._authorize_ws, new_request_id=lambda: ctx.ids.new("req"),
                                   dead_tokens=ctx.browser_sessions.dead_among,
                                   admit=ctx.limiter.ws_handshake.take,
                                   limits=WSLimits(max_sessions_per_tenant=self.config.max_sockets_per_tenant))
        self.server = Server(app, host=self.config.host, port=self.config.port, threads=self.config.threads,
                             ws=gateway, max_request_body_size=max(self.config.max_body_bytes * 5,
                                                        self.config.max_upload_bytes + UPLOAD_OVERHEAD_BYTES) + 1024,
                             ident="qorven", header_timeout=self.config.header_timeout,
                             connection_limit=self.config.max_connections)
        self.server.start()
        start_workers(ctx)
        log.info("serving at %s (data %s)", self.url, self.config.home)
        return token

    def _authorize_ws(self, headers: Mapping[str, str], path: str) -> Principal:
        lowered = {k.lower(): v for k, v in headers.items()}
        return self._context().access.authorize(lowered, self.port, "GET", websocket=True)

    def _context(self) -> AppContext:
        if self.ctx is None:
            raise RuntimeError("the runtime is not running")
        return self.ctx

    def _server(self) -> Server:
        if self.server is None:
            raise RuntimeError("the runtime is not serving")
        return self.server

    @property
    def url(self) -> str:
        return self._server().url + "/"

    @property
    def port(self) -> int:
        return self._server().port

    def stop_on_signals(self) -> None:
        """Make SIGINT/SIGTERM request a clean stop (main thread only; call before ``start``).

        Installed before the server is up, so a signal that arrives right after the URL is
        printed still stops cleanly instead of killing the process mid-write.
        """
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: self._stopped.set())

    def wait(self) -> None:
        """Block until a stop is requested (signal or ``request_stop``), then stop cleanly."""
        while not self._stopped.wait(0.5):
            pass
        self.stop()

    def request_stop(self) -> None:
        self._stopped.set()

    def stop(self) -> None:
        self._stopped.set()
        if self.ctx is not None:
            self.ctx.runner.shutdown()  # first: runs in flight get their grace while their streams still deliver
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.ctx is not None:
            stop_workers(self.ctx)
            self.ctx.db.close()
            self.ctx = None
