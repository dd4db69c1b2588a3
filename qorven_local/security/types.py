"""What may be shown of a stored token: never the token, never its hash."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TokenInfo:
    """A token's public record (``GET /v1/auth/tokens``)."""

    id: str
    tenant_id: str
    scope: str
    label: str | None
    hint: str
    kind: str                      # api | launch (a desktop launch's own token)
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    revoke_after: str | None       # a rotation's grace: the token stops working then
    expires_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
