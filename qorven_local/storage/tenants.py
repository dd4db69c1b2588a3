"""Tenants and their key/value settings (e.g. the default model)."""

from __future__ import annotations

from typing import Any

from qorven_local.storage.db import Database, dumps, loads


class TenantStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def exists(self, tenant_id: str) -> bool:
        return self.db.query_one("SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)) is not None

    def ids(self) -> list[str]:
        """Every tenant's id."""
        return [row["id"] for row in self.db.query("SELECT id FROM tenants ORDER BY id")]

    def create_if_missing(self, conn: Any, tenant_id: str, now: str) -> bool:
        """Insert the tenant inside the caller's transaction; True if it was new."""
        cur = conn.execute("INSERT OR IGNORE INTO tenants (id, created_at) VALUES (?, ?)", (tenant_id, now))
        return cur.rowcount == 1

    def get_setting(self, tenant_id: str, key: str, default: Any = None) -> Any:
        row = self.db.query_one("SELECT value FROM tenant_settings WHERE tenant_id = ? AND key = ?",
                                (tenant_id, key))
        return default if row is None else loads(row["value"])

    def set_setting(self, tenant_id: str, key: str, value: Any, now: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO tenant_settings (tenant_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (tenant_id, key, dumps(value), now))
