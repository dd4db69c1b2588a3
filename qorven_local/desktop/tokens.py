"""Per-launch API tokens for the desktop window and the browser fallback.

Each is a real admin token of tenant ``default`` (the UI needs admin routes: providers, keys,
memory writes), created for this launch, never written to disk, and revoked when the launch ends.
"""

from __future__ import annotations

import logging
import threading

from qorven_local.security.tokens import TokenService, hash_token

log = logging.getLogger("qorven.desktop")

UI_TENANT = "default"


class LaunchTokens:
    """Mint tokens for this launch and revoke all of them at exit."""

    def __init__(self, token_service: TokenService) -> None:
        self.tokens = token_service
        self._ids: list[str] = []
        self._lock = threading.Lock()

    def issue(self, label: str) -> str:
        """A fresh admin token; only its hash is stored."""
        token = self.tokens.issue(UI_TENANT, "admin", label=label)
        row = self.tokens.store.find_by_hash(hash_token(token))
        with self._lock:
            self._ids.append(row["id"])
        return token

    def revoke_all(self) -> None:
        """Revoke every token this launch minted (the server may still be up or already stopped)."""
        with self._lock:
            ids, self._ids = self._ids, []
        for token_id in ids:
            try:
                self.tokens.revoke(token_id)
            except Exception:  # a closed database must not keep the app from exiting
                log.exception("could not revoke launch token %s", token_id)
