"""The Responses API's stored answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One answer of ``POST /v1/responses``: the Response object and the conversation it ends."""

    id: str
    tenant_id: str
    model: str
    body: dict[str, Any]                 # the Response object as answered
    messages: list[dict[str, Any]]       # chat-form conversation up to and including this answer
    created_at: str
