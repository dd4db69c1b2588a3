"""``qorven providers list|add|test`` over the API (keys are read from stdin, never from argv)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from qorven_local.cli.remote import add_client_flags, print_json, print_table, run_api
from qorven_local.client import Client
from qorven_local.providers.kinds import KIND_NAMES, provider_kind

COLUMNS = [("NAME", "name"), ("ID", "id"), ("KIND", "kind"), ("BASE URL", "base_url"), ("KEY", "key_hint"),
           ("ENABLED", "enabled")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="providers_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="List configured providers.")
    add = sub.add_parser("add", help="Add a provider; its key is read from stdin or a prompt, or --key-env.")
    add.add_argument("name", help="A short name, used in model ids (<name>/<model>).")
    add.add_argument("--kind", choices=KIND_NAMES, default="openai_compatible",
                     help="local = GGUF files in <data root>/models, run in-process (no base URL, no key)")
    add.add_argument("--base-url", default=None, help="API base URL (default: the kind's own).")
    add.add_argument("--key-env", default=None, metavar="VAR", help="Read the key from this environment variable.")
    add.add_argument("--no-key", action="store_true", help="Add without a key (e.g. a local Ollama).")
    test = sub.add_parser("test", help="Check a provider answers (latency, models).")
    test.add_argument("provider", help="Name or id.")
    for p in (ls, add, test):
        add_client_flags(p)


def _read_key(args: argparse.Namespace) -> str | None:
    if args.no_key or not provider_kind(args.kind).remote:
        return None
    if args.key_env:
        key = os.environ.get(args.key_env, "")
        if not key:
            raise SystemExit(f"qorven: ${args.key_env} is empty")
        return key
    if sys.stdin.isatty():
        return getpass.getpass(f"API key for {args.name} (empty for none): ").strip() or None
    return sys.stdin.readline().strip() or None


def _run(client: Client, args: argparse.Namespace) -> int:
    if args.providers_command == "list":
        providers = list(client.providers.iterate())
        print_json(providers) if args.json else print_table(providers, COLUMNS)
    elif args.providers_command == "add":
        key = _read_key(args)
        body = {"name": args.name, "kind": args.kind}
        if args.base_url:
            body["base_url"] = args.base_url
        provider = client.providers.create(body)
        if key:
            provider = client.providers.set_key(provider["id"], key)
        print_json(provider) if args.json else print(
            f"added {provider['name']} ({provider['id']}){' with key ' + provider['key_hint'] if key else ''}")
    else:
        provider = client.providers.resolve(args.provider)
        result = client.providers.test(provider["id"])
        if args.json:
            print_json(result)
        else:
            ok = result.get("ok")
            detail = ", ".join(f"{k}={v}" for k, v in result.items() if k not in ("ok", "models") and v is not None)
            print(f"{provider['name']}: {'ok' if ok else 'FAILED'}  {detail}")
            return 0 if ok else 1
    return 0


run = run_api(_run)
