"""The ``responses`` table: answers of the Responses API, read and deleted per tenant."""

from __future__ import annotations

import json
from typing import Any

from qorven_local.responses.types import StoredResponse
from qorven_local.storage.db import Database


def _row(row: Any) -> StoredResponse:
    return StoredResponse(id=row["id"], tenant_id=row["tenant_id"], model=row["model"], body=json.loads(row["body"]),
                          messages=json.loads(row["messages"]), created_at=row["created_at"])


class ResponseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, response: StoredResponse) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO responses (id, tenant_id, model, body, messages, created_at) VALUES (?,?,?,?,?,?)",
                (response.id, response.tenant_id, response.model, json.dumps(response.body, ensure_ascii=False),
                 json.dumps(response.messages, ensure_ascii=False), response.created_at))

    def get(self, tenant_id: str, response_id: str) -> StoredResponse | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM responses WHERE tenant_id = ? AND id = ?",
                               (tenant_id, response_id)).fetchone()
        return _row(row) if row is not None else None

    def delete(self, tenant_id: str, response_id: str) -> bool:
        """True when the tenant's response existed and is gone."""
        with self.db.write() as conn:
            cur = conn.execute("DELETE FROM responses WHERE tenant_id = ? AND id = ?", (tenant_id, response_id))
            return cur.rowcount > 0
