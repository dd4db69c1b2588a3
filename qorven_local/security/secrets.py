"""Secrets at rest (provider keys, channel secrets): AES-256-GCM under a per-install key file.

The key lives in ``<data root>/secret.key`` (0600), apart from the database, so a copied
``qorven.db`` alone leaks nothing. Each value is bound to what it belongs to (``aad``, e.g.
``provider:prv_123:key``), so a ciphertext moved to another row does not decrypt.
``cryptography`` is imported on first use (start-up time).
"""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from qorven_local.errors import InternalError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"


def secret_hint(secret: str) -> str:
    """What may be shown of a secret: its last four characters (nothing for short ones)."""
    return "…" + secret[-4:] if len(secret) >= 12 else "…"


class SecretBox:
    """Encrypt and decrypt small strings with the install's key (created on first use)."""

    def __init__(self, key_path: str | os.PathLike) -> None:
        self.key_path = Path(key_path)
        self._aead: AESGCM | None = None
        self._lock = threading.Lock()

    def _cipher(self) -> AESGCM:
        with self._lock:
            if self._aead is None:
                from cryptography.hazmat.primitives.ciphers.aead import AESGCM

                self._aead = AESGCM(self._load_or_create_key())
            return self._aead

    def _load_or_create_key(self) -> bytes:
        if self.key_path.exists():
            key = self.key_path.read_bytes()
            if len(key) != 32:
                raise InternalError(f"{self.key_path} is damaged (expected 32 bytes)")
            return key
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = AESGCM.generate_key(bit_length=256)
        fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key

    def encrypt(self, plaintext: str, aad: str) -> str:
        nonce = os.urandom(12)
        sealed = self._cipher().encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str, aad: str) -> str:
        from cryptography.exceptions import InvalidTag

        version, _, payload = stored.partition(":")
        if version != VERSION:
            raise InternalError("stored secret has an unknown format")
        raw = base64.urlsafe_b64decode(payload.encode("ascii"))
        try:
            return self._cipher().decrypt(raw[:12], raw[12:], aad.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise InternalError("stored secret cannot be decrypted with this install's secret.key") from None
