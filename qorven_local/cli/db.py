"""``qorven db backup PATH`` and ``qorven db check``: work on the local database file directly.

Both are safe while the server runs (see ``storage/maintenance.py``). The backup is written
beside the target and renamed into place only after it passes ``integrity_check``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO

from qorven_local.cli.common import add_home_flag, fail, local_config
from qorven_local.cli.progress import ProgressBar


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``qorven db`` subcommands."""
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    backup = sub.add_parser("backup", help="Copy the live database to PATH (consistent, online).")
    backup.add_argument("path", help="Where to write the copy (a file).")
    backup.add_argument("--force", action="store_true", help="Replace PATH if it exists.")
    add_home_flag(backup)
    check = sub.add_parser("check", help="integrity_check, foreign keys, the FTS5 and vec0 indexes, and that "
                                         "each index holds one entry per memory.")
    add_home_flag(check)


def run(args: argparse.Namespace) -> int:
    """Run ``qorven db backup`` or ``check``; the exit status."""
    config = local_config(args)
    if not config.db_path.is_file():
        fail(f"no database at {config.db_path} (start Qorven once, or pass --home)")
    if args.db_command == "backup":
        return backup(config.db_path, Path(args.path), force=args.force)
    problems = check(config.db_path)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


def backup(source: Path, target: Path, *, force: bool = False) -> int:
    """Copy ``source`` to ``target`` through the online backup API; 0 on success."""
    # sqlite-vec (loaded by every storage connection) imports numpy: not at every CLI start.
    from qorven_local.storage.maintenance import copy_database

    target = target.expanduser().resolve()
    if target.exists() and not force:
        fail(f"{target} exists (use --force to replace it)")
    if target == source.resolve():
        fail("the backup target is the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with ProgressBar(0, "backup", unit="pages") as bar:
        findings = copy_database(source, partial, bar)
    if findings != ["ok"]:
        partial.unlink(missing_ok=True)
        fail("the copy failed integrity_check: " + "; ".join(findings[:5]), code=1)
    os.replace(partial, target)
    print(f"backed up {source} -> {target} ({target.stat().st_size} bytes, integrity ok)")
    return 0


def check(path: Path, out: IO[str] | None = None) -> list[str]:
    """Every problem found (empty when the database is sound); each check's result is printed."""
    from qorven_local.storage.maintenance import check_database  # numpy, as in backup

    stream = out or sys.stdout
    problems: list[str] = []

    def report(label: str, ok: bool, detail: str) -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {label}{': ' + detail if detail else ''}", file=stream, flush=True)
        if not ok:
            problems.append(f"{label}: {detail}")

    with ProgressBar(0, "check", unit="checks") as bar:
        check_database(path, report, bar)
    return problems
