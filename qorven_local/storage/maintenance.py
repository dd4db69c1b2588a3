"""Whole-database upkeep on a database file: an online, consistent copy, and a health check.

Both are safe while the server runs. The copy uses SQLite's online backup API inside one read
transaction: in WAL mode that pins a snapshot, so the copy is exactly the database as committed
when it began, however much is written meanwhile, and writers are never blocked (stepping the
backup without the pinned snapshot would restart it on every concurrent commit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import sqlean

from qorven_local.storage.db import connect

PAGES_PER_STEP = 256

# (table, key, [(index table, its key)]): derived indexes that must hold one entry per row.
INDEXED_ROWS = [
    ("memories", "seq", [("memory_vec", "memory_rowid"), ("memory_vectors", "memory_rowid"), ("memory_fts", "rowid")]),
]

Progress = Callable[[int, int], None]
Finding = Callable[[str, bool, str], None]


def copy_database(source: Path, target: Path, progress: Progress) -> list[str]:
    """Copy ``source`` into a new file ``target`` (one self-contained file, no ``-wal``).

    ``progress(pages done, pages)`` is called as the copy goes; returns the copy's
    ``integrity_check`` findings (``["ok"]`` when it is sound).
    """
    src = connect(source)
    dst = sqlean.connect(str(target), isolation_level=None)
    try:
        src.execute("BEGIN")  # deferred: the snapshot is taken by the first read, below
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        progress(0, src.execute("PRAGMA page_count").fetchone()[0])
        src.backup(dst, pages=PAGES_PER_STEP, sleep=0,
                   progress=lambda status, remaining, pages: progress(pages - remaining, pages))
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        return [r[0] for r in dst.execute("PRAGMA integrity_check").fetchall()]
    finally:
        dst.close()
        src.close()


def check_database(path: Path, finding: Finding, progress: Progress) -> None:
    """Run every check and report each as ``finding(label, ok, detail)``.

    The checks: ``integrity_check``, ``foreign_key_check``, each FTS5 table's own integrity check,
    each vec0 table readable, and each derived memory index holding one entry per memory.
    ``progress(checks done, checks)`` counts the first four kinds.
    """
    conn = connect(path)
    try:
        tables = {r["name"]: (r["sql"] or "") for r in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='table'")}
        fts = sorted(n for n, sql in tables.items() if "using fts5" in sql.lower())
        vec = sorted(n for n, sql in tables.items() if "using vec0" in sql.lower())
        total = 2 + len(fts) + len(vec)
        progress(0, total)
        findings = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        finding("integrity_check", findings == ["ok"], "; ".join(findings[:5]))
        progress(1, total)
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        finding("foreign_key_check", not fk, f"{len(fk)} dangling reference(s)")
        progress(2, total)
        done = 2
        for name in fts:
            finding(f"fts5 {name}", *_fts_check(conn, name))
            done += 1
            progress(done, total)
        for name in vec:
            finding(f"vec0 {name}", *_vec_readable(conn, name))
            done += 1
            progress(done, total)
        for label, ok, detail in _index_consistency(conn, tables):
            finding(label, ok, detail)
    finally:
        conn.close()


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
