"""Find local model servers on their usual loopback ports (Ollama, LM Studio, llama.cpp, Jan).

Each probe is one GET with a short timeout, all in parallel, so a machine with none of them
answers in well under a second. httpx is imported on first use (start-up time).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LocalServer:
    """Where a kind of local server usually listens, and how to ask it for its models."""

    name: str
    kind: str            # the provider kind to create for it
    base_url: str        # OpenAI-style base URL (with /v1)
    models_url: str


DEFAULT_TARGETS: tuple[LocalServer, ...] = (
    LocalServer("Ollama", "ollama", "http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/api/tags"),
    LocalServer("LM Studio", "openai_compatible", "http://127.0.0.1:1234/v1", "http://127.0.0.1:1234/v1/models"),
    LocalServer("llama.cpp", "openai_compatible", "http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/models"),
    LocalServer("Jan", "openai_compatible", "http://127.0.0.1:1337/v1", "http://127.0.0.1:1337/v1/models"),
)


def _model_ids(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return []
    if isinstance(payload.get("models"), list):  # Ollama's /api/tags
        return [str(m.get("model") or m.get("name")) for m in payload["models"] if isinstance(m, dict)]
    if isinstance(payload.get("data"), list):    # OpenAI's /v1/models
        return [str(m.get("id")) for m in payload["data"] if isinstance(m, dict) and m.get("id")]
    return []


def probe(target: LocalServer, timeout: float = 0.6) -> dict[str, Any]:
    """One target's entry: ``{kind, name, base_url, reachable, models}`` (never raises)."""
    import httpx

    entry: dict[str, Any] = {"kind": target.kind, "name": target.name, "base_url": target.base_url,
                             "reachable": False, "models": []}
    try:
        resp = httpx.get(target.models_url, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError:
        return entry
    entry["reachable"] = True
    if resp.status_code == 200:
        try:
            entry["models"] = _model_ids(resp.json())
        except ValueError:
            pass
    return entry


def detect_local(targets: tuple[LocalServer, ...] = DEFAULT_TARGETS, timeout: float = 0.6) -> list[dict[str, Any]]:
    """Probe every target in parallel; entries in the targets' order."""
    with ThreadPoolExecutor(max_workers=max(1, len(targets)), thread_name_prefix="detect") as pool:
        return list(pool.map(lambda t: probe(t, timeout), targets))
