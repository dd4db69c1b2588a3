"""``qorven models list`` over the API."""

from __future__ import annotations

import argparse

from qorven_local.cli.remote import add_client_flags, print_json, print_table, run_api


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="Models clients may pick (the default marked *).")
    ls.add_argument("--catalog", action="store_true", help="Every model the providers offer instead.")
    ls.add_argument("--refresh", action="store_true", help="With --catalog: ask the providers again.")
    add_client_flags(ls)


def _run(client, args: argparse.Namespace) -> int:
    if args.catalog:
        catalog = client.models.catalog(refresh=args.refresh or None)
        if args.json:
            print_json(catalog)
            return 0
        print_table(catalog.get("data", []), [("ID", "id"), ("OWNED BY", "owned_by")])
        for error in catalog.get("errors") or []:
            print(f"! {error}")
        return 0
    models = client.models.list()
    if args.json:
        print_json(models)
        return 0
    rows = [{"id": m["id"], "kind": (m.get("qorven") or {}).get("kind"),
             "default": "*" if (m.get("qorven") or {}).get("default") else ""} for m in models]
    print_table(rows, [("ID", "id"), ("KIND", "kind"), ("DEFAULT", "default")])
    return 0


run = run_api(_run)
