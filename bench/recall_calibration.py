"""Recall calibration: real cosine values of the bundled MiniLM model for related, unrelated and
small-talk pairs, the data behind ``memory/search.py``'s score mapping and the recall threshold.

    python bench/recall_calibration.py

Pairs come from the hand-labelled set (tests/fixtures/memory_relevance.json): a query against the
memories labelled for it (related), against every other memory (unrelated), and small-talk or
nonsense messages against every memory. For each group it prints percentiles of the cosine and of
the calibrated score (``memory.search.calibrated``), and writes bench/results/recall_calibration.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qorven_local  # noqa: E402,F401  (pins BLAS threads before numpy)
import numpy as np  # noqa: E402

from qorven_local.config import SETTINGS  # noqa: E402
from qorven_local.memory.embedder import shared_embedder  # noqa: E402
from qorven_local.memory.search import calibrated, fts_query, keyword_coverage  # noqa: E402

SMALL_TALK = ["are you there?", "please FAIL500 now", "zebra quantum banana", "hello", "hi!", "thanks a lot",
              "how are you today?", "ok", "good morning", "what can you do?", "can you help me?", "lol",
              "tell me a joke", "what time is it?", "never mind", "yes please", "asdf qwerty", "test"]


def pct(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {p: round(float(np.percentile(a, q)), 3) for p, q in
            (("min", 0), ("p5", 5), ("p25", 25), ("p50", 50), ("p75", 75), ("p95", 95), ("max", 100))}


def main() -> None:
    data = json.loads((ROOT / "tests" / "fixtures" / "memory_relevance.json").read_text(encoding="utf-8"))
    memories = data["memories"]
    embedder = shared_embedder()
    mem_vectors = embedder.embed([m["content"] for m in memories])
    keys = [m["key"] for m in memories]
    groups: dict[str, dict[str, list[float]]] = {g: {"cosine": [], "score": [], "best_score": []}
                                                 for g in ("related", "unrelated", "small_talk")}
    queries = data["queries"]
    q_vectors = embedder.embed([q["query"] for q in queries])
    for q, qv in zip(queries, q_vectors):
        sims = mem_vectors @ qv
        terms = fts_query(q["query"])
        best_unrelated = 0.0
        for key, memory, sim in zip(keys, memories, sims):
            score = calibrated(float(sim), keyword_coverage(terms, memory["content"]), 0.5)
            group = "related" if key in q["expected"] else "unrelated"
            groups[group]["cosine"].append(float(sim))
            groups[group]["score"].append(score)
            if group == "unrelated":
                best_unrelated = max(best_unrelated, score)
        groups["unrelated"]["best_score"].append(best_unrelated)
        groups["related"]["best_score"].append(max(
            calibrated(float(mem_vectors[keys.index(k)] @ qv), keyword_coverage(terms, memories[keys.index(k)]["content"]), 0.5)
            for k in q["expected"]))
    t_vectors = embedder.embed(SMALL_TALK)
    per_text = {}
    for text, tv in zip(SMALL_TALK, t_vectors):
        sims = mem_vectors @ tv
        terms = fts_query(text)
        scores = [calibrated(float(s), keyword_coverage(terms, m["content"]), 0.5) for s, m in zip(sims, memories)]
        groups["small_talk"]["cosine"].extend(float(s) for s in sims)
        groups["small_talk"]["score"].extend(scores)
        groups["small_talk"]["best_score"].append(max(scores))
        per_text[text] = {"max_cosine": round(float(sims.max()), 3), "max_score": round(max(scores), 3)}
    threshold = float(next(s for s in SETTINGS if s.name == "recall_min_score").default)
    result = {g: {k: pct(v) for k, v in d.items()} for g, d in groups.items()}
    result["small_talk_per_text"] = per_text
    result["threshold"] = threshold
    result["related_best_at_or_above_threshold"] = round(
        float(np.mean([s >= threshold for s in groups["related"]["best_score"]])), 3)
    result["unrelated_pairs_at_or_above_threshold"] = round(
        float(np.mean([s >= threshold for s in groups["unrelated"]["score"]])), 4)
    result["small_talk_texts_recalling_something"] = sum(s >= threshold for s in groups["small_talk"]["best_score"])
    for group in ("related", "unrelated", "small_talk"):
        for k in ("cosine", "score", "best_score"):
            print(f"{group:11s} {k:10s} {result[group][k]}")
    for text, v in per_text.items():
        print(f"  {text!r:28s} {v}")
    print({k: result[k] for k in ("threshold", "related_best_at_or_above_threshold",
                                  "unrelated_pairs_at_or_above_threshold", "small_talk_texts_recalling_something")})
    out = ROOT / "bench" / "results" / "recall_calibration.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
