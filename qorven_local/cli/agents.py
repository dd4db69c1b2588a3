"""``qorven agents list|show|create|delete`` over the API."""

from __future__ import annotations

import argparse

from qorven_local.cli.remote import add_client_flags, print_json, print_table, run_api

COLUMNS = [("NAME", "name"), ("ID", "id"), ("MODEL", "model"), ("BUILTIN", "builtin"), ("DESCRIPTION", "description")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="agents_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="List agents.")
    ls.add_argument("--include-deleted", action="store_true")
    show = sub.add_parser("show", help="Show one agent (name or id) as JSON.")
    show.add_argument("agent")
    create = sub.add_parser("create", help="Create an agent.")
    create.add_argument("name", help="Unique slug, e.g. scout.")
    create.add_argument("--instructions", default=None)
    create.add_argument("--description", default=None)
    create.add_argument("--display-name", default=None)
    create.add_argument("--model", default=None, help="Model id (default: the default model).")
    create.add_argument("--tool", action="append", dest="tools", default=None, help="A tool id (repeatable).")
    delete = sub.add_parser("delete", help="Soft-delete an agent (its sessions and memories are kept).")
    delete.add_argument("agent")
    for p in (ls, show, create, delete):
        add_client_flags(p)


def _run(client, args: argparse.Namespace) -> int:
    if args.agents_command == "list":
        agents = list(client.agents.iterate(include_deleted=args.include_deleted or None))
        print_json(agents) if args.json else print_table(agents, COLUMNS)
    elif args.agents_command == "show":
        print_json(client.agents.resolve(args.agent))
    elif args.agents_command == "create":
        body = {"name": args.name}
        for key in ("instructions", "description", "display_name", "model", "tools"):
            if getattr(args, key) is not None:
                body[key] = getattr(args, key)
        agent = client.agents.create(body)
        print_json(agent) if args.json else print(f"created {agent['name']} ({agent['id']})")
    else:
        agent = client.agents.delete(client.agents.resolve(args.agent)["id"])
        print_json(agent) if args.json else print(f"deleted {agent['name']} ({agent['id']})")
    return 0


run = run_api(_run)
