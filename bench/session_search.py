"""How fast "Search sessions" answers over a large history: ``GET /v1/sessions?q=`` as the service runs
it (FTS5 over message text plus title matches, best first), and what the index costs on writes.

Builds a temporary data root with ``--sessions`` conversations of ``--messages`` messages each (user
and assistant turns from a small vocabulary, so common words match many sessions and rare ones few),
then times searches for a common word, a rare word, a two-word query and a prefix, ``--rounds`` each.

    .venv/bin/python bench/session_search.py     # prints a summary, writes bench/results/session_search.json
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qorven_local.agents.types import Message, Session  # noqa: E402
from qorven_local.bootstrap import build_context  # noqa: E402
from qorven_local.config import load_config  # noqa: E402

COMMON = "the model answer river budget plan week meeting code review draft".split()
RARE = ["albatross", "marmalade", "quasar", "zeppelin"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="qorven-search-bench-"))
    ctx = build_context(load_config({"home": str(home)}, env={}))
    ctx.tokens.issue("default", "admin", label="bench")
    agent = ctx.agents.list_all("default")[0].id
    rng = random.Random(7)
    sessions, messages = ctx.sessions.store, ctx.sessions.messages
    now = ctx.clock.iso()
    start = time.perf_counter()
    for s in range(args.sessions):
        with ctx.db.write() as conn:
            session = Session(id=ctx.ids.new("ses"), tenant_id="default", agent_id=agent, channel="web",
                              peer=f"bench-{s}", title=f"Conversation {s}", status="active", message_count=0,
                              created_at=now, updated_at=now, last_message_at=None)
            sessions.insert(conn, session, canonical=True)
            for m in range(args.messages):
                words = rng.choices(COMMON, k=30) + ([rng.choice(RARE)] if rng.random() < 0.01 else [])
                messages.insert(conn, Message(id=ctx.ids.new("msg"), tenant_id="default", session_id=session.id,
                                              agent_id=agent, role="user" if m % 2 == 0 else "assistant",
                                              content=" ".join(words), channel="web", created_at=now))
    write_s = time.perf_counter() - start
    total = args.sessions * args.messages
    queries = {"common word": "river", "rare word": "albatross", "two words": "budget meeting", "prefix": "zepp"}
    results = {}
    for label, q in queries.items():
        times, found = [], 0
        for _ in range(args.rounds):
            t = time.perf_counter()
            page = ctx.sessions.list_page("default", filters={"q": q}, limit=50, cursor=None)
            times.append((time.perf_counter() - t) * 1000)
            found = len(page.items)
        results[label] = {"query": q, "p50_ms": round(statistics.median(times), 2),
                          "max_ms": round(max(times), 2), "first_page": found}
        print(f"{label:12} q={q!r:18} p50 {statistics.median(times):7.2f} ms  max {max(times):7.2f} ms  "
              f"({found} on the first page)")
    print(f"{total} messages in {args.sessions} sessions written in {write_s:.1f} s "
          f"({total / write_s:.0f} messages/s, FTS triggers included)")
    out = {"sessions": args.sessions, "messages": total, "write_messages_per_s": round(total / write_s),
           "searches": results}
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / "session_search.json").write_text(json.dumps(out, indent=2))
    ctx.db.close()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
