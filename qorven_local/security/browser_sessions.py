"""Browser sign-in with nothing to paste: one-click login codes traded for a ``qorven_session`` cookie.

A login code is minted for the local operator (``qorven serve``, ``app.py``, ``qorven login``) and
put in a link ``http://127.0.0.1:<port>/#login=<code>``: single-use, valid for ten minutes. The UI
trades it (or, from the fallback form, a token) at ``POST /v1/auth/session`` for a session whose
value rides in an HttpOnly cookie. Codes and sessions are stored as SHA-256 hashes only. A session
carries the tenant and scope of what it was made from; one made from a token ends with that token.
Which requests may use the cookie at all (same origin only) is ``security/access.py``'s rule.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Collection

from qorven_local.clock import Clock, IdFactory, iso
from qorven_local.config import DEFAULT_TENANT
from qorven_local.errors import Unauthorized
from qorven_local.models import Principal
from qorven_local.security.tokens import TokenService, hash_token
from qorven_local.storage.browser_sessions import BrowserSessionStore
from qorven_local.storage.db import Database

LOGIN_CODE_TTL_SECONDS = 600
SESSION_ID_PREFIX = "bss"
LOGIN_FRAGMENT = "login"
TOUCH_EVERY_SECONDS = 60
FORGET_CODES_AFTER = timedelta(days=1)
NEW_LINK_HINT = "run `qorven login` on this computer for a new sign-in link"


class BrowserSessions:
    """Mint login codes, trade them (or tokens) for sessions, authenticate and end sessions."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, tokens: TokenService) -> None:
        self.clock = clock
        self.ids = ids
        self.tokens = tokens
        self.store = BrowserSessionStore(db)
        self.db = db
        self._touched: dict[str, float] = {}

    def new_login_code(self, tenant_id: str = DEFAULT_TENANT, scope: str = "admin") -> str:
        """A fresh single-use code for the local operator, valid for LOGIN_CODE_TTL_SECONDS."""
        code = secrets.token_urlsafe(24)
        now_dt = self.clock.now()
        with self.db.write() as conn:
            self.store.forget_old_codes(conn, iso(now_dt - FORGET_CODES_AFTER))
            self.store.insert_code(conn, code_hash=hash_token(code), tenant_id=tenant_id, scope=scope,
                                   token_id=None, now=iso(now_dt),
                                   expires_at=iso(now_dt + timedelta(seconds=LOGIN_CODE_TTL_SECONDS)))
        return code

    def login_link(self, base_url: str, query: str = "") -> str:
        """``<base>/<query>#login=<fresh code>``: the one-click sign-in link to print or open."""
        return f"{base_url.rstrip('/')}/{query}#{LOGIN_FRAGMENT}={self.new_login_code()}"

    def from_code(self, code: str) -> tuple[str, Principal]:
        """Use a login code once: a new session's cookie value and its principal, or Unauthorized."""
        now = self.clock.iso()
        with self.db.write() as conn:
            row, used_now = self.store.use_code(conn, hash_token(code.strip()), now)
            if not used_now:
                if row is None:
                    raise Unauthorized(f"this sign-in link is not valid; {NEW_LINK_HINT}")
                if row["used_at"] is not None:
                    raise Unauthorized(f"this sign-in link was already used (each link works once); {NEW_LINK_HINT}")
                raise Unauthorized(f"this sign-in link has expired (links last 10 minutes); {NEW_LINK_HINT}")
            return self._new_session(conn, row["tenant_id"], row["scope"], row["token_id"], now)

    def from_token(self, token: str) -> tuple[str, Principal]:
        """A session for a working token (the fallback form); it ends when that token stops working."""
        who = self.tokens.authenticate(token)
        with self.db.write() as conn:
            return self._new_session(conn, who.tenant_id, who.scope, who.token_id, self.clock.iso())

    def _new_session(self, conn, tenant_id: str, scope: str, token_id: str | None, now: str) -> tuple[str, Principal]:
        value = secrets.token_urlsafe(32)
        session_id = self.ids.new(SESSION_ID_PREFIX)
        self.store.insert_session(conn, session_id=session_id, session_hash=hash_token(value), tenant_id=tenant_id,
                                  scope=scope, token_id=token_id, now=now)
        return value, Principal(tenant_id=tenant_id, scope=scope, token_id=session_id)

    def authenticate(self, value: str) -> Principal:
        """The principal of a session cookie's value, or Unauthorized (unknown, logged out, revoked)."""
        now = self.clock.iso()
        row = self.store.find_live(hash_token(value.strip()), now)
        if row is None:
            raise Unauthorized(f"this browser's sign-in has ended; {NEW_LINK_HINT}")
        mono = self.clock.monotonic()
        last = self._touched.get(row["id"])
        if last is None or mono - last >= TOUCH_EVERY_SECONDS:  # advisory, like tokens' last_used_at
            self._touched[row["id"]] = mono
            self.store.touch(row["id"], now)
        return Principal(tenant_id=row["tenant_id"], scope=row["scope"], token_id=row["id"])

    def logout(self, value: str) -> bool:
        """End the session behind a cookie value; whether there was one to end."""
        return self.store.revoke_by_hash(hash_token(value.strip()), self.clock.iso())

    def dead_among(self, credential_ids: Collection[str]) -> set[str]:
        """Of these principals' ids (token ids and session ids alike), those that no longer work."""
        sessions = {i for i in credential_ids if i.startswith(SESSION_ID_PREFIX + "_")}
        dead = self.store.dead_among(sessions, self.clock.iso())
        return dead | self.tokens.dead_among(set(credential_ids) - sessions)
