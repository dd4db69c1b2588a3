"""``qorven memory``: reindex, import and export memories (works on the local database under --home)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Iterator, TextIO

from qorven_local.cli.common import add_home_flag, fail, local_config
from qorven_local.cli.memory_remote import add_search_save, run_search_save
from qorven_local.errors import QorvenError


def add_arguments(parser: argparse.ArgumentParser) -> None:
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


class ProgressBar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_line = -1.0

    def __call__(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        filled = int(self.width * fraction)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        line = (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} "
                f"({fraction:.0%}, {rate:.0f}/s)")
        if self.tty:
            self.stream.write("\r" + line)
            if done >= total:
                self.stream.write("\n")
        elif done >= total or time.monotonic() - self._last_line >= 2:
            self.stream.write(line + "\n")
            self._last_line = time.monotonic()
        self.stream.flush()


def _records(stream: TextIO) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                fail(f"line {number} is not JSON: {exc}")


def run(args: argparse.Namespace) -> int:
    if args.memory_command in ("search", "save"):
        return run_search_save(args)
    from qorven_local.bootstrap import build_context  # the whole app: only when run

    ctx = build_context(local_config(args))
    try:
        memory = ctx.memory
        if args.memory_command == "reindex":
            done = memory.reindex(progress=ProgressBar("reindex"), restart=args.restart)
            print(f"re-embedded {done} memories with {memory.embedder.model_id}", file=sys.stderr)
            return 0
        if args.memory_command == "export":
            out = sys.stdout if args.file == "-" else open(args.file, "w", encoding="utf-8")
            count = 0
            try:
                for record in memory.export(args.tenant):
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
        bar = ProgressBar("import")
        stats = memory.import_records([r for _, r in lines], tenant_id=args.tenant, progress=bar)
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
