"""``qorven serve``: run the API server in the foreground until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import ipaddress
import sys

from qorven_local.cli.common import local_config
from qorven_local.config import add_setting_flags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def sign_in_line(link: str) -> str:
    """What the user reads to open the UI signed in (``qorven serve`` and ``qorven login``)."""
    return f"Open {link} to use Qorven in your browser (signs in; the link works once, for 10 minutes)."


def run(args: argparse.Namespace) -> int:
    from qorven_local.memory.embedder import preload_embedder

    preload_embedder()
    from qorven_local.runtime import Runtime  # heavy imports only when serving

    config = local_config(args)
    if not is_loopback(config.host):
        print(f"WARNING: binding {config.host}: the API is reachable from other machines. "
              f"Only do this on a network you trust.", file=sys.stderr)
    runtime = Runtime(config)
    runtime.stop_on_signals()
    token = runtime.start()
    if token and token == config.token:  # QORVEN_TOKEN's value is never printed back into anyone's logs
        print(f"First start: the admin token from QORVEN_TOKEN is saved to {config.admin_token_path}")
    elif token:
        print(f"First start: your admin token (shown once, also saved to {config.admin_token_path}):\n  {token}")
    print(f"Qorven Local {runtime.version} serving at {runtime.url}  (data: {config.home})", flush=True)
    assert runtime.ctx is not None  # start() built it
    print(sign_in_line(runtime.ctx.browser_sessions.login_link(runtime.url)), flush=True)
    runtime.wait()
    return 0
