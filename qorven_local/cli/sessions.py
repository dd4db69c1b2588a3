"""``qorven sessions list`` over the API."""

from __future__ import annotations

import argparse

from qorven_local.cli.remote import add_client_flags, print_json, print_table, run_api

COLUMNS = [("ID", "id"), ("AGENT", "agent"), ("CHANNEL", "channel"), ("STATUS", "status"),
           ("MESSAGES", "message_count"), ("LAST MESSAGE", "last_message_at"), ("TITLE", "title")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="List sessions, newest first.")
    ls.add_argument("--agent", default=None, help="Only this agent's (name or id).")
    ls.add_argument("--channel", default=None)
    ls.add_argument("--status", choices=("active", "archived"), default=None)
    ls.add_argument("--limit", type=int, default=50, help="At most this many (default 50).")
    add_client_flags(ls)


def _run(client, args: argparse.Namespace) -> int:
    agent_id = client.agents.resolve(args.agent)["id"] if args.agent else None
    sessions = []
    for session in client.sessions.iterate(agent_id=agent_id, channel=args.channel, status=args.status):
        sessions.append(session)
        if len(sessions) >= args.limit:
            break
    if args.json:
        print_json(sessions)
        return 0
    names = {a["id"]: a["name"] for a in client.agents.iterate(include_deleted=True)}
    print_table([{**s, "agent": names.get(s["agent_id"], s["agent_id"])} for s in sessions], COLUMNS)
    return 0


run = run_api(_run)
