"""The real app in the test process on Falcon's ``TestClient``: no socket, no server thread.

``FastApp.open`` wires the app the way ``Runtime.start`` in ``qorven_local/runtime.py`` does, up to
the point where the Runtime hands it to waitress: the real context on a real SQLite file, the first
admin token, ``create_app``. When that wiring changes, this is the one place to follow
it. No background workers are started (channel outbox, embedder warm-up): resources that need the
embedder load it on first use, once per process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from falcon import App
from falcon.testing import TestClient

from qorven_local.bootstrap import build_context, ensure_admin_token
from qorven_local.config import DEFAULT_TENANT, load_config
from qorven_local.context import AppContext
from qorven_local.runtime import stop_workers
from qorven_local.web.app import create_app
from tests.support.servers import TEST_LIMITS

# The Host guard accepts a loopback name without a port when the request arrived on port 80, which
# is the port TestClient reports.
LOOPBACK_HOST = "127.0.0.1"


class FastApp:
    """One built app over a data root, with clients for its admin token, other tokens or none."""

    def __init__(self, ctx: AppContext, app: App, admin_token: str) -> None:
        self.ctx = ctx
        self.app = app
        self.admin_token = admin_token

    @classmethod
    def open(cls, home: Path, settings: dict[str, Any] | None = None) -> FastApp:
        """Build the context and the app under ``home`` exactly as the Runtime would."""
        values = {**TEST_LIMITS, **(settings or {}), "home": str(home), "port": "0"}
        ctx = build_context(load_config({k: str(v) for k, v in values.items()}, env={}))
        token = ensure_admin_token(ctx)
        assert token is not None, f"{home} already had tokens: the fast tier wants a fresh data root"
        return cls(ctx, create_app(ctx), token)

    def client(self, token: str | None = "admin", headers: dict[str, str] | None = None) -> TestClient:
        """A TestClient sending ``Authorization: Bearer <token>`` (the admin's by default; None: no token)."""
        defaults = {"Host": LOOPBACK_HOST, **(headers or {})}
        if token == "admin":
            token = self.admin_token
        if token:
            defaults["Authorization"] = f"Bearer {token}"
        return TestClient(self.app, headers=defaults)

    def issue_token(self, scope: str = "user", tenant: str = DEFAULT_TENANT) -> str:
        """A new token of ``scope`` for ``tenant`` (the tenant is created on first use)."""
        return self.ctx.tokens.issue(tenant, scope, label=f"fast-tier {scope}")

    def close(self) -> None:
        """Stop the workers and close the database, as ``Runtime.stop`` does."""
        stop_workers(self.ctx)
        self.ctx.db.close()
