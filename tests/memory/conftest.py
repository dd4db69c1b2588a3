"""Memory test helpers: a real context (real SQLite file, real embedder) without an HTTP server."""

from __future__ import annotations

import pytest

from qorven_local.bootstrap import build_context
from qorven_local.config import load_config


class LocalMemory:
    """A built AppContext under a temp home with tenants made on demand (their built-in agents seeded)."""

    def __init__(self, home) -> None:
        self.ctx = build_context(load_config({"home": str(home)}, env={}))
        self.memory = self.ctx.memory

    def tenant(self, tenant_id: str = "default") -> dict[str, str]:
        """Create the tenant if needed; return its built-in agents by name -> id."""
        if not self.ctx.db.query_one("SELECT 1 FROM tenants WHERE id = ?", (tenant_id,)):
            self.ctx.tokens.issue(tenant_id, "admin", label="test")
        return {a.name: a.id for a in self.ctx.agents.list_all(tenant_id)}

    def close(self) -> None:
        self.ctx.db.close()


@pytest.fixture(scope="module")
def local_memory(tmp_path_factory):
    local = LocalMemory(tmp_path_factory.mktemp("memory-home"))
    yield local
    local.close()
