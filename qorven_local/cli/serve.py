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
    if token:
        print(f"First start: your admin token (shown once, also saved to {config.admin_token_path}):\n  {token}")
    print(f"Qorven Local {runtime.version} serving at {runtime.url}  (data: {config.home})", flush=True)
    runtime.wait()
    return 0
