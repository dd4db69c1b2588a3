"""Health probes, the OpenAPI document, settings, token rotation, the UI shell and the /ws fallback."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, Callable

import falcon

from qorven_local import __version__
from qorven_local.config import Config
from qorven_local.errors import NotFound, UpgradeRequired
from qorven_local.resources import resource_path
from qorven_local.security.tokens import TokenService
from qorven_local.storage.db import Database
from qorven_local.web import schemas
from qorven_local.web.io import principal, read_body
from qorven_local.web.openapi import build_openapi
from qorven_local.web.spec import Route, operation

SETTINGS = {
    "type": "object",
    "required": ["version", "data_root", "portable", "db_path", "workspace_dir", "tenant_id", "scope"],
    "properties": {"version": {"type": "string"}, "data_root": {"type": "string"},
                   "portable": {"type": "boolean"}, "db_path": {"type": "string"},
                   "workspace_dir": {"type": "string"}, "tenant_id": {"type": "string"},
                   "scope": {"enum": ["admin", "user"]}, "sqlite_version": {"type": "string"},
                   "vec_version": {"type": "string"}, "limits": {"type": "object"}},
}

ROTATED = {
    "type": "object", "required": ["token", "revokes_previous_at"],
    "properties": {"token": {"type": "string", "description": "shown once"},
                   "revokes_previous_at": {"type": "string"}},
}
ROTATE_REQUEST = {
    "type": "object", "additionalProperties": False,
    "properties": {"grace_seconds": {"type": "integer", "minimum": 0, "maximum": 86400 * 30},
                   "label": {"type": "string", "maxLength": 100}},
}


class HealthResource:
    @operation(summary="Liveness and version", tag="health", response=schemas.HEALTH, public=True)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok", "version": __version__}


class LivezResource:
    @operation(summary="200 while the process is up", tag="health", response=schemas.HEALTH, public=True)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok", "version": __version__}


class ReadyzResource:
    """``/readyz``: 200 when every readiness check passes, else 503 with each check's result."""

    def __init__(self, readiness_checks: Callable[[], dict[str, dict[str, Any]]]) -> None:
        self._readiness_checks = readiness_checks

    @operation(summary="200 once migrations ran, sqlite-vec is loaded and the embedder answered; else 503",
               tag="health", response=schemas.READY, public=True, extra_statuses={503: "Not ready yet"})
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks = self._readiness_checks()
        ready = all(c["ok"] for c in checks.values())
        resp.status = 200 if ready else 503
        resp.media = {"status": "ready" if ready else "not_ready", "checks": checks}


class OpenAPIResource:
    """``/openapi.json``: the document for a route table, built on first request."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes = routes
        self._doc: dict[str, Any] | None = None

    @operation(summary="This document (OpenAPI 3.1)", tag="health", response=schemas.ANY_OBJECT, public=True)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._doc is None:
            self._doc = build_openapi(self._routes)
        resp.media = self._doc


class SettingsResource:
    """``/v1/settings``: where the data lives and the limits in force."""

    def __init__(self, config: Config, db: Database) -> None:
        self._config = config
        self._db = db

    @operation(summary="Where the data lives and the limits in force", tag="settings", response=SETTINGS)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cfg = self._config
        who = principal(req)
        resp.media = {
            "version": __version__, "data_root": str(cfg.home), "portable": cfg.portable,
            "db_path": str(cfg.db_path), "workspace_dir": str(cfg.workspace_dir),
            "tenant_id": who.tenant_id, "scope": who.scope, "sqlite_version": self._db.sqlite_version,
            "vec_version": self._db.vec_version,
            "limits": {"rate_ip_rps": cfg.rate_ip_rps, "rate_ip_burst": cfg.rate_ip_burst,
                       "rate_tenant_per_min": cfg.rate_tenant_per_min,
                       "max_runs_per_tenant": cfg.max_runs_per_tenant, "max_body_bytes": cfg.max_body_bytes},
        }


class RotateTokenResource:
    """``/v1/auth/rotate``: a new admin token; the tenant's other admin tokens end after a grace period."""

    def __init__(self, tokens: TokenService) -> None:
        self._tokens = tokens

    @operation(summary="Mint a new admin token; the caller's tenant's other admin tokens are revoked after the "
                       "grace period", tag="auth", request=ROTATE_REQUEST, response=ROTATED, admin=True,
               status=201, body_required=False, errors=("grace_token",))
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, ROTATE_REQUEST) if req.content_length else {}
        who = principal(req)
        token, revoke_at = self._tokens.rotate_admin(who.tenant_id, body.get("label"),
                                                        body.get("grace_seconds", 60), by=who)
        resp.status = 201
        resp.media = {"token": token, "revokes_previous_at": revoke_at}


class WebSocketFallbackResource:
    """A plain GET on /ws (no upgrade reached the hand-off): say so."""

    @operation(summary="WebSocket live events (upgrade only; see the Live events section)", tag="events",
               response=schemas.ERROR, public=True, status=426,
               errors=("upgrade_required", "rate_limited", "too_many_connections"),
               description="The upgrade's refusals: 401 without a valid token, 429 rate_limited when this "
                           "IP's handshakes come too fast (before any token work), 503 too_many_connections "
                           "past the tenant's QORVEN_MAX_SOCKETS_PER_TENANT open sockets; both with Retry-After.")
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        # waitress refuses a hop-by-hop Upgrade header, so only the status says it
        raise UpgradeRequired("connect with a WebSocket client (subprotocols qorven.v1, token.<token>)")


class UIFiles:
    """Serves files of the bundled single-page UI, never outside its folder."""

    def __init__(self) -> None:
        self.root = resource_path("ui").resolve()

    def _send(self, resp: falcon.Response, path: Path) -> None:
        try:
            resolved = path.resolve()
            resolved.relative_to(self.root)
        except (ValueError, OSError):
            raise NotFound("no such file") from None
        if not resolved.is_file():
            raise NotFound("no such file")
        resp.content_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        if resolved.suffix == ".js":
            resp.content_type = "text/javascript; charset=utf-8"
        resp.data = resolved.read_bytes()
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Content-Security-Policy",
                        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' "
                        "'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; "
                        "frame-ancestors 'none'")


class UIResource(UIFiles):
    """``/``: the UI shell."""

    @operation(summary="The UI shell", tag="ui", public=True, content_types=("text/html",))
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._send(resp, self.root / "index.html")


class UIFileResource(UIFiles):
    """``/ui/<path>``: the UI's other files."""

    @operation(summary="A UI file", tag="ui", public=True, content_types=("text/html",))
    def on_get(self, req: falcon.Request, resp: falcon.Response, path: str) -> None:
        self._send(resp, self.root / path)
