"""The client's chat, models, providers, tools and rooms families against a server and the fake provider."""

from __future__ import annotations

import pytest

from qorven_local.client import BadRequest, Client, NotFound, ProviderFailed, ServiceUnavailable
from tests.fakes import FakeProvider, Reply

KEY = "sk-client-test-0123456789abcdef"


@pytest.fixture(scope="module")
def fake():
    with FakeProvider(api_key=KEY) as server:
        yield server


@pytest.fixture
def qorven(server, fake):
    fake.reset()
    fake.api_key = KEY
    with Client(server.url, server.admin_token) as client:
        yield client


def configure(qorven: Client, fake: FakeProvider) -> dict:
    provider = qorven.providers.create({"name": "fake", "kind": "openai_compatible", "base_url": fake.base_url})
    qorven.providers.set_key(provider["id"], KEY)
    qorven.models.select(["fake/fake-model"])
    qorven.models.set_default("fake/fake-model")
    return provider


def test_providers_and_models(qorven, fake):
    provider = qorven.providers.create({"name": "fake", "kind": "openai_compatible", "base_url": fake.base_url})
    assert provider["has_key"] is False
    keyed = qorven.providers.set_key(provider["id"], KEY)
    assert keyed["has_key"] and keyed["key_hint"].endswith("cdef") and KEY not in str(keyed)
    assert qorven.providers.resolve("fake")["id"] == provider["id"]
    assert [p["id"] for p in qorven.providers.iterate()] == [provider["id"]]
    tested = qorven.providers.test(provider["id"])
    assert tested["ok"] and "fake-model" in tested["models"]
    assert any(m["id"] == "fake/fake-model" for m in qorven.models.catalog()["data"])
    assert qorven.models.select(["fake/fake-model"]) == ["fake/fake-model"] == qorven.models.selected()
    assert qorven.models.set_default("fake/fake-model") == "fake/fake-model" == qorven.models.default()
    listed = {m["id"]: m for m in qorven.models.list()}
    assert listed["fake/fake-model"]["qorven"]["default"] is True and "qor:prime" in listed
    assert qorven.models.get("fake/fake-model")["id"] == "fake/fake-model"
    with pytest.raises(NotFound):
        qorven.models.get("fake/no-such-model")
    assert qorven.providers.delete_key(provider["id"])["has_key"] is False
    qorven.providers.delete(provider["id"])
    with pytest.raises(NotFound):
        qorven.providers.get(provider["id"])


def test_chat_stream_yields_session_then_text_and_stores_the_turn(qorven, fake):
    configure(qorven, fake)
    fake.enqueue(Reply.text("Hello there, friend", chunks=3))
    events = list(qorven.chat.stream("prime", "hi"))
    assert events[0].type == "session" and events[-1].type == "done"
    assert "".join(e.text for e in events) == "Hello there, friend"
    assert any(e.type == "finish" for e in events)
    session_id = events[0].data["session_id"]
    messages = list(qorven.messages.iterate(session_id))
    assert [(m["role"], m["content"]) for m in messages] == [("user", "hi"), ("assistant", "Hello there, friend")]


def test_chat_send_and_the_openai_form(qorven, fake):
    configure(qorven, fake)  # with nothing queued the fake echoes the last user message
    done = qorven.chat.send("prime", "whole answer")
    assert done["choices"][0]["message"]["content"] == "whole answer" and done["qorven"]["session_id"]
    answer = qorven.chat.completions("fake/fake-model", [{"role": "user", "content": "proxied"}])
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"] == "proxied"
    assert "".join(e.text for e in qorven.chat.completions_stream(
        "fake/fake-model", [{"role": "user", "content": "streamed proxy"}])) == "streamed proxy"


def test_chat_failures_are_typed(qorven, fake):
    with pytest.raises(ServiceUnavailable) as err:
        qorven.chat.send("prime", "hi")
    assert err.value.code == "no_model_configured"
    configure(qorven, fake)
    with pytest.raises(NotFound) as err:
        list(qorven.chat.stream("nobody", "hi"))
    fake.enqueue(Reply.error(500), Reply.error(500), Reply.error(500))
    with pytest.raises(ProviderFailed) as err:
        list(qorven.chat.stream("prime", "hi"))
    assert err.value.code == "provider_error"


def test_tools_list_get_invoke(qorven):
    names = {t["name"] for t in qorven.tools.list(limit=200)}
    assert {"calculator", "current_time"} <= names
    assert qorven.tools.get("calculator")["builtin"] is True
    result = qorven.tools.invoke("calculator", {"expression": "2 + 3 * 4"})
    assert result["ok"] is True and result["result"]["result"] == 14
    with pytest.raises(BadRequest) as err:
        qorven.tools.invoke("calculator", {"nope": 1})
    assert err.value.code == "invalid_arguments" and err.value.status == 422


def test_rooms_create_post_decide(qorven, fake):
    configure(qorven, fake)
    room = qorven.rooms.create({"name": "plan", "members": ["writer", "analyst"]})
    assert room["status"] == "open" and qorven.rooms.get(room["id"])["name"] == "plan"
    assert [r["id"] for r in qorven.rooms.list()] == [room["id"]]
    new = qorven.rooms.post(room["id"], "What should we build?")
    assert [m["role"] for m in new] == ["user", "assistant", "assistant"]
    assert len(qorven.rooms.messages(room["id"])) == 3
    decided = qorven.rooms.decide(room["id"], decision="Build the stick")
    assert decided["status"] == "decided"


def test_channels_bind_secret_status_routing(qorven):
    prime = qorven.agents.resolve("prime")
    binding = qorven.channels.create({"kind": "webhook", "name": "hook", "agent_id": prime["id"]})
    assert binding["secret_set"] is False and binding["webhook_url"]
    assert qorven.channels.set_secret(binding["id"], "s3cret-value")["secret_set"] is True
    assert "s3cret-value" not in str(qorven.channels.get(binding["id"]))
    assert [b["id"] for b in qorven.channels.list()] == [binding["id"]]
    (status,) = [s for s in qorven.channels.status() if s["id"] == binding["id"]]
    assert status["enabled"] is True and status["inbound_count"] == 0
    routed = qorven.channels.test_routing("hello", "someone", binding_id=binding["id"])
    assert routed["agent_id"] == prime["id"] and routed["would_create_session"] is True
    assert qorven.channels.update(binding["id"], {"enabled": False})["enabled"] is False
    qorven.channels.delete(binding["id"])
    with pytest.raises(NotFound):
        qorven.channels.get(binding["id"])
