"""The default local model is loaded at start, in the background, so the first question does not wait
for the load; while the runtime is still being built the preload waits for it, and it loads nothing
when the default is not a local model or the runtime is missing."""

from __future__ import annotations

import pytest

from qorven_local.config import DEFAULT_TENANT
from qorven_local.providers.local.preload import LocalModelPreload
from tests.local_models.conftest import MODEL, add_local, install
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream

pytest.importorskip("llama_cpp", reason="the local extra is not installed: pip install -e '.[local]'")
DEFAULT = f"local/{MODEL}"


@pytest.fixture
def local_default(tmp_path, tiny_gguf):
    """A server whose default model is a local GGUF file (test servers do not preload at start)."""
    home = with_local_default(tmp_path / "home", tiny_gguf)
    with InProcessServer(home) as srv:
        yield srv


def with_local_default(home, tiny_gguf):
    """A data root whose default model is the tiny GGUF, with nothing of it loaded; returns ``home``."""
    install(home, tiny_gguf)
    with InProcessServer(home) as srv:
        with srv.client() as api:
            add_local(api)
            assert api.put("/v1/models/default", json={"model": DEFAULT}).status_code == 200
        srv.ctx.providers.resolve(DEFAULT_TENANT, DEFAULT).adapter.pool.unload_idle()
    return home


def loaded_files(srv) -> list[str]:
    """The model files of this server's models folder loaded in the (process-wide) pool."""
    folder = str(srv.home / "models")
    pool = srv.ctx.providers.resolve(DEFAULT_TENANT, DEFAULT).adapter.pool
    return [path.rsplit("/", 1)[-1] for path in pool.loaded() if path.startswith(folder)]


def test_a_server_started_with_a_local_default_loads_it_before_any_question(tmp_path, tiny_gguf):
    home = with_local_default(tmp_path / "home", tiny_gguf)
    with InProcessServer(home, settings={"local_preload": "true"}) as again:
        preload = again.ctx.local_preload
        assert preload.done.wait(60)
        assert preload.loaded == [DEFAULT]
        assert loaded_files(again) == [f"{MODEL}.gguf"]
        again.ctx.providers.resolve(DEFAULT_TENANT, DEFAULT).adapter.pool.unload_idle()


def test_the_preload_waits_for_a_runtime_being_built(local_default):
    states = iter(["preparing", "preparing", "preparing"])
    preload = LocalModelPreload(local_default.ctx.providers, enabled=True,
                                runtime=lambda: next(states, "ready"), poll_s=0.01)
    preload.start(delay_s=0)
    assert preload.done.wait(60)
    assert preload.loaded == [DEFAULT] and loaded_files(local_default) == [f"{MODEL}.gguf"]


@pytest.mark.parametrize("state", ["missing", "preparing"])
def test_no_runtime_no_preload(local_default, state):
    preload = LocalModelPreload(local_default.ctx.providers, enabled=True, runtime=lambda: state, poll_s=0.01)
    preload.start(delay_s=0)
    if state == "preparing":  # still building when the app stops: the wait ends with it
        assert not preload.done.wait(0.2)
        preload.stop()
    assert preload.done.wait(10)
    assert preload.loaded == [] and loaded_files(local_default) == []


def test_a_remote_default_or_a_disabled_preload_loads_nothing(local_default, fake):
    with local_default.client() as api:
        configure_upstream(api, fake, name="cloud")
        assert api.put("/v1/models/default", json={"model": "cloud/fake-model"}).status_code == 200
    remote = LocalModelPreload(local_default.ctx.providers, enabled=True, runtime=lambda: "ready")
    remote.start(delay_s=0)
    assert remote.done.wait(10) and remote.loaded == []
    with local_default.client() as api:
        assert api.put("/v1/models/default", json={"model": DEFAULT}).status_code == 200
    off = LocalModelPreload(local_default.ctx.providers, enabled=False, runtime=lambda: "ready")
    off.start(delay_s=0)
    assert off.done.is_set() and off.loaded == [] and loaded_files(local_default) == []
