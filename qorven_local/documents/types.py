"""The documents domain's value types: a stored ``Document``, a ``Section`` read from a file and a ``Passage``.

A reader turns a file into sections (a page, a heading's text, a block of lines), each with its
``locator``; chunking cuts sections into passages; passages are stored as memories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STATUSES = ("processing", "ready", "failed")


@dataclass
class Section:
    """A piece of a document's text and where it sits (``"p. 3"``, ``"Setup › Linux"``, ``"lines 1-40"``)."""

    text: str
    locator: str | None = None


@dataclass
class Passage:
    """One passage cut for the memory index: its text and where it came from."""

    text: str
    locator: str | None = None


@dataclass
class ReadDocument:
    """What a reader got out of a file: its sections, its page count (PDF) and a title it names itself."""

    sections: list[Section]
    media_type: str
    pages: int | None = None
    title: str | None = None


@dataclass
class Document:
    """One uploaded document (``seq`` is its integer key; ``audience`` the memory partition owner)."""

    id: str
    tenant_id: str
    scope: str
    audience: str
    agent_id: str | None
    session_id: str | None
    title: str
    filename: str | None
    media_type: str
    bytes: int
    sha256: str
    status: str
    created_at: str
    error: str | None = None
    pages: int | None = None
    chunks: int = 0
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The document as the API shows it."""
        return {
            "id": self.id, "object": "document", "title": self.title, "filename": self.filename,
            "media_type": self.media_type, "bytes": self.bytes, "sha256": self.sha256, "scope": self.scope,
            "agent_id": self.agent_id, "session_id": self.session_id, "status": self.status, "error": self.error,
            "pages": self.pages, "chunks": self.chunks, "created_at": self.created_at,
        }
