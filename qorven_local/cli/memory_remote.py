"""``qorven memory search|save``: memory through the API (``cli/memory.py`` registers them beside its
local reindex/import/export).

    qorven memory save "Ada prefers tea" --kind preference --agent prime
    qorven memory search "what does Ada drink?" --agent prime
"""

from __future__ import annotations

import argparse
from typing import Any

from qorven_local.cli.remote import add_client_flags, print_json, print_table, run_api
from qorven_local.client import Client
from qorven_local.memory.types import KINDS
COLUMNS = [("SCORE", "score"), ("ID", "id"), ("KIND", "kind"), ("SCOPE", "scope"), ("CONTENT", "content")]


def add_search_save(sub: argparse._SubParsersAction) -> None:
    """Add ``search`` and ``save`` to the ``qorven memory`` subcommands."""
    search = sub.add_parser("search", help="Find memories by meaning and keywords (best first).")
    search.add_argument("query")
    search.add_argument("--agent", default=None, help="An agent's memories plus the workspace's (name or id).")
    search.add_argument("--session", default=None, help="Only this session's memories.")
    search.add_argument("--kind", action="append", choices=KINDS, default=None, help="Only these kinds.")
    search.add_argument("-n", "--max-results", type=int, default=10)
    add_client_flags(search)
    save = sub.add_parser("save", help="Save a memory (a near-duplicate updates the existing one).")
    save.add_argument("content")
    save.add_argument("--kind", choices=KINDS, default="note")
    save.add_argument("--agent", default=None, help="An agent's memory (name or id); default the workspace's.")
    save.add_argument("--session", default=None, help="A session's memory.")
    save.add_argument("--importance", type=float, default=None, help="0..1")
    add_client_flags(save)


def _scope(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    """The scope fields of a search or save: a session's, an agent's, else the workspace's."""
    if args.session:
        return {"scope": "session", "session_id": args.session}
    if args.agent:
        return {"scope": "agent", "agent_id": client.agents.resolve(args.agent)["id"]}
    return {"scope": "workspace"}


def _run(client: Client, args: argparse.Namespace) -> int:
    """``qorven memory search`` or ``save`` through the API."""
    if args.memory_command == "search":
        found = client.memory.search(args.query, max_results=args.max_results, kinds=args.kind,
                                     **_scope(client, args))
        if args.json:
            print_json(found)
        else:
            print_table([{**m, "score": f"{m['score']:.3f}"} for m in found], COLUMNS)
        return 0
    memory = client.memory.save(args.content, kind=args.kind, importance=args.importance, **_scope(client, args))
    if args.json:
        print_json(memory)
    else:
        print(f"{'updated' if memory.get('deduplicated') else 'saved'} {memory['id']} ({memory['scope']}, "
              f"{memory['kind']})")
    return 0


run_search_save = run_api(_run)
