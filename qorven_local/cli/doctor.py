"""``qorven doctor``: check what Qorven needs on this machine and say what is wrong, one line each.

Checks: SQLite (version, FTS5), loading extensions, sqlite-vec (a real vec0 KNN query), the
embedding model files (and one embedding), the data root, the database's migrations, the port,
the GUI backend for the desktop window, then what a newcomer meets before a first answer: a running
server, reachable providers, a default model, the local model runtime and the starter model
(``first_answer_checks.py``). It only reads: nothing is written to the data root.
Exit status 1 when a check FAILs (a WARN, e.g. no GUI backend, still exits 0).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import socket
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

from qorven_local import __version__
from qorven_local.cli.common import local_config
from qorven_local.cli.first_answer_checks import (check_default_model, check_providers, check_runtime,
                                                  check_server, check_starter)
from qorven_local.config import Config, add_setting_flags


@dataclass
class Finding:
    name: str
    status: str  # ok | warn | fail
    detail: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, ("home", "host", "port"))
    parser.add_argument("--json", action="store_true", help="Print the findings as JSON.")
    parser.add_argument("--no-embed", action="store_true", help="Check the model files (embedding and starter "
                        "model) without loading them.")


def run(args: argparse.Namespace) -> int:
    config = local_config(args)
    findings = diagnose(config, embed=not args.no_embed)
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        print(f"Qorven Local {__version__} · Python {platform.python_version()} · {platform.system()} "
              f"{platform.machine()}{' · frozen' if getattr(sys, 'frozen', False) else ''}")
        for f in findings:
            print(f"{f.status.upper():4} {f.name:<12} {f.detail}")
    return 1 if any(f.status == "fail" for f in findings) else 0


def diagnose(config: Config, *, embed: bool = True) -> list[Finding]:
    checks: list[tuple[str, Callable[[], tuple[str, str]]]] = [
        ("sqlite", check_sqlite), ("extensions", check_extension_loading), ("vec0", check_vec0),
        ("model", lambda: check_model(embed)), ("data root", lambda: check_data_root(config)),
        ("database", lambda: check_database(config)), ("port", lambda: check_port(config)),
        ("gui", check_gui),
        # what a newcomer meets before a first answer (first_answer_checks.py)
        ("server", lambda: check_server(config)), ("provider", lambda: check_providers(config)),
        ("default", lambda: check_default_model(config)), ("runtime", check_runtime),
        ("starter", lambda: check_starter(config, load=embed)),
    ]
    findings = []
    for name, check in checks:
        try:
            status, detail = check()
        except Exception as exc:  # a check that crashes is a failed check, not a crashed doctor
            status, detail = "fail", f"{type(exc).__name__}: {exc}"
        findings.append(Finding(name, status, detail))
    return findings


def check_sqlite() -> tuple[str, str]:
    import sqlean

    conn = sqlean.connect(":memory:")
    version = conn.execute("select sqlite_version()").fetchone()[0]
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    conn.close()
    return "ok", f"SQLite {version} (sqlean.py {_dist_version('sqlean.py')}), FTS5 available"


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:  # a frozen build without the dist-info
        return "?"


def check_extension_loading() -> tuple[str, str]:
    import sqlean

    conn = sqlean.connect(":memory:")
    if not hasattr(conn, "enable_load_extension"):
        return "fail", "this SQLite driver cannot load extensions"
    conn.enable_load_extension(True)
    conn.enable_load_extension(False)
    conn.close()
    return "ok", "enable_load_extension works"


def check_vec0() -> tuple[str, str]:
    import sqlean
    import sqlite_vec

    conn = sqlean.connect(":memory:")
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    version = conn.execute("select vec_version()").fetchone()[0]
    conn.execute("CREATE VIRTUAL TABLE v USING vec0(embedding float[4])")
    conn.executemany("INSERT INTO v(rowid, embedding) VALUES (?, ?)",
                     [(1, "[1,0,0,0]"), (2, "[0,1,0,0]"), (3, "[0,0,1,0]")])
    rows = conn.execute("SELECT rowid FROM v WHERE embedding MATCH ? AND k = ?", ("[0,0.9,0.1,0]", 1)).fetchall()
    conn.close()
    if [r[0] for r in rows] != [2]:
        return "fail", f"sqlite-vec {version} loaded but a KNN query answered {rows}"
    return "ok", f"sqlite-vec {version} loaded ({sqlite_vec.loadable_path()}), KNN query works"


def check_model(embed: bool) -> tuple[str, str]:
    from qorven_local.memory.embedder import find_model_files

    folder = find_model_files()
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    detail = f"{folder} ({size / 1e6:.0f} MB)"
    if not embed:
        return "ok", detail
    from qorven_local.memory.embedder import Embedder

    started = time.perf_counter()
    vector = Embedder(folder).embed(["doctor check"])[0]
    return "ok", f"{detail}; loaded and embedded in {time.perf_counter() - started:.1f} s ({len(vector)} dims)"


def check_data_root(config: Config) -> tuple[str, str]:
    home = config.home
    where = "portable, beside the executable" if config.portable else f"from {config.sources.get('home', 'default')}"
    if not home.exists():
        return "warn", f"{home} ({where}) does not exist yet: it is created on first start"
    if not os.access(home, os.W_OK):
        return "fail", f"{home} is not writable"
    free = shutil.disk_usage(home).free
    status = "warn" if free < 200_000_000 else "ok"
    return status, f"{home} ({where}), {free / 1e9:.1f} GB free"


def check_database(config: Config) -> tuple[str, str]:
    if not config.db_path.is_file():
        return "ok", "no database yet (created on first start)"
    from qorven_local.storage.db import Database
    from qorven_local.storage.migrations import pending_migrations

    db = Database(config.db_path)
    try:
        pending = pending_migrations(db)
        row = db.query_one("PRAGMA quick_check")
        quick = row[0] if row else "no answer"
    finally:
        db.close()
    if quick != "ok":
        return "fail", f"{config.db_path} failed quick_check: {quick} (run `qorven db check`)"
    size = config.db_path.stat().st_size
    more = f", {len(pending)} migration(s) to apply on next start" if pending else ", schema up to date"
    return "ok", f"{config.db_path} ({size / 1e6:.1f} MB), quick_check ok{more}"


def check_port(config: Config) -> tuple[str, str]:
    host, port = config.host, int(config.port)
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return "ok", f"{host}:{port} is free"
        except OSError:
            pass
    import httpx

    try:
        health = httpx.get(f"http://{host}:{port}/health", timeout=2).json()
        if isinstance(health, dict) and health.get("status") == "ok" and "version" in health:
            return "ok", f"{host}:{port} is Qorven {health['version']}, already running"
    except Exception:
        pass
    return "warn", f"{host}:{port} is used by another program: Qorven will pick a free port (or use --port)"


def check_gui() -> tuple[str, str]:
    from qorven_local.desktop.window import has_display

    if importlib.util.find_spec("webview") is None:
        return "warn", "pywebview missing: the UI opens in the browser"
    if not has_display():
        return "warn", "no display (DISPLAY/WAYLAND_DISPLAY unset): the UI opens in the browser"
    if sys.platform == "win32":
        return "ok", "pywebview with Edge WebView2 (Windows 10/11 ship it)"
    if sys.platform == "darwin":
        ok = importlib.util.find_spec("WebKit") is not None
        return ("ok", "pywebview with Cocoa WebKit") if ok else ("warn", "pyobjc WebKit missing: browser fallback")
    found = []
    if importlib.util.find_spec("gi") is not None:
        import gi

        for version in ("4.1", "4.0"):
            try:
                gi.require_version("Gtk", "3.0")
                gi.require_version("WebKit2", version)
                found.append(f"GTK with WebKit2GTK {version}")
                break
            except (ValueError, ImportError):
                continue
    if any(importlib.util.find_spec(m) is not None for m in ("PyQt6", "PySide6", "PyQt5")):
        found.append("Qt")
    if found:
        return "ok", "pywebview backend: " + ", ".join(found)
    return "warn", ("no GUI backend (install WebKitGTK: apt install gir1.2-webkit2-4.1): "
                    "the UI opens in the browser")
