"""Rows to dataclasses and back: the column-by-name mapping every store would otherwise spell out."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, Mapping, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    import sqlean

D = TypeVar("D", bound="DataclassInstance")


def from_row(cls: type[D], row: sqlean.Row, **converted: Any) -> D:
    """Build dataclass ``cls`` from the row's columns of the same names.

    ``converted`` gives the fields stored in another form (JSON text, 0/1 flags) or not stored in
    the row at all; columns without a field (``_rowid``) are ignored.
    """
    columns = set(row.keys())
    values = {f.name: row[f.name] for f in fields(cls) if f.name in columns and f.name not in converted}
    return cls(**values, **converted)


def insert_row(conn: sqlean.Connection, table: str, values: Mapping[str, Any]) -> None:
    """INSERT one row of column -> value; the table and column names are ours, never request input."""
    columns = ", ".join(values)
    marks = ",".join("?" * len(values))
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))
