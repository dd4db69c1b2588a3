"""Find a secret in text we are about to show, however an upstream echoed it, and mask it.

An upstream error body may echo the key it was sent as is, URL-encoded (a key sent in a query string
comes back as ``%2B`` or ``+`` or ``%252B``), or base64-encoded (a key sent as HTTP Basic credentials, or
inside a signed blob, comes back as part of a longer base64 string). One pattern per secret matches
all of these; ``redact`` replaces every match.

Base64 of a secret inside a longer value depends on where the secret starts modulo three bytes, so the
pattern holds the secret's encoding at each of the three offsets, trimmed to the characters that
depend on the secret's bytes alone (the edge characters also carry bits of the neighbours).
"""

from __future__ import annotations

import base64
import re

MASK = "[key]"
# A base64 fragment shorter than this could match ordinary text by chance; keys are far longer.
MIN_FRAGMENT = 8


def _hex(byte: int) -> str:
    """A byte's two hex digits, each letter in either case."""
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in f"{byte:02X}")


def _url_encoded(secret: str) -> str:
    """Each character as itself or percent-encoded (once or twice, hex in any case); a space also as ``+``."""
    parts = []
    for char in secret:
        escapes = [re.escape(char), "".join(f"%(?:25)?{_hex(byte)}" for byte in char.encode("utf-8"))]
        if char == " ":
            escapes.append(r"\+")
        parts.append("(?:" + "|".join(escapes) + ")")
    return "".join(parts)


def _base64_fragments(secret: str) -> set[str]:
    """The base64 (standard and URL-safe) of ``secret`` at each byte offset, kept to its own characters."""
    raw = secret.encode("utf-8")
    fragments = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        first = -(-offset * 8 // 6)  # the first character made of the secret's bits only
        last = (offset + len(raw)) * 8 // 6  # past the last such character
        fragment = encoded[first:last]
        if len(fragment) >= MIN_FRAGMENT:
            fragments.add(fragment)
            fragments.add(fragment.replace("+", "-").replace("/", "_"))
    return fragments


def secret_pattern(secret: str | None) -> re.Pattern[str] | None:
    """A case-sensitive pattern matching ``secret`` and its URL-encoded and base64 echoes (None for no secret)."""
    if not secret:
        return None
    alternatives = [_url_encoded(secret)]
    alternatives += [re.escape(fragment) for fragment in sorted(_base64_fragments(secret), key=len, reverse=True)]
    return re.compile("|".join(alternatives))


def redact(text: str, pattern: re.Pattern[str] | None, mask: str = MASK) -> str:
    """``text`` with every match of ``pattern`` (from ``secret_pattern``) replaced by ``mask``."""
    return pattern.sub(mask, text) if pattern is not None else text
