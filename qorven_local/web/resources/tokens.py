"""``/v1/auth/tokens``: list the tenant's tokens and revoke one (admin; never a token or its hash)."""

from __future__ import annotations

import falcon

from qorven_local.security.tokens import TokenService
from qorven_local.web import schemas
from qorven_local.web.io import page_args, page_body, principal
from qorven_local.web.spec import PAGED, operation

TOKEN = {
    "type": "object",
    "required": ["id", "tenant_id", "scope", "label", "hint", "kind", "created_at", "last_used_at", "revoked_at",
                 "revoke_after", "expires_at"],
    "properties": {
        "id": {"type": "string", "description": "tok_..., stable: what DELETE takes"},
        "tenant_id": {"type": "string"}, "scope": {"enum": ["admin", "user"]},
        "label": {"type": ["string", "null"]},
        "hint": {"type": "string", "description": "the token's last four characters"},
        "kind": {"enum": ["api", "launch"], "description": "launch: a desktop launch's own, expiring token"},
        "created_at": {"type": "string"}, "last_used_at": {"type": ["string", "null"]},
        "revoked_at": {"type": ["string", "null"]},
        "revoke_after": {"type": ["string", "null"], "description": "a rotation's grace ends then"},
        "expires_at": {"type": ["string", "null"]},
    },
}
MANAGE = ("grace_token",)  # a token in its rotation grace may not manage tokens


class TokensResource:
    """``/v1/auth/tokens``: the caller's tenant's tokens, newest first."""

    def __init__(self, tokens: TokenService) -> None:
        self._tokens = tokens

    @operation(summary="List the tenant's tokens (never the token or its hash)", tag="auth",
               response=schemas.list_of(TOKEN), query=PAGED, admin=True, errors=MANAGE)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        resp.media = page_body(self._tokens.list_page(who.tenant_id, by=who, **page_args(req)))


class TokenResource:
    """``/v1/auth/tokens/{token_id}``: revoke one token of the caller's tenant now."""

    def __init__(self, tokens: TokenService) -> None:
        self._tokens = tokens

    @operation(summary="Revoke a token now (its open /ws sockets close with 4401)", tag="auth", response=TOKEN,
               admin=True, errors=MANAGE)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, token_id: str) -> None:
        who = principal(req)
        resp.media = self._tokens.revoke_one(token_id, tenant_id=who.tenant_id, by=who).to_dict()
