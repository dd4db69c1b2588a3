"""API tokens, stored as SHA-256 hashes only."""

from __future__ import annotations

from typing import Any

from qorven_local.storage.db import Database


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, conn: Any, *, token_id: str, tenant_id: str, token_hash: str, scope: str,
               label: str | None, hint: str, now: str) -> None:
        conn.execute(
            "INSERT INTO tokens (id, tenant_id, token_hash, scope, label, hint, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (token_id, tenant_id, token_hash, scope, label, hint, now))

    def find_by_hash(self, token_hash: str) -> Any:
        return self.db.query_one("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))

    def count(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM tokens"))

    def live_admin_tokens(self, conn: Any, tenant_id: str, now: str) -> list[Any]:
        return conn.execute(
            "SELECT * FROM tokens WHERE tenant_id = ? AND scope = 'admin' AND revoked_at IS NULL "
            "AND (revoke_after IS NULL OR revoke_after > ?)", (tenant_id, now)).fetchall()

    def schedule_revoke(self, conn: Any, token_id: str, at: str, now: str) -> None:
        """Revoke now (at <= now) or at a later moment (a grace period for rotation)."""
        if at <= now:
            conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id))
        else:
            conn.execute("UPDATE tokens SET revoke_after = ? WHERE id = ?", (at, token_id))

    def revoke(self, token_id: str, now: str) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id))

    def touch(self, token_id: str, now: str) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now, token_id))

    def list_for_tenant(self, tenant_id: str) -> list[Any]:
        return self.db.query("SELECT * FROM tokens WHERE tenant_id = ? ORDER BY rowid DESC", (tenant_id,))
