"""Per-launch API tokens (``kind = launch``): what earlier versions gave the window and the browser.

The window and the browser now sign in with one-click codes and the ``qorven_session`` cookie
(``security/browser_sessions.py``), so a launch mints no token; it still sweeps the live launch
tokens an earlier version's launch left behind (``sweep``). The class can still mint expiring
admin tokens that the running launch renews (``LAUNCH_TOKEN_TTL``) and revokes at exit, for a
front end that needs a bearer token.
"""

from __future__ import annotations

import logging
import threading

from qorven_local.security.tokens import TokenService, hash_token

log = logging.getLogger("qorven.desktop")

UI_TENANT = "default"
LAUNCH_KIND = "launch"
LAUNCH_TOKEN_TTL = 3600.0          # seconds a launch token outlives its last renewal
RENEW_EVERY = LAUNCH_TOKEN_TTL / 6  # several renewals per TTL: one missed write does not end the session


class LaunchTokens:
    """Mint tokens for this launch, keep them alive while it runs, and revoke all of them at exit."""

    def __init__(self, token_service: TokenService, ttl: float = LAUNCH_TOKEN_TTL,
                 renew_every: float = RENEW_EVERY) -> None:
        self.tokens = token_service
        self.ttl = ttl
        self.renew_every = renew_every
        self._ids: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def sweep(self) -> int:
        """Revoke every launch token still live: one launch per data root, so they are leftovers."""
        swept = self.tokens.revoke_kind(LAUNCH_KIND)
        if swept:
            log.info("revoked %d launch token(s) left over by an earlier launch", swept)
        return swept

    def issue(self, label: str) -> str:
        """A fresh admin token that expires unless renewed; only its hash is stored."""
        token = self.tokens.issue(UI_TENANT, "admin", label=label, kind=LAUNCH_KIND,
                                  expires_at=self.tokens.expire_in(self.ttl))
        row = self.tokens.store.find_by_hash(hash_token(token))
        with self._lock:
            self._ids.append(row["id"])
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew_loop, name="qorven-launch-tokens", daemon=True)
                self._renewer.start()
        return token

    def renew(self) -> None:
        """Push this launch's tokens' expiry a TTL ahead."""
        with self._lock:
            ids = list(self._ids)
        self.tokens.extend(ids, self.tokens.expire_in(self.ttl))

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_every):  # ends with revoke_all
            try:
                self.renew()
            except Exception:  # a busy or closing database: the next tick tries again
                log.exception("could not renew the launch tokens")

    def revoke_all(self) -> None:
        """Revoke every token this launch minted (the server may still be up or already stopped)."""
        self._stop.set()
        with self._lock:
            ids, self._ids = self._ids, []
            renewer = self._renewer
        if renewer is not None:
            renewer.join(5)
        for token_id in ids:
            try:
                self.tokens.revoke(token_id)
            except Exception:  # a closed database must not keep the app from exiting
                log.exception("could not revoke launch token %s", token_id)
