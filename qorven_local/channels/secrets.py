"""A binding's secrets and a job's reply context, sealed with the install's SecretBox.

Secrets are write-only: encrypted (aad ``channel:<binding id>:<name>``), never returned, never
logged. A job's reply context (what ``send`` needs besides the chat id) may hold a credential
(Discord's interaction token), so it is stored encrypted too (aad ``channel-job:<id>:reply_context``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from qorven_local.channels.types import Inbound
from qorven_local.security.secrets import SecretBox
from qorven_local.storage.channels import BindingStore

if TYPE_CHECKING:
    import sqlean


class ChannelSecrets:
    """Seal and open binding secrets and stored inbound messages."""

    def __init__(self, box: SecretBox, bindings: BindingStore) -> None:
        self.box = box
        self.bindings = bindings

    @staticmethod
    def _aad(binding_id: str, name: str) -> str:
        return f"channel:{binding_id}:{name}"

    def values(self, binding_id: str, name: str) -> list[str]:
        """Every stored value of a secret, current first (then the previous one, if kept)."""
        aad = self._aad(binding_id, name)
        return [self.box.decrypt(c, aad) for c in self.bindings.secret_ciphertexts(binding_id, name)]

    def current(self, binding_id: str, name: str | None) -> str | None:
        """The current value of a secret; None if unset or ``name`` is None (the kind sends without one)."""
        if not name:
            return None
        values = self.values(binding_id, name)
        return values[0] if values else None

    def put(self, conn: sqlean.Connection, binding_id: str, name: str, value: str, now: str, *,
            keep_previous: bool) -> None:
        """Store a new current value, keeping the old one as the previous value or dropping it."""
        sealed = self.box.encrypt(value, self._aad(binding_id, name))
        self.bindings.put_secret(conn, binding_id, name, sealed, now, keep_previous=keep_previous)

    def seal_inbound(self, job_id: str, inbound: Inbound) -> dict[str, Any]:
        """The inbound message as a job stores it, its reply context encrypted."""
        stored = dataclasses.asdict(inbound)
        context = json.dumps(stored.pop("reply_context") or {})
        stored["reply_context_sealed"] = self.box.encrypt(context, f"channel-job:{job_id}:reply_context")
        return stored

    def open_inbound(self, job_id: str, stored: dict[str, Any]) -> Inbound:
        """The inbound message back from what ``seal_inbound`` stored."""
        fields = dict(stored)
        sealed = fields.pop("reply_context_sealed", None)
        context = json.loads(self.box.decrypt(sealed, f"channel-job:{job_id}:reply_context")) if sealed else {}
        return Inbound(**fields, reply_context=context)
