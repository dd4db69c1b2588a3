"""``qorven db backup PATH`` and ``qorven db check``: work on the local database file directly.

Both are safe while the server runs. The backup uses SQLite's online backup API inside one read
transaction: in WAL mode that pins a snapshot, so the copy is exactly the database as committed
when the backup began, however much is written meanwhile, and writers are never blocked (stepping
the backup without the pinned snapshot would restart it on every concurrent commit). The copy is
written beside the target and renamed into place only after it passes ``integrity_check``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from qorven_local.cli.common import add_home_flag, fail, local_config
from qorven_local.cli.progress import ProgressBar

if TYPE_CHECKING:
    import sqlean

PAGES_PER_STEP = 256

# (table, key, [(index table, its key)]): derived indexes that must hold one entry per row.
INDEXED_ROWS = [
    ("memories", "seq", [("memory_vec", "memory_rowid"), ("memory_vectors", "memory_rowid"), ("memory_fts", "rowid")]),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    backup = sub.add_parser("backup", help="Copy the live database to PATH (consistent, online).")
    backup.add_argument("path", help="Where to write the copy (a file).")
    backup.add_argument("--force", action="store_true", help="Replace PATH if it exists.")
    add_home_flag(backup)
    check = sub.add_parser("check", help="integrity_check, foreign keys, the FTS5 and vec0 indexes, and that "
                                         "each index holds one entry per memory.")
    add_home_flag(check)


def run(args: argparse.Namespace) -> int:
    config = local_config(args)
    if not config.db_path.is_file():
        fail(f"no database at {config.db_path} (start Qorven once, or pass --home)")
    if args.db_command == "backup":
        return backup(config.db_path, Path(args.path), force=args.force)
    problems = check(config.db_path)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


def backup(source: Path, target: Path, *, force: bool = False, progress: ProgressBar | None = None) -> int:
    """Copy ``source`` to ``target`` through the online backup API; 0 on success."""
    import sqlean

    from qorven_local.storage.db import connect  # sqlite-vec imports numpy: not at every CLI start

    target = target.expanduser().resolve()
    if target.exists() and not force:
        fail(f"{target} exists (use --force to replace it)")
    if target == source.resolve():
        fail("the backup target is the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = connect(source)
    dst = sqlean.connect(str(partial), isolation_level=None)
    try:
        src.execute("BEGIN")  # deferred: the snapshot is taken by the first read, below
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        total = src.execute("PRAGMA page_count").fetchone()[0]
        with (progress or ProgressBar(total, "backup", unit="pages")) as bar:
            src.backup(dst, pages=PAGES_PER_STEP, sleep=0,
                       progress=lambda status, remaining, pages: bar.update(pages - remaining, pages))
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        findings = [r[0] for r in dst.execute("PRAGMA integrity_check").fetchall()]
    finally:
        dst.close()
        src.close()
    if findings != ["ok"]:
        partial.unlink(missing_ok=True)
        fail("the copy failed integrity_check: " + "; ".join(findings[:5]), code=1)
    os.replace(partial, target)
    print(f"backed up {source} -> {target} ({target.stat().st_size} bytes, integrity ok)")
    return 0


def check(path: Path, out: IO[str] | None = None) -> list[str]:
    """Every problem found (empty when the database is sound); each check's result is printed."""
    from qorven_local.storage.db import connect  # sqlite-vec imports numpy: not at every CLI start

    out = out or sys.stdout
    problems: list[str] = []
    conn = connect(path)
    try:
        tables = {r["name"]: (r["sql"] or "") for r in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='table'")}
        fts = sorted(n for n, sql in tables.items() if "using fts5" in sql.lower())
        vec = sorted(n for n, sql in tables.items() if "using vec0" in sql.lower())
        with ProgressBar(2 + len(fts) + len(vec), "check", unit="checks") as bar:
            findings = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            _report(out, problems, "integrity_check", findings == ["ok"], "; ".join(findings[:5]))
            bar.advance()
            fk = conn.execute("PRAGMA foreign_key_check").fetchall()
            _report(out, problems, "foreign_key_check", not fk, f"{len(fk)} dangling reference(s)")
            bar.advance()
            for name in fts:
                _report(out, problems, f"fts5 {name}", *_fts_check(conn, name))
                bar.advance()
            for name in vec:
                _report(out, problems, f"vec0 {name}", *_vec_readable(conn, name))
                bar.advance()
            for label, ok, detail in _index_consistency(conn, tables):
                _report(out, problems, label, ok, detail)
    finally:
        conn.close()
    return problems


def _vec_readable(conn: sqlean.Connection, name: str) -> tuple[bool, str]:
    try:
        count = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        return True, f"{count} rows"
    except Exception as exc:
        return False, f"unreadable: {exc}"


def _fts_check(conn: sqlean.Connection, name: str) -> tuple[bool, str]:
    """FTS5's own check; with rank=1 it also compares the index against an external content table."""
    try:
        conn.execute(f'INSERT INTO "{name}"("{name}", rank) VALUES (\'integrity-check\', 1)')
        return True, ""
    except Exception as exc:  # sqlean raises DatabaseError "database disk image is malformed"
        return False, str(exc)


def _index_consistency(conn: sqlean.Connection, tables: dict[str, str]) -> list[tuple[str, bool, str]]:
    """Each derived index holds exactly one entry per row of the table it indexes."""
    results = []
    for source, key, indexes in INDEXED_ROWS:
        if source not in tables:
            continue
        rows = conn.execute(f'SELECT count(*) FROM "{source}"').fetchone()[0]
        for index, index_key in indexes:
            if index not in tables:
                continue
            missing = conn.execute(f'SELECT count(*) FROM "{source}" WHERE "{key}" NOT IN '
                                   f'(SELECT "{index_key}" FROM "{index}")').fetchone()[0]
            extra = conn.execute(f'SELECT count(*) FROM "{index}" WHERE "{index_key}" NOT IN '
                                 f'(SELECT "{key}" FROM "{source}")').fetchone()[0]
            ok = not missing and not extra
            detail = f"{rows} rows" if ok else f"{missing} of {rows} rows missing, {extra} orphaned entries"
            results.append((f"{index} ~ {source}", ok, detail))
    return results


def _report(out: IO[str], problems: list[str], label: str, ok: bool, detail: str) -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {label}{': ' + detail if detail else ''}", file=out, flush=True)
    if not ok:
        problems.append(f"{label}: {detail}")
