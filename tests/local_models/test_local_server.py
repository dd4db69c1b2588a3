"""The local kind end to end: a real server, the tiny GGUF, the official OpenAI SDK; import rules."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import openai
import pytest

from qorven_local.providers.events import ChatRequest, TextDelta
from qorven_local.providers.local.importer import import_model
from qorven_local.providers.local.options import LocalOptions
from tests.local_models.conftest import MODEL, add_local, install
from tests.support.servers import InProcessServer
from tests.support.wait import wait_until

pytest.importorskip("llama_cpp", reason="the local extra is not installed: pip install -e '.[local]'")


@pytest.fixture
def local_server(tmp_path, tiny_gguf):
    with InProcessServer(tmp_path / "home", settings={"local_idle_seconds": "0.5"}) as srv:
        install(srv.home, tiny_gguf)
        yield srv


def test_catalog_lists_size_quantisation_and_context(local_server, tiny_gguf):
    with local_server.client() as api:
        provider = add_local(api)
        assert provider["kind"] == "local"
        catalog = api.get("/v1/models/catalog").json()
    assert catalog["errors"] == []
    [entry] = catalog["data"]
    assert entry["id"] == f"local/{MODEL}" and entry["provider_id"] == provider["id"]
    assert entry["size_bytes"] == tiny_gguf.stat().st_size
    assert entry["quantization"] == "F32"
    assert entry["context_length"] == 2048
    assert entry["file"] == f"{MODEL}.gguf"


def test_stream_through_the_openai_sdk_then_unload_on_idle(local_server):
    with local_server.client() as api:
        provider = add_local(api)
        assert api.put("/v1/models/selected", json={"models": [f"local/{MODEL}"]}).status_code == 200
    with openai.OpenAI(base_url=local_server.url + "/v1", api_key=local_server.admin_token, max_retries=0,
                       timeout=60) as client:
        stream = client.chat.completions.create(model=f"local/{MODEL}", stream=True, max_tokens=6, temperature=0,
                                                messages=[{"role": "user", "content": "Say hello"}])
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert text.strip() and finish == ["length"]
    registry = local_server.ctx.providers
    adapter = registry.adapter(registry.get(_tenant(local_server), provider["id"]))  # the cached one chat used
    model_path = str(local_server.home / "models" / f"{MODEL}.gguf")
    assert model_path in adapter.pool.loaded()
    wait_until(lambda: model_path not in adapter.pool.loaded(), timeout=10, interval=0.05,
               message="the model stayed loaded past the idle timeout")
    assert model_path not in adapter.pool.loaded(), "the model stayed loaded past the idle timeout"


def test_cancel_a_real_generation(local_server):
    with local_server.client() as api:
        provider = add_local(api)
    record = local_server.ctx.providers.get(_tenant(local_server), provider["id"])
    adapter = local_server.ctx.providers.adapter(record)
    cancel = threading.Event()
    got = []
    for event in adapter.stream_chat(ChatRequest(model=MODEL, messages=[{"role": "user", "content": "go on"}],
                                                 max_tokens=1500, temperature=0), cancel):
        got.append(event)
        if len(got) == 2:
            cancel.set()
            at = time.monotonic()
    assert time.monotonic() - at < 1.0
    assert len(got) == 2 and all(type(e) is TextDelta for e in got)
    # the worker ends at its next token and frees the model, even while llama.cpp withholds text (this
    # random-weight model produces long runs of it): the next request must not wait behind it
    wait_until(lambda: not adapter.pool.in_use(), timeout=5, message="the cancelled generation still holds the model")


def _tenant(server) -> str:
    return server.ctx.db.query_one("select tenant_id from providers limit 1")[0]


def test_import_copies_with_checksum_and_lists_the_model(local_server, tiny_gguf):
    incoming = local_server.home / "incoming"
    incoming.mkdir()
    src = Path(incoming / "imported-model.gguf")
    src.write_bytes(tiny_gguf.read_bytes())
    with local_server.client() as api:
        provider = add_local(api)
        resp = api.post(f"/v1/providers/{provider['id']}/models/import", json={"path": str(src)})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["id"] == "local/imported-model"
        assert body["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
        assert body["size_bytes"] == src.stat().st_size and body["quantization"] == "F32"
        assert body["context_length"] == 2048
        ids = [m["id"] for m in api.get("/v1/models/catalog").json()["data"]]
    assert "local/imported-model" in ids
    assert (local_server.home / "models" / "imported-model.gguf").read_bytes() == src.read_bytes()
    assert not list((local_server.home / "models").glob(".*.part"))


def test_import_rejects_non_gguf_outside_folders_and_symlink_tricks(local_server, tmp_path_factory, tiny_gguf):
    text = local_server.home / "notes.gguf"
    text.write_text("just some text, not a model")
    outside_dir = tmp_path_factory.mktemp("outside")
    if outside_dir.resolve().is_relative_to(Path.home().resolve()):
        pytest.skip("the temp folder is inside the user's home here")
    outside = outside_dir / "model.gguf"
    outside.write_bytes(tiny_gguf.read_bytes())
    link = local_server.home / "link.gguf"
    link.symlink_to(outside)
    with local_server.client() as api:
        provider = add_local(api)
        url = f"/v1/providers/{provider['id']}/models/import"
        bad = api.post(url, json={"path": str(text)})
        assert bad.status_code == 400 and "not a GGUF model" in bad.json()["error"]["message"]
        for path in (outside, link):
            resp = api.post(url, json={"path": str(path)})
            assert resp.status_code == 400, resp.text
            assert "outside the folders models may be imported from" in resp.json()["error"]["message"]
            assert resp.json()["error"]["param"] == "path"
        assert api.post(url, json={"path": "relative.gguf"}).status_code == 400
        assert not (local_server.home / "models" / "model.gguf").exists()
        # and a provider of another kind takes no imports
        other = api.post("/v1/providers", json={"name": "o", "kind": "ollama"}).json()
        assert api.post(f"/v1/providers/{other['id']}/models/import",
                        json={"path": str(text)}).status_code == 400


def test_import_reports_progress(tmp_path, tiny_gguf):
    home = tmp_path / "root"
    (home / "in").mkdir(parents=True)
    src = home / "in" / "big.gguf"
    src.write_bytes(tiny_gguf.read_bytes() + b"\0" * (9 * 1024 * 1024))  # > two 4 MiB chunks
    calls = []
    result = import_model(str(src), LocalOptions(home / "models", allowed_roots=(home,)),
                          progress=lambda done, total: calls.append((done, total)))
    total = src.stat().st_size
    assert len(calls) >= 3 and calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert result["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()


def test_local_provider_takes_no_url_or_key(local_server):
    with local_server.client() as api:
        assert api.post("/v1/providers", json={"name": "x", "kind": "local",
                                               "base_url": "http://127.0.0.1:1/v1"}).status_code == 400
        provider = add_local(api)
        assert api.patch(f"/v1/providers/{provider['id']}",
                         json={"base_url": "http://127.0.0.1:1/v1"}).status_code == 400
        test = api.post(f"/v1/providers/{provider['id']}/test").json()
        assert test["ok"] is True and test["models"] == [MODEL]
