"""Cutting a document's sections into passages for the memory index.

Size: the embedder (all-MiniLM-L6-v2) reads at most 256 word pieces, but it was fine-tuned on texts
cut at 128, and a passage's one vector blurs as more unrelated sentences share it. English prose runs
about 4-5 characters per piece, so a passage holds at most ``MAX_CHARS`` (600) characters, about 130-150
pieces. Measured with ``bench/documents.py`` (a 300-page PDF, 50 questions on facts buried in routine
prose): 900-character passages found the right one in the top five for 0.84 of the questions, 600
for 0.96, at 1.5x the passages to embed. A passage never crosses a section (a page, a heading's
text), so its locator is exact.

Within a section, paragraphs are packed whole while they fit; a paragraph longer than a passage is
cut at sentence ends (and a sentence longer than that at spaces). Consecutive passages of a section
overlap: the next one starts with the last sentences of the previous one, up to ``OVERLAP_CHARS``,
so a fact that straddles a cut is still found whole in one of them.
"""

from __future__ import annotations

import re
from typing import Iterable

from qorven_local.documents.types import Passage, Section

MAX_CHARS = 600
OVERLAP_CHARS = 150
MIN_CHARS = 40     # a section's last piece shorter than this joins the passage before it when it fits

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n")


def split_long(text: str, limit: int | None = None) -> list[str]:
    """Pieces of at most ``limit`` (default ``MAX_CHARS``) characters: at sentence ends, else at spaces, else anywhere."""
    limit = limit or MAX_CHARS
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            head, sentence = sentence[:cut].strip(), sentence[cut:].strip()
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _tail(text: str, limit: int = OVERLAP_CHARS) -> str:
    """The last whole sentences of ``text`` within ``limit`` characters ('' when even one is longer)."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    tail = ""
    for sentence in reversed(sentences):
        candidate = f"{sentence.strip()} {tail}".strip()
        if len(candidate) > limit:
            break
        tail = candidate
    return tail


def section_passages(section: Section) -> list[Passage]:
    """The passages of one section, in order, overlapping by the previous one's last sentences."""
    units: list[str] = []
    for paragraph in _PARAGRAPHS.split(section.text):
        paragraph = paragraph.strip()
        if paragraph:
            units.extend(split_long(paragraph))
    passages: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + 2 + len(unit) > MAX_CHARS:
            passages.append(current)
            overlap = _tail(current)
            current = f"{overlap}\n\n{unit}" if overlap and len(overlap) + 2 + len(unit) <= MAX_CHARS else unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        if passages and len(current) < MIN_CHARS and len(passages[-1]) + 2 + len(current) <= MAX_CHARS:
            passages[-1] += "\n\n" + current
        else:
            passages.append(current)
    return [Passage(text, section.locator) for text in passages]


def passages_of(sections: Iterable[Section]) -> list[Passage]:
    """Every section's passages, in document order."""
    return [passage for section in sections for passage in section_passages(section)]
