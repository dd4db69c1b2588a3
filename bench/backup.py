"""How long "Back up" (POST /v1/backup) takes, and whether writers wait on it, on a database of a given size.

A real ``qorven serve`` gets ``--rooms`` rooms with ``--messages`` human posts each (stored straight
through the API's human-decision path: no model runs), then the backup is downloaded ``--rounds``
times while a writer keeps creating agents; reported: database size, backup seconds (median, max) and
the slowest write during a backup (SQLite's online backup in WAL mode must not block writers).

    .venv/bin/python bench/backup.py          # prints a summary, writes bench/results/backup.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import ServeProcess  # noqa: E402


def fill(api, rooms: int, messages: int) -> None:
    """Rooms in mention mode: a post naming nobody is stored and answered by no model."""
    text = "A note for the record, long enough to look like a real message. " * 6
    for r in range(rooms):
        room = api.post("/v1/rooms", json={"name": f"room {r}", "members": ["prime"], "mode": "mention"}).json()
        for _ in range(messages):
            api.post(f"/v1/rooms/{room['id']}/messages", json={"content": text}).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ServeProcess(Path(tmp) / "home", settings={
            "rate_ip_rps": 100000, "rate_ip_burst": 100000, "rate_tenant_per_min": 10000000}) as server:
        with server.client() as api:
            started = time.perf_counter()
            fill(api, args.rooms, args.messages)
            fill_s = time.perf_counter() - started
            db_bytes = (Path(tmp) / "home" / "qorven.db").stat().st_size
            stop = threading.Event()
            writes: list[float] = []

            def writer() -> None:
                with server.client() as w:
                    n = 0
                    while not stop.is_set() and n < 100000:
                        t = time.perf_counter()
                        w.post("/v1/agents", json={"name": f"w{n}"}).raise_for_status()
                        writes.append(time.perf_counter() - t)
                        n += 1

            thread = threading.Thread(target=writer)
            thread.start()
            times, sizes = [], []
            for _ in range(args.rounds):
                t = time.perf_counter()
                r = api.post("/v1/backup")
                r.raise_for_status()
                times.append(time.perf_counter() - t)
                sizes.append(len(r.content))
            stop.set()
            thread.join()
    result = {"rooms": args.rooms, "messages_per_room": args.messages, "fill_seconds": round(fill_s, 2),
              "db_bytes": db_bytes, "backup_bytes": max(sizes), "backup_seconds_median": round(statistics.median(times), 3),
              "backup_seconds_max": round(max(times), 3), "writes_during": len(writes),
              "slowest_write_seconds": round(max(writes), 3) if writes else None,
              "median_write_seconds": round(statistics.median(writes), 4) if writes else None}
    print(json.dumps(result, indent=2))
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "backup.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
