"""The one way to open the SQLite database.

SQLite comes from ``sqlean.py`` because the stdlib ``sqlite3`` of many Pythons cannot load
extensions, and sqlite-vec is a loadable extension. Reads use one connection per thread, closed
when that thread ends (``/ws`` sessions, SSE streams and tool calls each run on a short-lived thread,
so connections kept for dead threads would exhaust the process's file descriptors). Writes go
through a single writer connection under a lock with ``BEGIN IMMEDIATE``, so waitress threads never
interleave a multi-row write and never hit "database is locked" among themselves.
"""

from __future__ import annotations

import itertools
import json
import threading
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import quote

import sqlean
import sqlite_vec

from qorven_local.errors import NotReady

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 10_000

Connection = sqlean.Connection
Row = sqlean.Row
IntegrityError = sqlean.IntegrityError
OperationalError = sqlean.OperationalError


def connect(path: str | Path) -> sqlean.Connection:
    """Open a connection with sqlite-vec loaded and the product's pragmas set.

    Autocommit mode (``isolation_level=None``): transactions are explicit, opened by
    ``Database.write()``, so Python's driver never starts one behind our back.
    """
    conn = sqlean.connect(str(path), check_same_thread=False, isolation_level=None,
                          timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlean.Row
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def table_tools(conn: sqlean.Connection) -> sqlite_utils.Database:
    """sqlite-utils over one of our connections (never a connection of its own).

    Used inside the caller's transaction (``Database.write()``, a migration): sqlite-utils' own
    writes open a SAVEPOINT when a transaction is already open, so it never commits behind the
    writer. ``recursive_triggers`` and plugins stay off so that wrapping the connection does not
    change its settings.
    """
    import sqlite_utils  # ~130 ms to import: only the commands and migrations that use it pay

    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


class DatabaseClosed(RuntimeError):
    """The database was closed (the app is shutting down); no more reads or writes."""


class _Reader:
    """One thread's read connection and the lock held while it is in use.

    Only the thread's ``threading.local`` refers to it, so it dies with its thread; the finalizer
    registered on it then closes the connection.
    """

    __slots__ = ("conn", "in_use", "__weakref__")

    def __init__(self, conn: sqlean.Connection) -> None:
        self.conn = conn
        self.in_use = threading.RLock()


def _close_reader(conn: sqlean.Connection, in_use: threading.RLock,
                  open_readers: dict[int, weakref.finalize], lock: threading.Lock, key: int) -> None:
    """Close a read connection once its current use ends (its thread ended or the database closes)."""
    with lock:
        open_readers.pop(key, None)
    with in_use:
        conn.close()


class Database:
    """Per-thread read connections and one serialized writer for a database file.

    ``close`` may run while other threads still use the database (a run finishing as the app shuts
    down): each connection is closed only between two uses of it, never under a statement that is
    stepping (closing one there crashed the process), and every use after that raises
    ``DatabaseClosed``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        # what closes each open reader (run at most once: by its thread's end or by ``close``)
        self._readers: dict[int, weakref.finalize] = {}
        self._reader_keys = itertools.count()
        self._readers_lock = threading.Lock()
        self._closed = False
        self._write_lock = threading.RLock()
        self._writer = connect(self.path)
        self.vec_version = self._writer.execute("select vec_version()").fetchone()[0]
        self.sqlite_version = self._writer.execute("select sqlite_version()").fetchone()[0]

    def _reader(self) -> _Reader:
        """This thread's read connection, opened on first use and closed when the thread ends."""
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = _Reader(connect(self.path))
            with self._readers_lock:
                if self._closed:
                    reader.conn.close()
                    raise DatabaseClosed(f"database {self.path.name} is closed")
                key = next(self._reader_keys)
                closer = weakref.finalize(reader, _close_reader, reader.conn, reader.in_use,
                                          self._readers, self._readers_lock, key)
                closer.atexit = False  # at exit a daemon thread may still hold its reader: do not wait for it
                self._readers[key] = closer
            self._local.reader = reader
        return reader

    def open_readers(self) -> int:
        """How many per-thread read connections are open now."""
        with self._readers_lock:
            return len(self._readers)

    def quick_check(self) -> None:
        """Refuse to start on a damaged file rather than make it worse."""
        result = self._writer.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise NotReady(f"database {self.path.name} failed quick_check: {result}")

    def probe(self) -> None:
        """Open a fresh connection and read the schema through it; ``NotReady`` when that fails.

        For ``/readyz``: the connections already open keep working when no new one can be opened
        (no file descriptors left, the file gone or unreadable), yet every new thread's reads fail.
        Read-only, so a missing file is reported rather than created empty.
        """
        try:
            conn = sqlean.connect(f"file:{quote(str(self.path.resolve()))}?mode=ro", uri=True,
                                  timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                conn.execute("select count(*) from sqlite_master").fetchone()
            finally:
                conn.close()
        except sqlean.Error as exc:
            raise NotReady(f"cannot open {self.path.name}: {exc}") from exc

    def integrity_check(self) -> list[str]:
        """The full integrity check's findings ('ok' alone when the file is sound)."""
        return [r[0] for r in self._writer.execute("PRAGMA integrity_check").fetchall()]

    @contextmanager
    def read(self) -> Iterator[sqlean.Connection]:
        """A connection for reading; inside a write on this thread it is the writer (sees its rows)."""
        if self.in_write():
            yield self._writer
            return
        reader = self._reader()
        with reader.in_use:
            if self._closed:
                raise DatabaseClosed(f"database {self.path.name} is closed")
            yield reader.conn

    def in_write(self) -> bool:
        """True inside a ``write()`` on this thread (other threads' reads do not see its rows yet)."""
        return bool(getattr(self._local, "write_depth", 0))

    @contextmanager
    def write(self) -> Iterator[sqlean.Connection]:
        """One transaction (BEGIN IMMEDIATE ... COMMIT); nested calls join the outer one."""
        with self._write_lock:
            if self._closed:
                raise DatabaseClosed(f"database {self.path.name} is closed")
            depth = getattr(self._local, "write_depth", 0)
            self._local.write_depth = depth + 1
            try:
                if depth:
                    yield self._writer
                    return
                self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield self._writer
                except BaseException:
                    self._writer.execute("ROLLBACK")
                    raise
                else:
                    self._writer.execute("COMMIT")
            finally:
                self._local.write_depth = depth

    def query(self, sql: str, params: Any = ()) -> list[sqlean.Row]:
        """Run a read query and return all rows."""
        with self.read() as conn:
            return conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Any = ()) -> sqlean.Row | None:
        """Run a read query and return the first row or None."""
        with self.read() as conn:
            return conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Any = ()) -> Any:
        """The first column of the first row of a read query (a count, a max...), None without a row."""
        row = self.query_one(sql, params)
        return None if row is None else row[0]

    def close(self) -> None:
        """Close every connection this object opened (at shutdown), each once no thread uses it.

        Readers first, then the writer: a thread that writes inside a read gets its write done
        before its read connection is closed.
        """
        with self._readers_lock:
            self._closed = True
            closers = list(self._readers.values())
        for close_reader in closers:
            close_reader()
        with self._write_lock:
            self._writer.close()


def dumps(value: Any) -> str | None:
    """JSON for a TEXT column (None stays NULL)."""
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None, default: Any = None) -> Any:
    """Parse a JSON TEXT column."""
    return default if text is None else json.loads(text)
