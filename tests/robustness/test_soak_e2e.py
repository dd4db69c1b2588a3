"""A small soak through a real ``qorven serve`` (the full one is ``bench/soak.py``): the server holds no
file descriptors for work that has ended, answers no 5xx and loses no write."""

from __future__ import annotations

import sys

import pytest

from bench.soak import SoakCounts, run_soak

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>")]


def test_a_mixed_load_leaves_no_open_files_no_5xx_and_no_lost_writes(tmp_path):
    counts = SoakCounts(chats=80, refused_ws=120, tool_calls=40, webhooks=12, concurrency=4)
    result = run_soak(counts, tmp_path / "home", log=lambda line: None)
    assert result["server_errors"] == 0, result["statuses"]
    assert result["wrong_answers"] == [], result["wrong_answers"]
    assert result["lost_writes"] == {"agent_chat_messages_missing": 0, "webhooks_not_run": 0, "outbox_pending": 0}
    statuses = result["statuses"]
    assert statuses.get("tool_call:200", 0) == counts.tool_calls + 4  # + the warm-up's
    assert statuses.get("webhook:200", 0) == counts.webhooks
    assert statuses.get("refused_ws:401", 0) + statuses.get("refused_ws:429", 0) == counts.refused_ws + 4
    # Each waitress thread that served keeps its own read connection to the database (storage/db.py),
    # so those grow with the threads the load happened to use, up to the pool's size (32), and no
    # further. Anything else that stays open after the load (sockets, pipes, files) is a leak.
    added = result["open_files"]["added"]
    readers = sum(n for target, n in added.items() if target.endswith(("qorven.db", "qorven.db-wal")))
    assert readers <= 2 * 32, result["open_files"]
    assert sum(added.values()) - readers <= 10, result["open_files"]
