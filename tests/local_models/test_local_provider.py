"""The local provider's event stream, driven by a scripted model (no llama.cpp needed), and cancel."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qorven_local.errors import ProviderError
from qorven_local.providers.events import ChatRequest, Finish, TextDelta, collect
from qorven_local.providers.local.options import LocalOptions
from qorven_local.providers.local.pool import ModelPool
from qorven_local.providers.local.provider import LocalGGUFProvider
from tests.support.wait import wait_until


class ScriptedLlama:
    """Stands in for llama_cpp.Llama: streams ``pieces`` as create_chat_completion chunks."""

    def __init__(self, pieces, delay: float = 0.0, template: str = "{{ tools }}") -> None:
        self.pieces, self.delay = pieces, delay
        self.metadata = {"tokenizer.chat_template": template}
        self.calls: list[dict] = []
        self.closed = False

    def create_chat_completion(self, messages, **kwargs):
        self.calls.append({"messages": messages, **kwargs})
        for piece in self.pieces:
            if self.delay:
                time.sleep(self.delay)
            yield {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
        yield {"choices": [{"delta": {}, "finish_reason": "stop"}]}

    def close(self):
        self.closed = True


def provider_with(tmp_path: Path, llm, **pool_kwargs) -> LocalGGUFProvider:
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "m.gguf").write_bytes(b"GGUF")  # only the name matters to a scripted loader
    pool = ModelPool(lambda path, n_ctx: llm, **pool_kwargs)
    return LocalGGUFProvider(name="local", options=LocalOptions(tmp_path / "models"), pool=pool)


TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def test_tool_call_events_from_a_scripted_model(tmp_path):
    llm = ScriptedLlama(["I'll look.", "<tool_", 'call>{"name": "get_weather", ', '"arguments": {"city": "Lyon"}}',
                        "</tool_call>"])
    provider = provider_with(tmp_path, llm)
    events = list(provider.stream_chat(ChatRequest(model="m", messages=[{"role": "user", "content": "weather?"}],
                                                   tools=TOOLS)))
    result = collect(events)
    assert result.text == "I'll look."
    assert result.tool_calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Lyon"}'}
    assert result.tool_calls[0]["id"].startswith("call_")
    assert events[-1] == Finish("tool_calls")
    assert llm.calls[0]["tools"] == TOOLS  # the template mentions tools: they go to it


def test_template_without_tools_gets_a_system_prompt(tmp_path):
    llm = ScriptedLlama(["ok"], template="{% for m in messages %}{{ m.content }}{% endfor %}")
    provider = provider_with(tmp_path, llm)
    result = collect(provider.stream_chat(ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}],
                                                      tools=TOOLS)))
    assert result.text == "ok" and result.finish_reason == "stop"
    sent = llm.calls[0]
    assert "tools" not in sent and sent["messages"][0]["role"] == "system"
    assert "get_weather" in sent["messages"][0]["content"]


def test_past_tool_calls_are_rendered_as_text_for_the_template(tmp_path):
    llm = ScriptedLlama(["fine"])
    provider = provider_with(tmp_path, llm)
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"a\": 1}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]
    collect(provider.stream_chat(ChatRequest(model="m", messages=messages)))
    sent = llm.calls[0]["messages"]
    assert sent[0]["content"] == "hi"
    assert json.loads(sent[1]["content"][len("<tool_call>"):-len("</tool_call>")]) == {
        "name": "get_weather", "arguments": {"a": 1}}


def test_cancel_stops_a_generation_quickly_and_frees_the_model(tmp_path):
    llm = ScriptedLlama(["tok "] * 10_000, delay=0.01)
    provider = provider_with(tmp_path, llm)
    cancel = threading.Event()
    got: list = []
    stream = provider.stream_chat(ChatRequest(model="m", messages=[{"role": "user", "content": "go"}]), cancel)
    for event in stream:
        got.append(event)
        if len(got) == 3:
            cancel.set()
            cancelled_at = time.monotonic()
    assert time.monotonic() - cancelled_at < 0.5
    assert all(type(e) is TextDelta for e in got) and len(got) < 10  # no Finish after a cancel
    wait_until(lambda: provider.pool._models[str(tmp_path / "models" / "m.gguf")].users == 0, timeout=2,
               interval=0.01, message="the cancelled stream kept its model in use")
    assert provider.pool._models[str(tmp_path / "models" / "m.gguf")].users == 0


def test_one_model_resident_by_default_and_idle_unload(tmp_path):
    loaded = []

    def loader(path, n_ctx):
        llm = ScriptedLlama(["x"])
        loaded.append((path.name, llm))
        return llm

    (tmp_path / "models").mkdir()
    for name in ("a", "b"):
        (tmp_path / "models" / f"{name}.gguf").write_bytes(b"GGUF")
    pool = ModelPool(loader, max_resident=1, idle_seconds=0.2)
    provider = LocalGGUFProvider(options=LocalOptions(tmp_path / "models"), pool=pool)
    for name in ("a", "b"):
        collect(provider.stream_chat(ChatRequest(model=name, messages=[{"role": "user", "content": "hi"}])))
    assert [Path(p).name for p in pool.loaded()] == ["b.gguf"]
    assert loaded[0][1].closed  # a was unloaded to load b
    wait_until(lambda: pool.loaded() == [], timeout=5, interval=0.05, message="the idle model was never unloaded")
    assert pool.loaded() == [] and loaded[1][1].closed


def test_unknown_model_is_a_provider_error(tmp_path):
    provider = provider_with(tmp_path, ScriptedLlama([]))
    with pytest.raises(ProviderError, match="no model '../m'"):
        list(provider.stream_chat(ChatRequest(model="../m", messages=[])))


def test_without_llama_cpp_the_error_says_how_to_add_it(tmp_path, tiny_gguf):
    """A fresh interpreter where llama_cpp cannot be imported: listing works, chat explains the fix."""
    script = f"""
