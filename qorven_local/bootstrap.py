"""Build the AppContext: open the data root and database, migrate, build every part once, in order."""

from __future__ import annotations

import logging
import logging.handlers
import os
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

from qorven_local.agents.model_ids import ModelDirectory
from qorven_local.agents.runner import AgentRunner
from qorven_local.responses.service import ResponseService
from qorven_local.storage.responses import ResponseStore
from qorven_local.agents.service import AgentService
from qorven_local.agents.sessions import SessionService
from qorven_local.channels.service import ChannelService
from qorven_local.clock import Clock, IdFactory
from qorven_local.config import DEFAULT_TENANT, Config
from qorven_local.context import AppContext, ReadinessCheck
from qorven_local.documents.service import DocumentService
from qorven_local.events.hub import Hub
from qorven_local.memory.embedder import shared_embedder
from qorven_local.memory.service import MemoryService
from qorven_local.memory.warmup import EmbedderWarmUp
from qorven_local.providers.local.importer import default_allowed_roots
from qorven_local.providers.local.options import LocalOptions
from qorven_local.native_dialogs import FileDialogs
from qorven_local.providers.local.preload import LocalModelPreload
from qorven_local.providers.local.starter import find_starter_models
from qorven_local.providers.registry import ProviderRegistry
from qorven_local.rooms.service import RoomService
from qorven_local.security.access import AccessPolicy
from qorven_local.security.ratelimit import RateLimiter
from qorven_local.security.secrets import SecretBox
from qorven_local.security.browser_sessions import BrowserSessions
from qorven_local.security.private_file import write_private_file
from qorven_local.security.tokens import TokenService
from qorven_local.storage.db import Database
from qorven_local.storage.migrations import migrate, pending_migrations
from qorven_local.tools.builtin import default_registry
from qorven_local.tools.service import ToolService
from qorven_local.tools.workspaces import adopt_shared_layout
from qorven_local.mcp.connections import McpConnections
from qorven_local.mcp.qorven_tools import QorvenTools
from qorven_local.mcp.server import McpEndpoint
from qorven_local.mcp.service import McpService

log = logging.getLogger("qorven")
_FILE_HANDLER = "qorven-file"        # handler names, so a later start finds the ones it added
_CONSOLE_HANDLER = "qorven-console"


def setup_logging(config: Config) -> None:
    """Log to <home>/logs/qorven.log (rotated) and warnings to stderr. Tokens and keys are never logged.

    One file handler per process, moved to the newest data root, so a second Runtime in the same
    process (tests, a restart) writes into its own folder rather than the first one's.
    """
    root = logging.getLogger("qorven")
    root.setLevel(config.log_level.upper())
    target = str(config.logs_dir / "qorven.log")
    for handler in list(root.handlers):
        if handler.get_name() == _FILE_HANDLER and isinstance(handler, logging.FileHandler):
            if handler.baseFilename == os.path.abspath(target):
                return
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(target, maxBytes=5_000_000, backupCount=3,
                                                        encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler.set_name(_FILE_HANDLER)
    root.addHandler(file_handler)
    if not any(h.get_name() == _CONSOLE_HANDLER for h in root.handlers):
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("qorven: %(levelname)s %(message)s"))
        console.set_name(_CONSOLE_HANDLER)
        root.addHandler(console)


