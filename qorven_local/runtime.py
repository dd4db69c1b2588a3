"""Runtime: the whole running program (context, app, hub, server) started and stopped as one."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from qorven_local import __version__
from qorven_local.bootstrap import build_context, ensure_admin_token
from qorven_local.channels.service import start_channel_worker, stop_channel_worker
from qorven_local.config import Config
from qorven_local.clock import Clock
from qorven_local.context import AppContext
from qorven_local.events.ws import WebSocketGateway
from qorven_local.memory.service import warm_embedder
from qorven_local.server import Server
from qorven_local.web.app import create_app
from qorven_local.web.errors import envelope_bytes

log = logging.getLogger("qorven")

def close_providers(ctx: AppContext) -> None:
    """Close the provider adapters' HTTP pools."""
    if ctx.providers is not None:
        ctx.providers.close()


STARTUP_HOOKS: list[Any] = [start_channel_worker, warm_embedder]  # callables (ctx) run after the server is up (workers)
SHUTDOWN_HOOKS: list[Any] = [stop_channel_worker, close_providers]  # callables (ctx) run before the database closes


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
        token = ensure_admin_token(ctx)
        app = create_app(ctx)
        gateway = WebSocketGateway(ctx.hub, self._authorize_ws, new_request_id=lambda: ctx.ids.new("req"),
                                   render_error=envelope_bytes)
        self.server = Server(app, host=self.config.host, port=self.config.port, threads=self.config.threads,
                             ws=gateway, max_request_body_size=self.config.max_body_bytes * 5 + 1024,
                             ident="qorven")
        self.server.start()
        for hook in STARTUP_HOOKS:
            hook(ctx)
        log.info("serving at %s (data %s)", self.url, self.config.home)
        return token

    def _authorize_ws(self, headers, path: str):
        lowered = {k.lower(): v for k, v in headers.items()}
        return self.ctx.access.authorize(lowered, self.server.port, "GET", websocket=True)

    @property
    def url(self) -> str:
        return self.server.url + "/"

    @property
    def port(self) -> int:
        return self.server.port

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
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.ctx is not None:
            for hook in SHUTDOWN_HOOKS:
                try:
                    hook(self.ctx)
                except Exception:
                    log.exception("shutdown hook failed")
            self.ctx.db.close()
            self.ctx = None
