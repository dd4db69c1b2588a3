"""The memory domain's value types: a stored ``Memory`` and the scopes, kinds and sources it may have.

Scopes: a memory belongs to an agent (``agent``), a session (``session``) or the tenant's
workspace (``workspace``). Storage builds and returns these; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCOPES = ("agent", "session", "workspace")
KINDS = ("fact", "preference", "note", "skill", "summary")
SOURCES = ("user", "agent", "admin", "import")


@dataclass
class Memory:
    """One stored memory (``seq`` is its integer key in the index tables)."""

    id: str
    tenant_id: str
    scope: str
    agent_id: str | None
    session_id: str | None
    kind: str
    content: str
    importance: float
    source: str
    created_at: str
    updated_at: str
    last_recalled_at: str | None = None
    seq: int | None = None
    partition_id: int | None = None
    document: dict[str, Any] | None = None   # {id, title, locator} of the document it was cut from

    def to_dict(self) -> dict[str, Any]:
        """The memory as the API shows it (no tenant, seq or partition; ``document`` when it is a passage)."""
        shown: dict[str, Any] = {
            "id": self.id, "object": "memory", "scope": self.scope, "agent_id": self.agent_id,
            "session_id": self.session_id, "kind": self.kind, "content": self.content,
            "importance": self.importance, "source": self.source, "created_at": self.created_at,
            "updated_at": self.updated_at, "last_recalled_at": self.last_recalled_at,
        }
        if self.document is not None:
            shown["document"] = self.document
        return shown
