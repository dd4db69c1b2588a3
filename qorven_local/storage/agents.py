"""Agent rows."""

from __future__ import annotations

from typing import Any

from qorven_local.agents.types import Agent
from qorven_local.models import Page
from qorven_local.storage.db import Database, dumps, loads
from qorven_local.storage.paging import fetch_page

COLUMNS = ("id", "tenant_id", "name", "display_name", "description", "instructions", "model", "tools",
           "memory_enabled", "memory_auto_save", "temperature", "builtin", "created_at", "updated_at",
           "deleted_at", "memory_max_recall")


def row_to_agent(row: Any) -> Agent:
    return Agent(
        id=row["id"], tenant_id=row["tenant_id"], name=row["name"], display_name=row["display_name"],
        description=row["description"], instructions=row["instructions"], model=row["model"],
        tools=loads(row["tools"], []), memory_enabled=bool(row["memory_enabled"]),
        memory_auto_save=bool(row["memory_auto_save"]), temperature=row["temperature"],
        builtin=bool(row["builtin"]), created_at=row["created_at"], updated_at=row["updated_at"],
        deleted_at=row["deleted_at"], memory_max_recall=row["memory_max_recall"])


def agent_to_row(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id, "tenant_id": agent.tenant_id, "name": agent.name, "display_name": agent.display_name,
        "description": agent.description, "instructions": agent.instructions, "model": agent.model,
        "tools": dumps(agent.tools), "memory_enabled": int(agent.memory_enabled),
        "memory_auto_save": int(agent.memory_auto_save), "temperature": agent.temperature,
        "builtin": int(agent.builtin), "created_at": agent.created_at, "updated_at": agent.updated_at,
        "deleted_at": agent.deleted_at, "memory_max_recall": agent.memory_max_recall,
    }


class AgentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, conn: Any, agent: Agent) -> None:
        row = agent_to_row(agent)
        conn.execute(f"INSERT INTO agents ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                     [row[c] for c in COLUMNS])

    def update(self, conn: Any, agent: Agent) -> None:
        row = agent_to_row(agent)
        cols = [c for c in COLUMNS if c not in ("id", "tenant_id", "created_at")]
        conn.execute(f"UPDATE agents SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ? AND tenant_id = ?",
                     [row[c] for c in cols] + [agent.id, agent.tenant_id])

    def get(self, tenant_id: str, agent_id: str, include_deleted: bool = False) -> Agent | None:
        sql = "SELECT * FROM agents WHERE tenant_id = ? AND id = ?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        row = self.db.query_one(sql, (tenant_id, agent_id))
        return row_to_agent(row) if row else None

    def get_by_name(self, tenant_id: str, name: str) -> Agent | None:
        row = self.db.query_one("SELECT * FROM agents WHERE tenant_id = ? AND name = ? AND deleted_at IS NULL",
                                (tenant_id, name))
        return row_to_agent(row) if row else None

    def last_deleted_builtin(self, conn: Any, tenant_id: str, name: str) -> Agent | None:
        """The most recently deleted built-in agent called ``name`` (read on the writer's ``conn``)."""
        row = conn.execute("SELECT * FROM agents WHERE tenant_id = ? AND name = ? AND builtin = 1 AND deleted_at IS NOT "
                           "NULL ORDER BY deleted_at DESC, rowid DESC LIMIT 1", (tenant_id, name)).fetchone()
        return row_to_agent(row) if row else None

    def live_by_name(self, conn: Any, tenant_id: str, name: str) -> Agent | None:
        """The live agent called ``name`` (read on the writer's ``conn``)."""
        row = conn.execute("SELECT * FROM agents WHERE tenant_id = ? AND name = ? AND deleted_at IS NULL",
                           (tenant_id, name)).fetchone()
        return row_to_agent(row) if row else None

    def list_all(self, tenant_id: str) -> list[Agent]:
        rows = self.db.query("SELECT * FROM agents WHERE tenant_id = ? AND deleted_at IS NULL ORDER BY rowid",
                             (tenant_id,))
        return [row_to_agent(r) for r in rows]

    def page(self, tenant_id: str, *, limit: int | None, cursor: str | None, include_deleted: bool) -> Page:
        where = ["tenant_id = ?"] + ([] if include_deleted else ["deleted_at IS NULL"])
        with self.db.read() as conn:
            return fetch_page(conn, "SELECT rowid AS _rowid, * FROM agents", where, [tenant_id],
                              limit=limit, cursor=cursor, newest_first=True, build=row_to_agent)
