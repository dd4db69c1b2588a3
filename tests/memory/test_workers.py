"""``workers.both``: halves of a search step side by side, never waiting on a busy pool."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import pytest

from qorven_local.memory import workers

pytestmark = pytest.mark.skipif(workers.POOL_THREADS < 1, reason="one core: every search runs serially")


def thread_name() -> str:
    return threading.current_thread().name


def split_halves() -> tuple:
    """Halves whose first waits (briefly) for the second to start, so a free pool thread takes it."""
    started = threading.Event()

    def first() -> tuple[str, str]:
        started.wait(timeout=10)
        return "first", thread_name()

    def second() -> tuple[str, str]:
        started.set()
        return "second", thread_name()

    return first, second


@contextmanager
def every_pool_thread_busy() -> Iterator[threading.Event]:
    """Every pool thread held until the yielded event is set (at the latest when the block ends)."""
    release = threading.Event()
    started = threading.Barrier(workers.POOL_THREADS + 1)

    def hold() -> None:
        started.wait(timeout=10)
        release.wait(timeout=10)

    held = [workers.pool().submit(hold) for _ in range(workers.POOL_THREADS)]
    try:
        started.wait(timeout=10)
        yield release
    finally:
        release.set()
        for future in held:
            future.result(timeout=10)


def test_the_second_half_runs_on_a_pool_thread_and_results_keep_their_order():
    first, second = workers.both(*split_halves())
    assert first == ("first", threading.current_thread().name)
    assert second[0] == "second" and second[1].startswith("memory-search")


def test_a_second_half_not_started_when_the_first_is_done_runs_on_the_caller():
    with every_pool_thread_busy():
        first, second = workers.both(thread_name, thread_name)
    assert first == second == threading.current_thread().name


def test_a_half_queued_behind_a_busy_pool_starts_there_once_a_thread_is_free():
    second_started = threading.Event()

    def second() -> str:
        second_started.set()
        return thread_name()

    with every_pool_thread_busy() as release:
        def first() -> str:
            release.set()  # the pool frees up while this half runs ...
            second_started.wait(timeout=10)  # ... and takes the queued half
            return thread_name()

        mine, theirs = workers.both(first, second)
    assert mine == threading.current_thread().name and theirs.startswith("memory-search")


def test_with_no_spare_core_both_halves_run_here(monkeypatch):
    monkeypatch.setattr(workers, "POOL_THREADS", 0)
    assert workers.both(thread_name, thread_name) == (threading.current_thread().name,) * 2


def test_an_error_in_either_half_reaches_the_caller():
    with pytest.raises(ValueError, match="first"):
        workers.both(lambda: (_ for _ in ()).throw(ValueError("first")), lambda: 1)
    with pytest.raises(KeyError, match="second"):
        workers.both(lambda: 1, lambda: {}["second"])


def test_when_the_pool_refuses_work_at_exit_both_halves_run_here(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    closed = ThreadPoolExecutor(1)
    closed.shutdown()
    monkeypatch.setattr(workers, "_pool", closed)  # as at interpreter exit: submit raises
    assert workers.both(thread_name, thread_name) == (threading.current_thread().name,) * 2
