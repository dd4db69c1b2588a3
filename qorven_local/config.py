"""Settings and the data root.

Each setting is declared once below with its default and help text; values resolve
CLI flag > ``QORVEN_<NAME>`` environment variable > default. The data root is ``QORVEN_HOME``
(or ``--home``), else a ``qorven-data/`` folder beside the executable (portable mode, e.g. a USB
stick), else platformdirs' user data dir. Everything the app writes lives under that one root.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from qorven_local.resources import executable_dir

PORTABLE_FOLDER = "qorven-data"
DEFAULT_TENANT = "default"  # the tenant of the first admin token (and of the desktop app)


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, type, default and what it does."""

    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return "QORVEN_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _bool(value: str) -> bool:
    if value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if value.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


SETTINGS: tuple[Setting, ...] = (
    Setting("home", None, "Data root folder: database, admin-token, workspace, logs. "
            "Default: a qorven-data/ folder beside the executable if present, else the user data dir."),
    Setting("host", "127.0.0.1", "Address to bind. Anything but loopback exposes the API to the network."),
    Setting("port", 7421, "TCP port to listen on (0 picks a free port).", int),
    Setting("threads", 32, "waitress worker threads; each open stream holds one.", int),
    Setting("token", None, "First admin token on first start (scripted installs); also the client's token."),
    Setting("server", None, "Base URL of the server the client and CLI talk to."),
    Setting("allowed_hosts", (), "Extra Host header values accepted (comma-separated), e.g. a LAN name.", _csv),
    Setting("cors_origins", (), "Browser origins (comma-separated, e.g. http://localhost:3000, "
            "chrome-extension://<id>) allowed to call the API cross-origin; a token is still required.", _csv),
    Setting("rate_ip_rps", 10.0, "Per client IP: sustained requests per second (one bucket per token, one for "
            "refused or tokenless requests, one for /ws handshakes).", float),
    Setting("rate_ip_burst", 20, "Per client IP: burst size (of each of those buckets).", int),
    Setting("rate_tenant_per_min", 600, "Per tenant: requests per minute.", int),
    Setting("max_runs_per_tenant", 5, "Per tenant: concurrent agent runs (plan-runs), delegated child runs included.",
            int),
    Setting("max_tool_calls_per_turn", 16, "Tool calls one agent run may make; later calls answer budget_exceeded "
            "and the model is asked for its final answer.", int),
    Setting("max_child_runs_per_request", 8, "Delegated child runs one request may start, over its whole "
            "delegation tree; later delegate calls answer budget_exceeded.", int),
    Setting("shutdown_grace_seconds", 5.0, "On stop: seconds agent runs in flight get to finish before they are "
            "stopped (stored as stopped with the text so far).", float),
    Setting("max_streams_per_tenant", 8, "Per tenant: concurrent streamed answers (SSE) and proxied model calls; "
            "each holds a worker thread. The next one gets 429 rate_limited.", int),
    Setting("max_sockets_per_tenant", 32, "Per tenant: open /ws live-event sockets. The next one gets 503 "
            "too_many_connections.", int),
    Setting("max_connections", 500, "Open HTTP connections at most (waitress connection_limit); past it the "
            "server stops accepting until one closes.", int),
    Setting("header_timeout", 10, "Seconds a connection may take to send a complete request head; slower ones "
            "are closed (the slow-client guard).", int),
    Setting("upstream_timeout", 120.0, "Seconds to wait for each piece of a model provider's answer (the first "
            "token included) before 504 provider_timeout; slow CPU models need more.", float),
    Setting("max_body_bytes", 1024 * 1024, "Largest accepted request body (webhooks get 5x).", int),
    Setting("log_level", "INFO", "Log level for <home>/logs/qorven.log and the console."),
    Setting("http_allow_private", False, "Let the http_get tool reach loopback/private addresses.", _bool),
    Setting("http_allowed_hosts", (), "host or host:port values (comma-separated) the http_get tool may reach "
            "even when they are private, e.g. one LAN service.", _csv),
    Setting("local_max_models", 1, "Local GGUF models kept loaded at once (the least recently used idle one "
            "is unloaded to load another).", int),
    Setting("local_idle_seconds", 600.0, "Unload a local model after this many seconds unused.", float),
    Setting("sse_ping_seconds", 15.0, "Seconds of silence after which an SSE stream sends a keep-alive comment.",
            float),
    Setting("public_base_url", None, "Public https origin in front of this server (a tunnel or reverse proxy); "
            "channel bindings' webhook_url uses it so the URL to paste into a provider is reachable."),
    Setting("local_context", 4096, "Context window (tokens) a local model is loaded with, at most its own.", int),
    Setting("recall_min_score", 0.5, "Memories scoring below this (0-1) are not recalled into agent runs; 0.5 "
            "keeps small talk from recalling anything (see memory/search.py for how scores are calibrated).",
            float),
    Setting("max_upload_bytes", 25 * 1024 * 1024, "Largest document accepted by POST /v1/documents (larger: 413).",
            int),
    Setting("document_background_bytes", 256 * 1024, "Documents of at least this many bytes are read and "
            "embedded in the background: 202 processing, progress on /ws as document.progress.", int),
    Setting("mcp_timeout", 60.0, "Seconds an MCP server gets to start and list its tools, or to answer one tool "
            "call, before the call fails with a tool error.", float),
    Setting("local_preload", True, "Load the default model at start when it is a local GGUF file, so the first "
            "question does not wait for it to load (it is unloaded after local_idle_seconds unused).", _bool),
    Setting("local_starter", True, "Every tenant has a `local` provider (not deletable) listing the installed "
            "starter model; with no default set and no other provider, its first model is the default.", _bool),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass
class Config:
    """Resolved settings plus the data root and where each file lives under it."""

    values: dict[str, Any]
    home: Path
    portable: bool
    sources: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def db_path(self) -> Path:
        return self.home / "qorven.db"

    @property
    def admin_token_path(self) -> Path:
        return self.home / "admin-token"

    @property
    def secret_key_path(self) -> Path:
        return self.home / "secret.key"

    @property
    def workspace_dir(self) -> Path:
        return self.home / "workspace"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    def ensure_dirs(self) -> None:
        """Create the data root and its folders (the root private to the user)."""
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.home, 0o700)
        except OSError:
            pass  # e.g. FAT-formatted USB sticks have no modes
        for folder in (self.workspace_dir, self.logs_dir):
            folder.mkdir(exist_ok=True)


