"""Secrets at rest: AES-GCM with a per-install key file."""

from __future__ import annotations

import stat

import pytest

from qorven_local.errors import InternalError
from qorven_local.security.secrets import SecretBox, secret_hint


def test_round_trip_and_binding(tmp_path):
    box = SecretBox(tmp_path / "secret.key")
    sealed = box.encrypt("sk-live-1234567890abcdef", "provider:prv_1:key")
    assert "1234567890" not in sealed and sealed.startswith("v1:")
    assert box.decrypt(sealed, "provider:prv_1:key") == "sk-live-1234567890abcdef"
    with pytest.raises(InternalError):
        box.decrypt(sealed, "provider:prv_2:key")  # moved to another row
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert SecretBox(tmp_path / "secret.key").decrypt(sealed, "provider:prv_1:key") == "sk-live-1234567890abcdef"


def test_another_install_key_cannot_decrypt(tmp_path):
    sealed = SecretBox(tmp_path / "a.key").encrypt("secret-value-123456", "x")
    with pytest.raises(InternalError):
        SecretBox(tmp_path / "b.key").decrypt(sealed, "x")


def test_hint_shows_only_the_tail():
    assert secret_hint("sk-abcdefghijklmnop") == "…mnop"
    assert secret_hint("short") == "…"
