"""Login codes and browser sessions, stored as SHA-256 hashes only."""

from __future__ import annotations

from typing import Any, Collection

from qorven_local.storage.db import Database
from qorven_local.storage.tokens import DEAD

# A session works while it is not revoked and the token it came from (if any) still works (``?`` is now).
LIVE_SESSION = (f"s.revoked_at IS NULL AND (s.token_id IS NULL OR EXISTS (SELECT 1 FROM tokens "
                f"WHERE tokens.id = s.token_id AND NOT {DEAD}))")


class BrowserSessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert_code(self, conn: Any, *, code_hash: str, tenant_id: str, scope: str, token_id: str | None,
                    now: str, expires_at: str) -> None:
        conn.execute("INSERT INTO login_codes (code_hash, tenant_id, scope, token_id, created_at, expires_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (code_hash, tenant_id, scope, token_id, now, expires_at))

    def use_code(self, conn: Any, code_hash: str, now: str) -> tuple[Any, bool]:
        """The code's row and whether this call used it (False: unknown, already used or expired)."""
        row = conn.execute("SELECT * FROM login_codes WHERE code_hash = ?", (code_hash,)).fetchone()
        if row is None or row["used_at"] is not None or row["expires_at"] <= now:
            return row, False
        conn.execute("UPDATE login_codes SET used_at = ? WHERE code_hash = ?", (now, code_hash))
        return row, True

    def forget_old_codes(self, conn: Any, before: str) -> None:
        """Drop codes that expired before ``before`` (kept a while so a late click still hears "expired")."""
        conn.execute("DELETE FROM login_codes WHERE expires_at < ?", (before,))

    def insert_session(self, conn: Any, *, session_id: str, session_hash: str, tenant_id: str, scope: str,
                       token_id: str | None, now: str) -> None:
        conn.execute("INSERT INTO browser_sessions (id, session_hash, tenant_id, scope, token_id, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (session_id, session_hash, tenant_id, scope, token_id, now))

    def find_live(self, session_hash: str, now: str) -> Any:
        return self.db.query_one(f"SELECT s.* FROM browser_sessions s WHERE s.session_hash = ? AND {LIVE_SESSION}",
                                 (session_hash, now, now))

    def touch(self, session_id: str, now: str) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE browser_sessions SET last_used_at = ? WHERE id = ?", (now, session_id))

    def revoke_by_hash(self, session_hash: str, now: str) -> bool:
        with self.db.write() as conn:
            cur = conn.execute("UPDATE browser_sessions SET revoked_at = ? WHERE session_hash = ? "
                               "AND revoked_at IS NULL", (now, session_hash))
            return cur.rowcount > 0

    def dead_among(self, session_ids: Collection[str], now: str) -> set[str]:
        """Those of ``session_ids`` that no longer work (logged out, revoked, their token dead, or gone)."""
        ids = list(session_ids)
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        live = self.db.query(f"SELECT s.id FROM browser_sessions s WHERE s.id IN ({marks}) AND {LIVE_SESSION}",
                             (*ids, now, now))
        return set(ids) - {r["id"] for r in live}
