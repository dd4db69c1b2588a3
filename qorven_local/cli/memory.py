"""``qorven memory``: reindex, import and export memories (works on the local database under --home)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Iterator, TextIO

from qorven_local.cli.common import add_home_flag, fail, local_config
from qorven_local.cli.memory_remote import add_search_save, run_search_save
from qorven_local.cli.progress import ProgressBar
from qorven_local.errors import QorvenError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``qorven memory`` subcommands: local reindex/import/export, search/save through the API."""
    sub = parser.add_subparsers(dest="memory_command", metavar="ACTION", required=True)
    reindex = sub.add_parser("reindex", help="Re-embed every memory (resumes an interrupted run).")
    reindex.add_argument("--restart", action="store_true",
                         help="Start over even if an earlier run was interrupted.")
    add_home_flag(reindex)
    imp = sub.add_parser("import", help="Import memories from a JSON Lines file (one memory per line).")
    imp.add_argument("file", help="FILE.jsonl ('-' for stdin)")
    imp.add_argument("--tenant", default=None, help="Import into this tenant (default: each record's, else default).")
    add_home_flag(imp)
    exp = sub.add_parser("export", help="Write every memory as JSON Lines to FILE (default: stdout).")
    exp.add_argument("file", nargs="?", default="-", help="FILE.jsonl (default: stdout)")
    exp.add_argument("--tenant", default=None, help="Only this tenant's memories.")
    add_home_flag(exp)
    add_search_save(sub)  # search and save go through the API (a running Qorven)


def _records(stream: TextIO) -> Iterator[tuple[int, Any]]:
    """(line number, decoded record) of every non-blank JSON Lines line; a bad line ends the command."""
    for number, line in enumerate(stream, 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                fail(f"line {number} is not JSON: {exc}")


def run(args: argparse.Namespace) -> int:
    """Run one ``qorven memory`` subcommand; the exit status."""
    if args.memory_command in ("search", "save"):
        return run_search_save(args)
    # The whole app (numpy, the model, every service): loaded only when a local command runs.
    from qorven_local.bootstrap import build_context
    from qorven_local.memory.reindex import reindex
    from qorven_local.memory.transfer import export_memories, import_memories

    ctx = build_context(local_config(args))
    try:
        memory = ctx.memory
        if args.memory_command == "reindex":
            with ProgressBar(0, "reindex") as bar:
                done = reindex(ctx.db, memory.store, memory.embedder, progress=bar, restart=args.restart)
            print(f"re-embedded {done} memories with {memory.embedder.model_id}", file=sys.stderr)
            return 0
        if args.memory_command == "export":
            out = sys.stdout if args.file == "-" else open(args.file, "w", encoding="utf-8")
            count = 0
            try:
                for record in export_memories(memory.store, args.tenant):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    count += 1
            finally:
                if out is not sys.stdout:
                    out.close()
            print(f"exported {count} memories", file=sys.stderr)
            return 0
        source = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")
        try:
            lines = list(_records(source))
        finally:
            if source is not sys.stdin:
                source.close()
        with ProgressBar(len(lines), "import") as bar:
            stats = import_memories(memory, [r for _, r in lines], tenant_id=args.tenant, progress=bar)
        for number, message in stats.pop("errors"):
            print(f"line {lines[number][0]}: {message}", file=sys.stderr)
        print(", ".join(f"{k} {v}" for k, v in stats.items()), file=sys.stderr)
        return 1 if stats["failed"] else 0
    except QorvenError as exc:
        fail(exc.message)
        return 2
    except OSError as exc:
        fail(str(exc))
        return 2
    finally:
        ctx.db.close()
