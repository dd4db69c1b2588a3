"""``qvn_`` API tokens: minted with 256 random bits, shown once, stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from datetime import timedelta
from pathlib import Path
from typing import Collection

from qorven_local.clock import Clock, IdFactory, iso
from qorven_local.config import DEFAULT_TENANT
from qorven_local.errors import GraceToken, NotFound, Unauthorized, ValidationError
from qorven_local.models import Page, Principal
from qorven_local.storage.db import Database
from qorven_local.storage.tenants import TenantStore
from qorven_local.security.private_file import write_private_file
from qorven_local.security.types import TokenInfo
from qorven_local.storage.tokens import TokenStore, row_to_info

TOKEN_PREFIX = "qvn_"
TOKEN_RE = re.compile(r"^qvn_[A-Za-z0-9_-]{43}$")
TOUCH_EVERY_SECONDS = 60  # last_used_at is advisory; writing it on every request would serialize reads


def new_token() -> str:
    """A fresh token: ``qvn_`` + 43 url-safe characters (256 random bits, no padding)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_hint(token: str) -> str:
    """What may be shown of a token: its last four characters."""
    return "…" + token[-4:]


class TokenService:
    """Issue, authenticate, rotate, list and revoke tokens.

    The methods that manage tokens take the caller's principal (``by``; None for the local operator,
    the CLI on the data root) and refuse a token whose revocation a rotation has scheduled: a
    rotated-out token must not mint, extend or revoke tokens during its grace.
    """

    def __init__(self, db: Database, clock: Clock, ids: IdFactory, seed_tenant,
                 admin_token_path: Path | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids
        self.store = TokenStore(db)
        self.tenants = TenantStore(db)
        self._seed_tenant = seed_tenant  # called inside the transaction that creates a tenant
        self._touched: dict[str, float] = {}
        self._touch_lock = threading.Lock()
        # <data root>/admin-token: the local CLI's token follows every rotation of tenant default's
        self.admin_token_path = admin_token_path

    def issue(self, tenant_id: str, scope: str = "user", label: str | None = None,
              token: str | None = None, *, by: Principal | None = None, kind: str = "api",
              expires_at: str | None = None) -> str:
        """Create (and return, once) a token for a tenant, creating the tenant on first use."""
        self._check_manager(by)
        if scope not in ("admin", "user"):
            raise ValidationError("scope must be admin or user", param="scope")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", tenant_id):
            raise ValidationError("tenant must be a lowercase slug (a-z, 0-9, _ and -)", param="tenant")
        token = token or new_token()
        if not TOKEN_RE.match(token):
            raise ValidationError("a token must be qvn_ followed by 43 url-safe characters", param="token")
        now = self.clock.iso()
        with self.db.write() as conn:
            if self.tenants.create_if_missing(conn, tenant_id, now):
                self._seed_tenant(conn, tenant_id, now)
            self.store.insert(conn, token_id=self.ids.new("tok"), tenant_id=tenant_id,
                              token_hash=hash_token(token), scope=scope, label=label,
                              hint=token_hint(token), now=now, kind=kind, expires_at=expires_at)
        return token

    def authenticate(self, token: str | None) -> Principal:
        """The principal for a presented token, or Unauthorized (missing, unknown or revoked)."""
        if not token:
            raise Unauthorized("missing token: send Authorization: Bearer <token> or x-api-key")
        row = self.store.find_by_hash(hash_token(token.strip()))
        now = self.clock.iso()
        if row is None or row["revoked_at"] or (row["revoke_after"] and row["revoke_after"] <= now) or (
                row["expires_at"] and row["expires_at"] <= now):
            raise Unauthorized("invalid or revoked token")
        self._maybe_touch(row["id"], now)
        return Principal(tenant_id=row["tenant_id"], scope=row["scope"], token_id=row["id"])

    def _maybe_touch(self, token_id: str, now: str) -> None:
        mono = self.clock.monotonic()
        with self._touch_lock:
            last = self._touched.get(token_id)
            if last is not None and mono - last < TOUCH_EVERY_SECONDS:
                return
            self._touched[token_id] = mono
        self.store.touch(token_id, now)

    def rotate_admin(self, tenant_id: str = "default", label: str | None = None, grace_seconds: int = 0,
                     *, by: Principal | None = None) -> tuple[str, str]:
        """Mint a new admin token; revoke the tenant's other admin tokens after ``grace_seconds``.

        For tenant ``default`` the new token replaces ``<data root>/admin-token`` (the local CLI's),
        whether the rotation came from the CLI or the UI.

        Returns the token (shown once) and when the previous ones stop working (a token already in
        a grace keeps its earlier end).
        """
        self._check_manager(by)
        if grace_seconds < 0:
            raise ValidationError("grace must be >= 0 seconds", param="grace")
        token = new_token()
        now_dt = self.clock.now()
        now = iso(now_dt)
        revoke_at = iso(now_dt + timedelta(seconds=grace_seconds))
        with self.db.write() as conn:
            old = self.store.live_admin_tokens(conn, tenant_id, now)
            if self.tenants.create_if_missing(conn, tenant_id, now):
                self._seed_tenant(conn, tenant_id, now)
            self.store.insert(conn, token_id=self.ids.new("tok"), tenant_id=tenant_id,
                              token_hash=hash_token(token), scope="admin", label=label or "rotated",
                              hint=token_hint(token), now=now)
            for row in old:
                self.store.schedule_revoke(conn, row["id"], revoke_at, now)
        if tenant_id == DEFAULT_TENANT and self.admin_token_path is not None:
            write_private_file(self.admin_token_path, token + "\n")
        return token, revoke_at

    def revoke(self, token_id: str) -> None:
        self.store.revoke(token_id, self.clock.iso())

    def list_page(self, tenant_id: str, *, limit: int | None = None, cursor: str | None = None,
                  by: Principal | None = None) -> Page:
        """The tenant's tokens (TokenInfo, newest first): never a token or its hash."""
        self._check_manager(by)
        return self.store.page(tenant_id, limit=limit, cursor=cursor)

    def list_all(self, tenant_id: str) -> list[TokenInfo]:
        """Every token of the tenant, newest first (the local CLI's list)."""
        return self.store.list_for_tenant(tenant_id)

    def revoke_one(self, token_id: str, *, tenant_id: str | None, by: Principal | None = None) -> TokenInfo:
        """Revoke a token now and return its record; with ``tenant_id``, another tenant's id is not found
        (None: any tenant's, for the local operator)."""
        self._check_manager(by)
        row = self.store.get(token_id)
        if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
            raise NotFound(f"token {token_id} not found")
        self.store.revoke(token_id, self.clock.iso())
        return row_to_info(self.store.get(token_id))

    def expire_in(self, seconds: float) -> str:
        """The moment ``seconds`` from now (an ``expires_at``)."""
        return iso(self.clock.now() + timedelta(seconds=seconds))

    def extend(self, token_ids: Collection[str], expires_at: str) -> None:
        """Push these tokens' expiry to ``expires_at`` (revoked ones stay revoked)."""
        self.store.extend(token_ids, expires_at)

    def revoke_kind(self, kind: str) -> int:
        """Revoke every live token of a kind (``launch``: a previous launch's leftovers); how many."""
        return self.store.revoke_kind(kind, self.clock.iso())

    def dead_among(self, token_ids: Collection[str]) -> set[str]:
        """Those of ``token_ids`` that no longer authenticate (the /ws gateway closes their sessions)."""
        return self.store.dead_among(token_ids, self.clock.iso())

    def _check_manager(self, by: Principal | None) -> None:
        if by is None or by.token_id is None:
            return
        row = self.store.get(by.token_id)
        if row is not None and row["revoke_after"]:
            raise GraceToken(f"this token was rotated out and stops working at {row['revoke_after']}; it cannot "
                             "manage tokens: use the new admin token")

    def has_any(self) -> bool:
        return self.store.count() > 0
