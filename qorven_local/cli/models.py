"""``qorven models list`` over the API; ``qorven models import FILE.gguf`` into the local data root."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qorven_local.cli.common import add_home_flag, fail, local_config
from qorven_local.cli.progress import ProgressBar
from qorven_local.cli.remote import add_client_flags, print_json, print_table, run_api
from qorven_local.client import Client
from qorven_local.errors import ValidationError
from qorven_local.providers.local.importer import default_allowed_roots, import_model
from qorven_local.providers.local.options import LocalOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="Models clients may pick (the default marked *).")
    ls.add_argument("--catalog", action="store_true", help="Every model the providers offer instead.")
    ls.add_argument("--refresh", action="store_true", help="With --catalog: ask the providers again.")
    add_client_flags(ls)
    imp = sub.add_parser("import", help="Copy a GGUF model into <data root>/models for local providers "
                                        "(progress bar, SHA-256); the file must be under your home folder "
                                        "or the data root.")
    imp.add_argument("file", help="The .gguf file to import.")
    imp.add_argument("--json", action="store_true", help="Print the result as JSON.")
    add_home_flag(imp)


def _run(client: Client, args: argparse.Namespace) -> int:
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


_run_remote = run_api(_run)


def run(args: argparse.Namespace) -> int:
    if args.models_command == "import":
        return import_file(args)
    return _run_remote(args)


def import_file(args: argparse.Namespace) -> int:
    """Copy the file into this data root's models folder; a running server lists it at once."""
    config = local_config(args)
    options = LocalOptions(config.models_dir, allowed_roots=default_allowed_roots(config.home))
    name = Path(args.file).name
    try:
        with ProgressBar(0, f"import {name}", unit="bytes") as bar:
            result = import_model(str(Path(args.file).expanduser().absolute()), options,
                                  progress=lambda done, total: bar.update(done, total))
    except ValidationError as exc:
        fail(exc.message)
    if args.json:
        print_json(result)
        return 0
    print(f"imported {result['file']} ({result['size_bytes']} bytes) into {config.models_dir}")
    print(f"sha256 {result['sha256']}")
    print(f"model id: <local provider name>/{result['model']} (add a provider of kind 'local' if you have none)",
          file=sys.stderr)
    return 0
