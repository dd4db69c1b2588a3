"""``/v1/auth/tokens``: list the tenant's tokens and revoke one (admin; never a token or its hash)."""

from __future__ import annotations

import falcon

from qorven_local.security.tokens import TokenService, token_hint
from qorven_local.web import schemas
from qorven_local.web.io import page_args, page_body, principal, read_body
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

TOKEN_CREATE = {
    "type": "object", "additionalProperties": False, "required": ["label"],
    "properties": {"label": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S",
                             "description": "what the token is for, e.g. the tool that will use it"},
                   "scope": {"enum": ["user", "admin"], "default": "user"}},
}
TOKEN_CREATED = {
    "type": "object", "required": ["object", "token", "label", "scope", "hint"],
    "properties": {"object": {"const": "token.created"}, "token": {"type": "string", "description": "shown once"},
                   "label": {"type": "string"}, "scope": {"enum": ["admin", "user"]},
                   "hint": {"type": "string", "description": "the last four characters, as the list shows them"}},
}


class TokensResource:
    """``/v1/auth/tokens``: the caller's tenant's tokens, newest first."""

    def __init__(self, tokens: TokenService) -> None:
        self._tokens = tokens

    @operation(summary="List the tenant's tokens (never the token or its hash)", tag="auth",
               response=schemas.list_of(TOKEN), query=PAGED, admin=True, errors=MANAGE)
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        resp.media = page_body(self._tokens.list_page(who.tenant_id, by=who, **page_args(req)))

    @operation(summary="Create a token for another tool (shown once)", tag="auth", request=TOKEN_CREATE,
               response=TOKEN_CREATED, status=201, admin=True, errors=MANAGE,
               description="A token of the caller's tenant, `user` scope unless asked for `admin`. Only its "
                           "hash is stored: the answer is the one time the token is shown.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        body = read_body(req, TOKEN_CREATE)
        scope = body.get("scope", "user")
        label = body["label"].strip()
        token = self._tokens.issue(who.tenant_id, scope, label, by=who)
        resp.status = 201
        resp.media = {"object": "token.created", "token": token, "label": label, "scope": scope,
                      "hint": token_hint(token)}


class TokenResource:
    """``/v1/auth/tokens/{token_id}``: revoke one token of the caller's tenant now."""

    def __init__(self, tokens: TokenService) -> None:
        self._tokens = tokens

    @operation(summary="Revoke a token now (its open /ws sockets close with 4401)", tag="auth", response=TOKEN,
               admin=True, errors=MANAGE)
    def on_delete(self, req: falcon.Request, resp: falcon.Response, token_id: str) -> None:
        who = principal(req)
        resp.media = self._tokens.revoke_one(token_id, tenant_id=who.tenant_id, by=who).to_dict()
