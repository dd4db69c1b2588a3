"""Threads that read the database do not leave connections (file descriptors) behind when they end.

``/ws`` sessions, SSE streams and tool calls each run on a short-lived thread; a read connection kept
for every dead thread let ~500 unauthenticated ``/ws`` upgrades exhaust a 1,024 descriptor limit.
"""

from __future__ import annotations

import gc
import os
import threading

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.wait import wait_until

ROUNDS = 300
# Database descriptors other live threads of the server may open meanwhile: each reader holds three
# (qorven.db, -wal, -shm), and under three test workers on two cores a CI run saw 13. A leak here would
# be one reader per dead thread, about 900 descriptors for ROUNDS, so the margin hides nothing real.
MARGIN = 24


def settled_descriptors(home) -> int:
    """``database_descriptors`` after a garbage collection: a dead thread's reader closes when its
    thread-local is freed, which on a loaded machine (three test workers on two cores) can wait for the
    collector; what must not happen is a descriptor that outlives the collection."""
    gc.collect()
    return database_descriptors(home)


def database_descriptors(home) -> int:
    """Descriptors of this process open on the server's database files (qorven.db, -wal, -shm).

    Counting only these keeps the test blind to the rest of the test process (other servers' sockets
    closing, log files), which on a loaded machine moved the whole-process count by a dozen or more.
    """
    prefix = str(home / "qorven.db")
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(prefix):
                count += 1
        except OSError:  # closed between the listing and the readlink
            pass
    return count


def read_on_short_lived_threads(db, count: int) -> None:
    errors: list[BaseException] = []

    def read() -> None:
        try:
            assert db.scalar("select count(*) from messages") is not None
        except BaseException as exc:  # reported below: an assert in a thread would be lost
            errors.append(exc)

    for start in range(0, count, 25):  # a few at a time, like request threads come and go
        batch = [threading.Thread(target=read) for _ in range(min(25, count - start))]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join(10)
    assert not errors, errors[:3]


def refused_ws_upgrades(port: int, count: int) -> None:
    for _ in range(count):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{port}/ws", additional_headers={"Authorization": "Bearer qvn_bogus"},
                    open_timeout=5, close_timeout=1)
        assert refused.value.response.status_code == 401


def test_reads_on_short_lived_threads_leave_no_descriptors_behind(server, admin):
    assert admin.get("/v1/agents").status_code == 200  # the request threads' own readers exist already
    db = server.ctx.db
    read_on_short_lived_threads(db, 5)
    before = database_descriptors(server.home)

    read_on_short_lived_threads(db, ROUNDS)

    wait_until(lambda: settled_descriptors(server.home) <= before + MARGIN, timeout=15, interval=0.1,
               message=lambda: f"{database_descriptors(server.home) - before} database descriptors leaked by "
                               f"{ROUNDS} reader threads")
    assert db.open_readers() < 20


def test_refused_ws_upgrades_leave_no_descriptors_behind(server, admin):
    assert admin.get("/v1/agents").status_code == 200
    refused_ws_upgrades(server.port, 5)
    before = database_descriptors(server.home)

    refused_ws_upgrades(server.port, ROUNDS)

    wait_until(lambda: settled_descriptors(server.home) <= before + MARGIN, timeout=15, interval=0.1,
               message=lambda: f"{database_descriptors(server.home) - before} database descriptors leaked by "
                               f"{ROUNDS} refused /ws upgrades")
    assert admin.get("/v1/agents").status_code == 200


def test_close_still_waits_for_a_reader_in_use_and_later_reads_are_refused(server):
    from qorven_local.storage.db import DatabaseClosed

    db = server.ctx.db
    in_read, release, outcome = threading.Event(), threading.Event(), []

    def long_read() -> None:
        with db.read() as conn:
            in_read.set()
            release.wait(5)
            outcome.append(conn.execute("select 1").fetchone()[0])
        try:
            db.scalar("select 1")
        except DatabaseClosed:
            outcome.append("closed")

    reader = threading.Thread(target=long_read)
    reader.start()
    assert in_read.wait(5)
    closer = threading.Thread(target=server.stop)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive(), "close did not wait for the read in progress"
    release.set()
    reader.join(5)
    closer.join(10)
    assert outcome == [1, "closed"]
