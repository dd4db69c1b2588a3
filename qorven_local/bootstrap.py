"""Build the AppContext: open the data root and database, migrate, create the first admin token."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.agents.runner import AgentRunner
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.channels.service import ChannelService
from qorven_local.config import DEFAULT_TENANT, Config
from qorven_local.clock import Clock, IdFactory
from qorven_local.context import AppContext
from qorven_local.events.hub import Hub
from qorven_local.memory.service import MemoryService
from qorven_local.providers.local_gguf import LocalOptions, default_allowed_roots
from qorven_local.providers.registry import ProviderRegistry
from qorven_local.rooms.service import RoomService
from qorven_local.security.ratelimit import RateLimiter
from qorven_local.security.secrets import SecretBox
from qorven_local.security.tokens import TokenService
from qorven_local.storage.db import Database
from qorven_local.storage.migrations import migrate, pending_migrations
from qorven_local.tools.builtin import default_registry
from qorven_local.tools.service import ToolService

log = logging.getLogger("qorven")


def setup_logging(config: Config) -> None:
    """Log to <home>/logs/qorven.log (rotated) and warnings to stderr. Tokens and keys are never logged.

    One file handler per process, moved to the newest data root, so a second Runtime in the same
    process (tests, a restart) writes into its own folder rather than the first one's.
    """
    root = logging.getLogger("qorven")
    root.setLevel(config.log_level.upper())
    target = str(config.logs_dir / "qorven.log")
    for handler in list(root.handlers):
        if getattr(handler, "_qorven", None) == "file":
            if handler.baseFilename == os.path.abspath(target):
                return
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(target, maxBytes=5_000_000, backupCount=3,
                                                        encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler._qorven = "file"
    root.addHandler(file_handler)
    if not any(getattr(h, "_qorven", None) == "console" for h in root.handlers):
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("qorven: %(levelname)s %(message)s"))
        console._qorven = "console"
        root.addHandler(console)


def write_private_file(path: Path, text: str) -> None:
    """Write a file readable by the owner only (0600), created with that mode from the start."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass


def build_context(config: Config, clock: Clock | None = None) -> AppContext:
    """Open everything under the data root; safe to call on every start."""
    config.ensure_dirs()
    setup_logging(config)
    clock = clock or Clock()
    ids = IdFactory(clock)
    db = Database(config.db_path)
    db.quick_check()
    applied = migrate(db, clock.iso())
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    ctx = AppContext(config=config, db=db, clock=clock, ids=ids)
    ctx.hub = Hub(clock=clock.time)
    ctx.tools = tools = default_registry()
    ctx.agents = AgentService(db, clock, ids, known_tools=tools.names)
    ctx.sessions = SessionService(db, clock, ids, ctx.agents)
    ctx.tokens = TokenService(db, clock, ids, seed_tenant=ctx.agents.seed_builtins)
    ctx.secrets = SecretBox(config.secret_key_path)
    ctx.providers = ProviderRegistry(db, clock, ids, ctx.secrets, local=LocalOptions(
        config.models_dir, config.local_max_models, config.local_idle_seconds, config.local_context,
        default_allowed_roots(config.home)))
    ctx.model_ids = ModelDirectory(ctx.agents, ctx.providers)
    ctx.memory = MemoryService(db, clock, ids, hub=lambda: ctx.hub)
    ctx.runner = runner = AgentRunner(agents=ctx.agents, sessions=ctx.sessions, memory=ctx.memory,
                                      providers=ctx.providers, model_ids=ctx.model_ids, tools=tools, hub=ctx.hub,
                                      config=config, ids=ids, clock=clock)
    ctx.channels = ChannelService(ctx)
    ctx.limiter = RateLimiter(clock, config.rate_ip_rps, config.rate_ip_burst, config.rate_tenant_per_min)
    ctx.readiness["database"] = lambda: (db.query_one("select 1")[0] == 1, str(config.db_path))
    ctx.readiness["migrations"] = lambda: (not pending_migrations(db), "pending: " + ", ".join(
        pending_migrations(db)) if pending_migrations(db) else "all applied")
    ctx.readiness["sqlite_vec"] = lambda: (bool(db.query_one("select vec_version()")[0]), db.vec_version)
    ctx.tool_service = ToolService(registry=tools, agents=ctx.agents, memory=ctx.memory,
                                   delegation=runner.delegation, db=db, config=config, ids=ids, clock=clock)
    ctx.rooms = RoomService(db=db, agents=ctx.agents, sessions=ctx.sessions, runner=runner, hub=ctx.hub, ids=ids,
                            clock=clock)
    # /readyz waits for the embedder (warmed by a runtime startup hook)
    ctx.readiness["embedder"] = ctx.memory.readiness
    return ctx


def ensure_admin_token(ctx: AppContext) -> str | None:
    """First start only: create tenant ``default`` and its admin token; return it (else None).

    The token is ``QORVEN_TOKEN`` when set (scripted installs), else fresh; it is written to
    ``<home>/admin-token`` (0600) for the local CLI.
    """
    if ctx.tokens.has_any():
        return None
    token = ctx.tokens.issue(DEFAULT_TENANT, "admin", label="first admin", token=ctx.config.token or None)
    write_private_file(ctx.config.admin_token_path, token + "\n")
    return token
