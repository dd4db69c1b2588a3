"""Plain dataclasses every layer shares: who is calling and a page of a list. Imports nothing of ours.

Each domain's own types live in its package's ``types.py`` (``agents/types.py``, ``memory/types.py``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's tenant and scope."""

    tenant_id: str
    scope: str
    token_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"


@dataclass
class Page:
    """One page of a cursor-paginated list."""

    items: list[Any]
    has_more: bool
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
