"""MCP servers per tenant (``mcp_servers``): connection settings, secrets' ciphertext, last tool listing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qorven_local.mcp.types import McpServer, McpToolSpec
from qorven_local.storage.db import Database, dumps, loads
from qorven_local.storage.rows import from_row, insert_row

if TYPE_CHECKING:
    import sqlean


def _row(row: sqlean.Row) -> McpServer:
    return from_row(McpServer, row, args=loads(row["args"], []), enabled=bool(row["enabled"]),
                    tools=[McpToolSpec.from_dict(t) for t in loads(row["tools"], [])])


class McpServerStore:
    """Reads and writes of ``mcp_servers``; writes take the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, conn: sqlean.Connection, s: McpServer) -> None:
        insert_row(conn, "mcp_servers", {
            "id": s.id, "tenant_id": s.tenant_id, "name": s.name, "transport": s.transport, "command": s.command,
            "args": dumps(s.args), "cwd": s.cwd, "url": s.url, "secrets": s.secrets, "enabled": int(s.enabled),
            "status": s.status, "error": s.error, "tools": dumps([t.to_dict() for t in s.tools]),
            "created_at": s.created_at, "updated_at": s.updated_at})

    def update(self, conn: sqlean.Connection, s: McpServer) -> None:
        conn.execute("UPDATE mcp_servers SET name = ?, command = ?, args = ?, cwd = ?, url = ?, secrets = ?, "
                     "enabled = ?, updated_at = ? WHERE id = ? AND tenant_id = ?",
                     (s.name, s.command, dumps(s.args), s.cwd, s.url, s.secrets, int(s.enabled), s.updated_at,
                      s.id, s.tenant_id))

    def set_state(self, conn: sqlean.Connection, server_id: str, status: str, error: str | None,
                  tools: list[McpToolSpec] | None) -> None:
        """Record the last known state; ``tools`` None keeps the last listing."""
        if tools is None:
            conn.execute("UPDATE mcp_servers SET status = ?, error = ? WHERE id = ?", (status, error, server_id))
        else:
            conn.execute("UPDATE mcp_servers SET status = ?, error = ?, tools = ? WHERE id = ?",
                         (status, error, dumps([t.to_dict() for t in tools]), server_id))

    def delete(self, conn: sqlean.Connection, tenant_id: str, server_id: str) -> None:
        conn.execute("DELETE FROM mcp_servers WHERE id = ? AND tenant_id = ?", (server_id, tenant_id))

    def get(self, tenant_id: str, server_id: str) -> McpServer | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM mcp_servers WHERE id = ? AND tenant_id = ?",
                               (server_id, tenant_id)).fetchone()
        return _row(row) if row is not None else None

    def by_name(self, tenant_id: str, name: str) -> McpServer | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM mcp_servers WHERE name = ? AND tenant_id = ?",
                               (name, tenant_id)).fetchone()
        return _row(row) if row is not None else None

    def list_all(self, tenant_id: str) -> list[McpServer]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM mcp_servers WHERE tenant_id = ? ORDER BY name", (tenant_id,)).fetchall()
        return [_row(r) for r in rows]

    def count(self, tenant_id: str) -> int:
        return int(self.db.scalar("SELECT count(*) FROM mcp_servers WHERE tenant_id = ?", (tenant_id,)) or 0)


