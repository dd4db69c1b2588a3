"""The audit trail of tools invoked directly through the API (``POST /v1/tools/{id}/invoke``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from qorven_local.models import Page
from qorven_local.storage.db import Database
from qorven_local.storage.paging import fetch_page
from qorven_local.tools.types import ToolInvocation

ARGUMENTS_KEPT_CHARS = 2000   # arguments can carry whole files; the audit keeps a prefix and a digest


def digest_arguments(arguments: Any) -> tuple[str, str]:
    """(kept text, sha256 hex) of the arguments' canonical JSON."""
    text = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if len(text) > ARGUMENTS_KEPT_CHARS:
        text = text[:ARGUMENTS_KEPT_CHARS] + "…"
    return text, sha


def _row(row: Any) -> ToolInvocation:
    return ToolInvocation(id=row["id"], tenant_id=row["tenant_id"], tool=row["tool"], arguments=row["arguments"],
                          arguments_sha256=row["arguments_sha256"], ok=bool(row["ok"]),
                          error_code=row["error_code"], duration_ms=row["duration_ms"],
                          invoked_by=row["invoked_by"], created_at=row["created_at"])


class ToolAuditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, invocation: ToolInvocation) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO tool_invocations (id, tenant_id, tool, arguments, arguments_sha256, ok, error_code, "
                "duration_ms, invoked_by, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (invocation.id, invocation.tenant_id, invocation.tool, invocation.arguments,
                 invocation.arguments_sha256, int(invocation.ok), invocation.error_code, invocation.duration_ms,
                 invocation.invoked_by, invocation.created_at))

    def page(self, tenant_id: str, tool: str | None, *, limit: int | None, cursor: str | None) -> Page:
        """The tenant's invocations, newest first (optionally of one tool)."""
        where, args = ["tenant_id = ?"], [tenant_id]
        if tool is not None:
            where.append("tool = ?")
            args.append(tool)
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM tool_invocations", where, args,
                              limit=limit, cursor=cursor, newest_first=True, build=_row)
