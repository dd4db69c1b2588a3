"""The load of bench/load.py, shorter: 20 clients for 10 s of reads, writes and streaming chats.

Zero 5xx and transport errors, no hung client, the server still up, and no lost writes: every
acknowledged session, agent and chat (its user and assistant messages) is there afterwards.
``bench/load.py`` runs the full 50 clients × 60 s and reports the figures.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "robustness" / "load.json"


def _bench():
    spec = importlib.util.spec_from_file_location("qorven_bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_mixed_load_has_no_errors_and_loses_no_writes(tmp_path):
    result = _bench().run_load(clients=20, duration=10, seed=11, chat_tokens=10, home=tmp_path / "home")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2, default=str))
    print(f"{result['requests']} requests, {result['throughput_rps']} req/s, reads p95 {result['reads']['p95_ms']} ms")
    assert result["server_alive"] and result["hung_clients"] == 0
    assert result["server_errors"] == 0, result["failures_sample"]
    assert result["lost_writes"] == 0, result["lost_sample"]
    ops = result["operations"]
    assert all(ops[op]["count"] > 0 for op in ("list_agents", "create_session", "chat_stream")), ops
    assert result["writes"]["sessions"] > 0 and result["writes"]["chats"] > 0
    assert result["reads"]["p95_ms"] is not None
