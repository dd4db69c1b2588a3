"""``/v1/auth/session`` and ``/v1/auth/logout``: the browser's sign-in cookie (the contract's "Browser login")."""

from __future__ import annotations

import falcon

from qorven_local.errors import ForbiddenOrigin, ValidationError
from qorven_local.security.access import SESSION_COOKIE, AccessPolicy, cookie_value
from qorven_local.security.browser_sessions import BrowserSessions
from qorven_local.web.io import read_body
from qorven_local.web.spec import operation

COOKIE_MAX_AGE_SECONDS = 400 * 86400  # browsers cap a cookie's life at 400 days; the server record decides

SESSION_REQUEST = {
    "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
    "description": "exactly one of code (from a #login= link) or token (the fallback form)",
    "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 200},
                   "token": {"type": "string", "minLength": 1, "maxLength": 200}},
}
SESSION = {
    "type": "object", "required": ["tenant_id", "scope"],
    "properties": {"tenant_id": {"type": "string"}, "scope": {"enum": ["admin", "user"]}},
}


class SignInResource:
    """``POST /v1/auth/session``: trade a login code or a token for the ``qorven_session`` cookie."""

    def __init__(self, sessions: BrowserSessions, access: AccessPolicy) -> None:
        self._sessions = sessions
        self._access = access

    @operation(summary="Sign this browser in: a one-click login code (or a token) becomes the qorven_session "
                       "cookie (HttpOnly, SameSite=Strict, Path=/)", tag="auth", request=SESSION_REQUEST,
               response=SESSION, status=201, public=True, errors=("unauthorized", "forbidden_origin"),
               description="Codes come from the link `qorven serve`, `app.py` and `qorven login` print: single-use, "
                           "valid 10 minutes. Only the app's own pages may sign in (never a CORS origin). The "
                           "cookie then authenticates same-origin requests and /ws until POST /v1/auth/logout "
                           "or the revocation of the token it was made from.")
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self._access.same_origin(req.context.headers, req.env.get("SERVER_PORT")):
            raise ForbiddenOrigin("only the app's own page can sign in with a cookie; other origins send a token")
        body = read_body(req, SESSION_REQUEST)
        if ("code" in body) == ("token" in body):
            raise ValidationError("send either code (from a sign-in link) or token", param="code")
        if "code" in body:
            value, who = self._sessions.from_code(body["code"])
        else:
            value, who = self._sessions.from_token(body["token"])
        previous = cookie_value(req.context.headers)
        if previous is not None:  # the new session replaces this browser's old one: end it on the server too
            self._sessions.logout(previous)
        resp.set_cookie(SESSION_COOKIE, value, max_age=COOKIE_MAX_AGE_SECONDS, path="/", secure=False,
                        http_only=True, same_site="Strict")
        resp.status = 201
        resp.media = {"tenant_id": who.tenant_id, "scope": who.scope}


class LogoutResource:
    """``POST /v1/auth/logout``: end this browser's session and clear its cookie."""

    def __init__(self, sessions: BrowserSessions) -> None:
        self._sessions = sessions

    @operation(summary="Sign this browser out: its session ends on the server and the cookie is cleared",
               tag="auth", status=204, public=True, body_required=False)
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        value = cookie_value(req.context.headers)
        if value is not None:
            self._sessions.logout(value)
        resp.unset_cookie(SESSION_COOKIE, path="/", same_site="Strict")
        resp.status = 204
