"""``qorven providers|models|chat`` as subprocesses against a real server and the fake provider."""

from __future__ import annotations

import json

import pytest

from qorven_local.client import Client
from tests.fakes import FakeProvider

KEY = "sk-cli-test-0123456789abcdef"


@pytest.fixture(scope="module")
def fake():
    with FakeProvider(api_key=KEY) as server:
        yield server


def test_providers_add_with_the_key_on_stdin_then_test_and_list_models(qorven, server, fake):
    added = qorven("providers", "add", "fake", "--base-url", fake.base_url, input=KEY + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added fake (prv_") and "cdef" in added.stdout and KEY not in added.stdout
    listed = qorven("providers", "list")
    assert listed.returncode == 0 and "fake" in listed.stdout and KEY not in listed.stdout
    tested = qorven("providers", "test", "fake")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.startswith("fake: ok") and "latency_ms=" in tested.stdout
    with Client(server.url, server.admin_token) as api:
        api.models.select(["fake/fake-model"])
        api.models.set_default("fake/fake-model")
    models = qorven("models", "list")
    rows = {line.split()[0]: line.split()[1:] for line in models.stdout.splitlines()[1:]}
    assert rows["fake/fake-model"] == ["model", "*"] and rows["qor:prime"] == ["agent", "-"]
    catalog = json.loads(qorven("models", "list", "--catalog", "--json").stdout)
    assert any(m["id"] == "fake/fake-model" for m in catalog["data"])


def test_a_failing_provider_test_exits_1(qorven, fake):
    assert qorven("providers", "add", "wrongkey", "--base-url", fake.base_url, input="sk-wrong\n").returncode == 0
    tested = qorven("providers", "test", "wrongkey")
    assert tested.returncode == 1 and tested.stdout.startswith("wrongkey: FAILED")


def test_chat_through_stdin_with_new_session_and_agent_switch(qorven, server, fake):
    fake.reset()
    fake.api_key = KEY
    with Client(server.url, server.admin_token) as api:
        provider = api.providers.create({"name": "fake", "kind": "openai_compatible", "base_url": fake.base_url})
        api.providers.set_key(provider["id"], KEY)
        api.models.select(["fake/fake-model"])
        api.models.set_default("fake/fake-model")
    # the fake echoes the last user message
    out = qorven("chat", "prime", input="first question\n/new\nsecond question\n/agent writer\nthird question\n"
                                        "/exit\nnever sent\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["first question", "second question", "third question"]
    assert "-- new session ses_" in out.stderr and "-- writer · session ses_" in out.stderr
    with Client(server.url, server.admin_token) as api:
        prime, writer = api.agents.resolve("prime"), api.agents.resolve("writer")
        prime_sessions = list(api.sessions.iterate(agent_id=prime["id"], channel="cli"))
        assert sorted(s["status"] for s in prime_sessions) == ["active", "archived"]
        contents = {s["status"]: [m["content"] for m in api.messages.iterate(s["id"])] for s in prime_sessions}
        assert contents == {"archived": ["first question", "first question"],
                            "active": ["second question", "second question"]}
        (writer_session,) = api.sessions.iterate(agent_id=writer["id"], channel="cli")
        assert [m["content"] for m in api.messages.iterate(writer_session["id"])][-1] == "third question"
    one_shot = qorven("chat", "writer", "-m", "just once")
    assert one_shot.returncode == 0 and one_shot.stdout == "just once\n"


def test_chat_reports_an_unknown_agent(qorven):
    out = qorven("chat", "nobody", input="hi\n")
    assert out.returncode == 1 and "not_found" in out.stderr
