"""Files the Settings screen downloads: a consistent backup of the database, and the memories as JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import falcon

from qorven_local.clock import Clock
from qorven_local.errors import Conflict
from qorven_local.memory.transfer import export_memories
from qorven_local.storage.maintenance import copy_database
from qorven_local.storage.memory import MemoryStore
from qorven_local.web.io import principal
from qorven_local.web.spec import operation


def _stamp(clock: Clock) -> str:
    return clock.iso()[:19].replace("-", "").replace(":", "").replace("T", "-")


def _attachment(resp: falcon.Response, filename: str, content_type: str) -> None:
    resp.content_type = content_type
    resp.set_header("Content-Disposition", f'attachment; filename="{filename}"')
    resp.set_header("Cache-Control", "no-store")


class BackupResource:
    """``/v1/backup``: an online, consistent copy of the whole database, kept under ``backups/`` and sent."""

    def __init__(self, db_path: Path, backups_dir: Path, clock: Clock) -> None:
        self._db_path = db_path
        self._dir = backups_dir
        self._clock = clock

    @operation(summary="Back up the database: a consistent copy, kept in the data folder's backups/ and downloaded",
               tag="settings", admin=True, errors=("conflict",),
               description="Answers the SQLite file itself (`application/vnd.sqlite3`, as an attachment named "
                           "qorven-backup-<UTC time>.db). It is SQLite's online backup of one snapshot, so it is "
                           "exactly the database as committed when the copy began, while the app keeps running; "
                           "it holds every tenant's rows, hence admin only. Restore by putting it in place of "
                           "qorven.db while the app is stopped. 409 conflict if the copy fails its integrity check.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        name = f"qorven-backup-{_stamp(self._clock)}.db"
        target = self._dir / name
        target.unlink(missing_ok=True)  # two backups in one second: the later one wins
        findings = copy_database(self._db_path, target, lambda done, total: None)
        if findings != ["ok"]:
            target.unlink(missing_ok=True)
            raise Conflict("the backup copy failed its integrity check: " + "; ".join(findings[:3]))
        _attachment(resp, name, "application/vnd.sqlite3")
        resp.content_length = target.stat().st_size
        resp.stream = target.open("rb")


class MemoryExportResource:
    """``/v1/memory/export``: the tenant's memories as JSON Lines (what ``qorven memory import`` reads)."""

    def __init__(self, store: MemoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @operation(summary="Export this tenant's memories as JSON Lines (one memory per line, oldest first)",
               tag="memory", description="`application/x-ndjson`, as an attachment; `qorven memory import FILE` "
                                         "reads it back.")
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant = principal(req).tenant_id

        def lines() -> Iterator[bytes]:
            for record in export_memories(self._store, tenant):
                yield (json.dumps(record, ensure_ascii=False) + "\n").encode()

        _attachment(resp, f"qorven-memories-{_stamp(self._clock)}.jsonl", "application/x-ndjson")
        resp.stream = lines()
