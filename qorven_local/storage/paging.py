"""Keyset pagination over rowid: stable under concurrent inserts, no duplicates, no skips.

A cursor encodes the last row's sort key (its rowid) and id; it is opaque to clients (base64url
JSON) and a malformed one is a ``validation_error``. Newest-first lists page downward in rowid;
oldest-first lists page upward. Rows inserted while a client pages land above (newest-first) or
below (oldest-first) what it has not yet read, never in between.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Callable, Sequence, TypeVar

from qorven_local.errors import ValidationError
from qorven_local.models import Page
from qorven_local.storage.db import Connection, Row

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_ROWID = 2**63 - 1  # SQLite's INTEGER range; a larger key cannot be bound and would answer 500
MAX_CURSOR_CHARS = 512  # ours are under 100; a longer one is not ours, so it is not parsed at all


def encode_cursor(rowid: int, item_id: str) -> str:
    raw = json.dumps({"k": rowid, "id": item_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The rowid a cursor points after; anything malformed (not ours, or out of range) is a 400."""
    try:
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError
        rowid = data.get("k")
        # rowids are positive; a negative key would silently restart a list instead of failing
        if not isinstance(rowid, int) or isinstance(rowid, bool) or not 0 <= rowid <= MAX_ROWID:
            raise ValueError
        return rowid
    except (ValueError, TypeError, binascii.Error, UnicodeError, RecursionError):
        raise ValidationError("cursor is malformed; pass next_cursor from the previous page unchanged",
                              param="cursor") from None


def check_limit(limit: int | None) -> int:
    """The page size asked for, the default when none, or ``validation_error`` when out of range."""
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", param="limit")
    return limit


def tenant_filters(tenant_id: str, filters: dict[str, Any], keys: Sequence[str]) -> tuple[list[str], list[Any]]:
    """``WHERE`` terms and parameters for a tenant's rows whose ``keys`` columns equal the given filters
    (a filter that is None or absent is not applied)."""
    where, params = ["tenant_id = ?"], [tenant_id]
    for key in keys:
        if filters.get(key) is not None:
            where.append(f"{key} = ?")
            params.append(filters[key])
    return where, params


def fetch_page(conn: Connection, select: str, where: Sequence[str], params: Sequence[Any], *, limit: int | None,
               cursor: str | None, newest_first: bool, build: Callable[[Row], Any]) -> Page:
    """Run ``select`` (which must select ``rowid AS _rowid`` and ``id``) with keyset paging."""
    limit = check_limit(limit)
    clauses = list(where)
    args = list(params)
    if cursor:
        clauses.append("rowid < ?" if newest_first else "rowid > ?")
        args.append(decode_cursor(cursor))
    sql = select
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += f" ORDER BY rowid {'DESC' if newest_first else 'ASC'} LIMIT ?"
    args.append(limit + 1)
    rows = conn.execute(sql, args).fetchall()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["_rowid"], rows[-1]["id"]) if has_more and rows else None
    return Page(items=[build(r) for r in rows], has_more=has_more, next_cursor=next_cursor)


def page_items(items: Sequence[T], *, limit: int | None, cursor: str | None, key: Callable[[T], str]) -> Page:
    """One page of a list computed in memory (in its own order); the cursor is the position and key of
    the last item shown, so it is as opaque and as strictly checked as a stored list's."""
    limit = check_limit(limit)
    start = decode_cursor(cursor) + 1 if cursor else 0
    shown = list(items[start:start + limit])
    has_more = start + limit < len(items)
    next_cursor = encode_cursor(start + len(shown) - 1, key(shown[-1])) if has_more and shown else None
    return Page(items=shown, has_more=has_more, next_cursor=next_cursor)