import sys, json
sys.modules['llama_cpp'] = None  # as if llama-cpp-python were not installed
from pathlib import Path
from qorven_local.errors import ProviderError
from qorven_local.providers.events import ChatRequest
from qorven_local.providers.local.options import LocalOptions
from qorven_local.providers.local.pool import ModelPool
from qorven_local.providers.local.provider import LocalGGUFProvider
p = LocalGGUFProvider(options=LocalOptions(Path({str(tiny_gguf.parent)!r})), pool=ModelPool())
models = [m.id for m in p.list_models()]
try:
    list(p.stream_chat(ChatRequest(model=models[0], messages=[{{"role": "user", "content": "hi"}}])))
except ProviderError as exc:
    print(json.dumps({{"models": models, "error": exc.message}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["models"] == ["tiny-llama"]
    assert "pip install 'qorven-local[local]'" in result["error"] and "make local" in result["error"]


def test_requests_that_come_while_a_model_loads_wait_for_that_load(tmp_path):
    """A question asked while the start-up preload (or another request) is loading the model waits for
    that load; it used to get the half-made entry and fail with "'NoneType' object has no attribute
    'create_chat_completion'"."""
    loading = threading.Event()
    finish = threading.Event()
    loads = []

    def slow_loader(path, n_ctx):
        loads.append(path.name)
        loading.set()
        assert finish.wait(10)
        return ScriptedLlama(["hello ", "there"])

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.gguf").write_bytes(b"GGUF")
    pool = ModelPool(slow_loader)
    provider = LocalGGUFProvider(options=LocalOptions(tmp_path / "models"), pool=pool)
    preload = threading.Thread(target=provider.preload, args=("m",))
    preload.start()
    assert loading.wait(10)
    answers: list = []
    asking = threading.Thread(target=lambda: answers.append(collect(provider.stream_chat(
        ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])))))
    asking.start()
    asking.join(0.3)
    assert asking.is_alive() and not answers  # waiting for the load, not failing
    finish.set()
    preload.join(10)
    asking.join(10)
    assert loads == ["m.gguf"] and answers and answers[0].text == "hello there"
    with pytest.raises(ProviderError, match="busy"):  # a preload never waits behind a request
        other = LocalGGUFProvider(options=LocalOptions(tmp_path / "models"), pool=ModelPool(slow_loader, max_resident=1))
        entry = other.pool.acquire(tmp_path / "models" / "m.gguf", 512)  # held by a request
        try:
            (tmp_path / "models" / "n.gguf").write_bytes(b"GGUF")
            other.preload("n")
        finally:
            other.pool.release(entry)
