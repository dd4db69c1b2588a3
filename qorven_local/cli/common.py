"""What CLI commands share: settings from flags, the local context, error printing."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from qorven_local.config import SETTINGS, Config, add_setting_flags, load_config


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as command-line flags (flags left out are not in the dict)."""
    return {s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name, None) is not None}


def add_home_flag(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser, ("home",))


def local_config(args: argparse.Namespace) -> Config:
    try:
        return load_config(settings_from_args(args))
    except ValueError as exc:
        fail(str(exc))
        raise  # unreachable


def fail(message: str, code: int = 2) -> None:
    print(f"qorven: {message}", file=sys.stderr)
    raise SystemExit(code)
