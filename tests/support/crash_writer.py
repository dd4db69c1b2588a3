"""A writer process for crash tests: writes through the API and journals every acknowledged write.

    python -m tests.support.crash_writer URL TOKEN JOURNAL SEED [--memory] [--chat]

Cycles through agents, sessions, memories (``--memory``) and chat runs (``--chat``, which store
messages). After each 2xx it appends one JSON line to JOURNAL and flushes it, so the journal holds
exactly the writes the server acknowledged. It stops at the first transport error (the server was
killed) or after MAX_WRITES, and never retries: a write in flight at the kill is simply not journaled.
"""

from __future__ import annotations

import json
import random
import sys

import httpx

MAX_WRITES = 5000
WORDS = ("amber basil cobalt delta ember fjord garnet harbor indigo juniper kelp lantern meadow nickel orchid "
         "pepper quartz raven saffron tundra umber velvet willow xenon yarrow zephyr anchor bramble cedar dune "
         "falcon glacier heron iris jasper kestrel lichen marble nectar opal prairie quill ridge sierra thistle").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(7)) + f" number {n}"


def main(argv: list[str]) -> int:
    url, token, journal_path, seed = argv[:4]
    memory, chat = "--memory" in argv, "--chat" in argv
    rng = random.Random(int(seed))
    kinds = ["agent", "session"] + (["memory", "memory"] if memory else []) + (["chat"] if chat else [])
    headers = {"Authorization": f"Bearer {token}"}
    session_id = None
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api, open(journal_path, "a") as journal:
        def ack(record: dict) -> None:
            journal.write(json.dumps(record) + "\n")
            journal.flush()

        for n in range(MAX_WRITES):
            kind = kinds[n % len(kinds)]
            tag = f"{seed}-{n}"
            try:
                if kind == "agent":
                    r = api.post("/v1/agents", json={"name": f"crash-{tag}", "description": sentence(rng, n)})
                    if r.status_code == 201:
                        ack({"kind": "agent", "id": r.json()["id"]})
                elif kind == "session":
                    r = api.post("/v1/sessions", json={"agent_id": "prime", "channel": "task", "title": f"t-{tag}"})
                    if r.status_code == 201:
                        session_id = r.json()["id"]
                        ack({"kind": "session", "id": session_id})
                elif kind == "memory":
                    content = f"crashtok{tag.replace('-', 'x')} " + sentence(rng, n)
                    r = api.post("/v1/memory/save", json={"scope": "workspace", "kind": "fact", "content": content})
                    if r.status_code in (200, 201):
                        ack({"kind": "memory", "id": r.json()["id"], "content": content})
                elif kind == "chat" and session_id:
                    text = f"hello {tag}"
                    r = api.post("/v1/chat/completions", json={"agent_id": "prime", "session_id": session_id,
                                                               "message": text, "stream": False})
                    if r.status_code == 200:
                        ack({"kind": "chat", "session_id": session_id, "text": text,
                             "message_id": r.json()["qorven"]["message_id"]})
                else:
                    continue
            except httpx.TransportError:
                return 0  # the server is gone
            if r.status_code >= 500:
                print(f"server error on {kind}: {r.status_code} {r.text[:300]}", file=sys.stderr)
                return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