def build_context(config: Config, clock: Clock | None = None) -> AppContext:
    """Open everything under the data root and build every part once; safe to call on every start.

    Parts are built in dependency order and each is handed the collaborators it uses.
    """
    config.ensure_dirs()
    setup_logging(config)
    adopt_shared_layout(config.workspace_dir, DEFAULT_TENANT)
    clock = clock or Clock()
    ids = IdFactory(clock)
    db = Database(config.db_path)
    db.quick_check()
    applied = migrate(db, clock.iso())
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    hub = Hub(clock=clock.time)
    secrets = SecretBox(config.secret_key_path)
    tools = default_registry()
    mcp = McpService(db, clock, ids, secrets, McpConnections(config.logs_dir), config.mcp_timeout)
    tools.add_source(mcp)  # the tenant's MCP servers' tools join the built-ins (ToolRegistry.for_tenant)
    agents = AgentService(db, clock, ids,
                          known_tools=lambda tenant: [*tools.for_tenant(tenant).names(), *mcp.tool_ids(tenant)],
                          admin_tools=tools.admin_names,
                          check_model=lambda tenant, mid: providers.selection.check_model(tenant, mid))
    sessions = SessionService(db, clock, ids, agents,
                              check_model=lambda tenant, mid: providers.selection.check_model(tenant, mid))
    providers = ProviderRegistry(db, clock, ids, secrets, local=LocalOptions(
        config.models_dir, config.local_max_models, config.local_idle_seconds, config.local_context,
        default_allowed_roots(config.home), find_starter_models() if config.local_starter else ()),
        read_timeout=config.upstream_timeout, local_starter=config.local_starter)
    providers.ensure_local()

    def seed_tenant(conn: Any, tenant_id: str, now: str) -> None:
        agents.seed_builtins(conn, tenant_id, now)
        providers.first_run.seed(conn, tenant_id, now)

    tokens = TokenService(db, clock, ids, seed_tenant=seed_tenant, admin_token_path=config.admin_token_path)
    browser_sessions = BrowserSessions(db, clock, ids, tokens)
    model_ids = ModelDirectory(agents, providers)
    embedder = shared_embedder()
    memory = MemoryService(db, clock, ids, hub, embedder)
    warm_up = EmbedderWarmUp(embedder, clock)
    documents = DocumentService(db, memory, hub, clock, ids, max_upload_bytes=config.max_upload_bytes,
                                background_bytes=config.document_background_bytes)
    runner = AgentRunner(agents=agents, sessions=sessions, memory=memory, providers=providers, model_ids=model_ids,
                         tools=tools, hub=hub, config=config, ids=ids, clock=clock)
    return AppContext(
        config=config, db=db, clock=clock, ids=ids, hub=hub, secrets=secrets, tokens=tokens,
        browser_sessions=browser_sessions,
        access=AccessPolicy(tokens, config.allowed_hosts, config.host, cors_origins=config.cors_origins,
                            sessions=browser_sessions),
        limiter=RateLimiter(clock, config.rate_ip_rps, config.rate_ip_burst, config.rate_tenant_per_min,
                            config.max_streams_per_tenant),
        tools=tools, agents=agents, sessions=sessions, providers=providers, model_ids=model_ids, memory=memory,
        embedder_warm_up=warm_up, local_preload=LocalModelPreload(providers, enabled=config.local_preload),
        file_dialogs=FileDialogs(),
        runner=runner, responses=ResponseService(ResponseStore(db), clock, ids),
        tool_service=ToolService(registry=tools, agents=agents, memory=memory, delegation=runner.delegation,
                                 db=db, config=config, ids=ids, clock=clock),
        rooms=RoomService(db=db, agents=agents, sessions=sessions, runner=runner, hub=hub, ids=ids, clock=clock),
        channels=ChannelService(db, clock, ids, secrets, agents, sessions, runner, hub),
        mcp=mcp, mcp_endpoint=McpEndpoint(QorvenTools(agents=agents, sessions=sessions, runner=runner, memory=memory,
                                                      documents=documents), ids, clock),
        readiness=readiness_checks(db, warm_up),
        started_at=time.time(),
        documents=documents,
    )


def readiness_checks(db: Database, warm_up: EmbedderWarmUp) -> MappingProxyType[str, ReadinessCheck]:
    """What ``/readyz`` checks: the database answers, migrations ran, sqlite-vec is loaded, the embedder answers."""
    def database() -> tuple[bool, str]:
        db.probe()  # a fresh connection: the open ones keep answering when no new one can be opened
        return True, db.path.name

    def migrations() -> tuple[bool, str]:
        pending = pending_migrations(db)
        return not pending, ("pending: " + ", ".join(pending)) if pending else "all applied"

    def sqlite_vec() -> tuple[bool, str]:
        return bool(db.scalar("select vec_version()")), db.vec_version

    return MappingProxyType({"database": database, "migrations": migrations, "sqlite_vec": sqlite_vec,
                             "embedder": warm_up.readiness})


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
