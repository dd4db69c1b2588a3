"""The ``qorven`` command: one subcommand module each, registered here."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from qorven_local import __version__
from qorven_local.cli import auth, memory, serve
from qorven_local.cli import agents, chat, db, doctor, models, providers, sessions
from qorven_local.cli import login
from qorven_local.cli import mcp

# (name, help, add_arguments(parser), run(args) -> exit code), in the order `qorven --help` lists them.
COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = [
    ("serve", "Run the API server (no window) and print its URL.", serve.add_arguments, serve.run),
    ("auth", "Tokens: rotate-token, create-token.", auth.add_arguments, auth.run),
    ("login", "Print (--open: open) a one-click sign-in link for the UI of the server on this data root.",
     login.add_arguments, login.run),
    ("chat", "Talk to an agent, answers streamed (/new, /agent NAME, /exit).", chat.add_arguments, chat.run),
    ("agents", "Agents: list, show, create, delete.", agents.add_arguments, agents.run),
    ("sessions", "Sessions: list.", sessions.add_arguments, sessions.run),
    ("models", "Models: list (--catalog for every provider model).", models.add_arguments, models.run),
    ("providers", "Model providers: list, add, test.", providers.add_arguments, providers.run),
    ("db", "The database file: backup PATH (online, consistent), check.", db.add_arguments, db.run),
    ("doctor", "Check SQLite, sqlite-vec, the model, the data root, the port and the GUI backend.",
     doctor.add_arguments, doctor.run),
    ("memory", "Memories: search, save (via the API); reindex, import, export (local database).",
     memory.add_arguments, memory.run),
    ("mcp", "Serve Qorven's agents and memory as MCP tools over stdio (for apps that launch a command).",
     mcp.add_arguments, mcp.run),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qorven", description="Qorven Local: agents on your own machine.")
    parser.add_argument("--version", action="version", version=f"qorven {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text, add_arguments, run in COMMANDS:
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