def add_setting_flags(parser: argparse.ArgumentParser, names: tuple[str, ...] | None = None) -> None:
    """Add one ``--flag`` per setting (all, or the named ones) with the help text and env name."""
    for s in SETTINGS:
        if names is not None and s.name not in names:
            continue
        parser.add_argument(s.flag, dest=s.name, default=None,
                            help=f"{s.help} [env {s.env}; default {s.default!r}]")


def resolve_home(explicit: str | os.PathLike | None, beside: Path | None = None) -> tuple[Path, bool]:
    """The data root and whether it is a portable folder beside the executable (or ``beside``)."""
    if explicit:
        return Path(explicit).expanduser().resolve(), False
    portable = (beside or executable_dir()) / PORTABLE_FOLDER
    if portable.is_dir():
        return portable.resolve(), True
    import platformdirs  # imported here: only the non-portable path needs it

    return Path(platformdirs.user_data_dir("qorven-local", appauthor=False)), False


def load_config(cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Resolve every setting CLI > env > default; a bad value raises ValueError naming the setting."""
    cli = dict(cli or {})
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for s in SETTINGS:
        raw, source = cli.get(s.name), "cli"
        if raw is None:
            raw, source = env.get(s.env), "env"
        if raw is None or raw == "":
            values[s.name], sources[s.name] = s.default, "default"
            continue
        try:
            values[s.name] = s.type(raw) if isinstance(raw, str) else raw
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{s.flag} / {s.env}: {exc}") from None
        sources[s.name] = source
    home, portable = resolve_home(values["home"])
    values["home"] = str(home)
    return Config(values=values, home=home, portable=portable, sources=sources)
