"""``qorven chat [AGENT]``: talk to an agent in the terminal, answers streamed as they are written.

Lines are messages; ``/new`` starts a fresh session (the current one is archived, its messages
kept), ``/agent NAME`` switches agent, ``/exit`` (or end of input) quits, Ctrl-C stops a running
answer. Tool calls and recalled memories are shown on stderr so stdout holds only the answers.
``-m TEXT`` sends one message and exits (for scripts).
"""

from __future__ import annotations

import argparse
import json
import sys

from qorven_local.cli.remote import add_client_flags, run_api
from qorven_local.client import APIError, Client

CHANNEL = "cli"
HELP = "Commands: /new (fresh session), /agent NAME (switch agent), /exit. Ctrl-C stops an answer."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("agent", nargs="?", default="prime", help="Agent name or id (default: prime).")
    parser.add_argument("-m", "--message", default=None, help="Send this one message, print the answer, exit.")
    parser.add_argument("--session", default=None, help="Continue this session id instead of the agent's CLI one.")
    add_client_flags(parser, json_output=False)


class ChatLoop:
    """One terminal conversation: the current agent and session, and how events are shown."""

    def __init__(self, client: Client, out=None, err=None) -> None:
        self.client = client
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.agent: dict = {}
        self.session: dict = {}

    def switch_agent(self, name: str, session_id: str | None = None) -> None:
        agent = self.client.agents.resolve(name)
        session = (self.client.sessions.get(session_id) if session_id
                   else self.client.sessions.open(agent["id"], channel=CHANNEL))
        self.agent, self.session = agent, session
        self.note(f"{agent['name']} · session {session['id']} ({session.get('message_count', 0)} messages)")

    def new_session(self) -> None:
        self.client.sessions.archive(self.session["id"])
        self.session = self.client.sessions.open(self.agent["id"], channel=CHANNEL)
        self.note(f"new session {self.session['id']}")

    def note(self, text: str) -> None:
        print(f"-- {text}", file=self.err, flush=True)

    def send(self, text: str) -> bool:
        """Stream one answer; False when it failed (the error is printed, the loop goes on)."""
        started = False
        events = self.client.chat.stream(self.agent["id"], text, session_id=self.session["id"])
        try:
            for event in events:
                if event.type == "delta" and event.text:
                    self.out.write(event.text)
                    self.out.flush()
                    started = True
                elif event.type == "tool_call":
                    self.note(f"tool {event.data.get('tool')} {json.dumps(event.data.get('arguments'))[:200]}")
                elif event.type == "tool_result":
                    state = "ok" if event.data.get("ok") else "failed"
                    self.note(f"tool {event.data.get('tool')} {state} in {event.data.get('duration_ms')} ms")
                elif event.type == "memory" and event.data.get("recalled"):
                    self.note(f"recalled {len(event.data['recalled'])} memories")
                elif event.type == "session" and event.data.get("session_id"):
                    self.session["id"] = event.data["session_id"]
        except KeyboardInterrupt:
            events.close()  # closing the stream stops the run on the server
            self.out.write("\n")
            self.note("stopped")
            return False
        except APIError as exc:
            if started:
                self.out.write("\n")
            print(f"error: {exc.code}: {exc.message}", file=self.err, flush=True)
            return False
        self.out.write("\n")
        self.out.flush()
        return True

    def handle(self, line: str) -> bool:
        """One input line; False to quit."""
        line = line.strip()
        if not line:
            return True
        if line in ("/exit", "/quit"):
            return False
        if line == "/new":
            self.new_session()
        elif line.startswith("/agent"):
            name = line[len("/agent"):].strip()
            if not name:
                self.note("usage: /agent NAME")
            else:
                try:
                    self.switch_agent(name)
                except APIError as exc:
                    print(f"error: {exc.code}: {exc.message}", file=self.err, flush=True)
        elif line in ("/help", "/?"):
            self.note(HELP)
        elif line.startswith("/") and " " not in line:
            self.note(f"unknown command {line}; {HELP}")
        else:
            self.send(line)
        return True


def _read_line(interactive: bool, prompt: str) -> str | None:
    if interactive:
        try:
            return input(prompt)
        except EOFError:
            return None
    line = sys.stdin.readline()
    return line if line else None


def _run(client: Client, args: argparse.Namespace) -> int:
    loop = ChatLoop(client)
    loop.switch_agent(args.agent, args.session)
    if args.message is not None:
        return 0 if loop.send(args.message) else 1
    interactive = sys.stdin.isatty()
    if interactive:
        loop.note(HELP)
    while True:
        try:
            line = _read_line(interactive, f"{loop.agent['name']}> " if interactive else "")
        except KeyboardInterrupt:
            print(file=loop.err)
            return 0
        if line is None or not loop.handle(line):
            return 0


run = run_api(_run)
