"""What the API-backed ``qorven`` commands share: a Client from flags, tables, JSON, error exits."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Iterable

from qorven_local.client import APIError, Client, ClientError, ConnectionFailed


def add_client_flags(parser: argparse.ArgumentParser, json_output: bool = True) -> None:
    """--server/--token (else $QORVEN_SERVER/$QORVEN_TOKEN, else the local install) and --json."""
    parser.add_argument("--server", default=None,
                        help="Base URL of the server [env QORVEN_SERVER; default: the local install, port 7421]")
    parser.add_argument("--token", default=None,
                        help="API token [env QORVEN_TOKEN; default: <data root>/admin-token]")
    parser.add_argument("--home", default=None, help="Data root whose admin-token to use [env QORVEN_HOME]")
    if json_output:
        parser.add_argument("--json", action="store_true", help="Print the API's JSON instead of a table.")


UNAUTHORIZED_HINT = ("(the server refused this token. On the server's computer, `qorven auth rotate-token` "
                     "writes a fresh admin token to <data root>/admin-token, which this command reads when "
                     "neither --token nor QORVEN_TOKEN is set; or pass a working token with --token.)")


def open_client(args: argparse.Namespace) -> Client:
    return Client(getattr(args, "server", None), getattr(args, "token", None), home=getattr(args, "home", None))


def run_api(action: Callable[[Client, argparse.Namespace], int | None]) -> Callable[[argparse.Namespace], int]:
    """Wrap a command body: open the client, turn typed errors into one stderr line and exit code."""
    def run(args: argparse.Namespace) -> int:
        try:
            with open_client(args) as client:
                return int(action(client, args) or 0)
        except ConnectionFailed as exc:
            print(f"qorven: {exc}\n(is Qorven running? start it, or set QORVEN_SERVER)", file=sys.stderr)
            return 3
        except APIError as exc:
            print(f"qorven: {exc.code}: {exc.message}", file=sys.stderr)
            if exc.status == 401:
                print(UNAUTHORIZED_HINT, file=sys.stderr)
            return 1
        except ClientError as exc:
            print(f"qorven: {exc}", file=sys.stderr)
            return 1
    return run


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def print_table(rows: Iterable[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """Rows as aligned columns: ``columns`` is [(header, key)]; missing values print as '-'."""
    table = [[header for header, _ in columns]]
    for row in rows:
        table.append([_cell(row.get(key)) for _, key in columns])
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."
