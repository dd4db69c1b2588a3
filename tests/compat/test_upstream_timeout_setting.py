"""``QORVEN_UPSTREAM_TIMEOUT`` (setting ``upstream_timeout``) bounds the wait for each piece of an
upstream answer: a slower upstream is a 504 ``provider_timeout``, a patient setting lets it finish."""

from __future__ import annotations

import openai
import pytest

from qorven_local.config import load_config
from tests.fakes.fake_provider import FakeProvider, Reply
from tests.support.servers import InProcessServer
from tests.support.upstream import configure_upstream


def _client(srv: InProcessServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{srv.url}/v1", api_key=srv.admin_token, max_retries=0, timeout=20)


def test_the_default_is_120_seconds_and_the_env_sets_it():
    assert load_config({}, env={}).upstream_timeout == 120.0
    assert load_config({}, env={"QORVEN_UPSTREAM_TIMEOUT": "900"}).upstream_timeout == 900.0


def test_a_short_timeout_answers_504_and_a_longer_one_waits(tmp_path, fake: FakeProvider):
    with InProcessServer(tmp_path / "short", {"upstream_timeout": 0.3}) as short:
        with short.client() as api:
            configure_upstream(api, fake)
        fake.enqueue(Reply.text("slow but fine", chunks=2, delay=0.8))
        with pytest.raises(openai.APIStatusError) as raised:
            _client(short).chat.completions.create(model="fake/fake-model",
                                                   messages=[{"role": "user", "content": "hi"}])
        assert raised.value.status_code == 504
        assert raised.value.body["code"] == "provider_timeout"
    with InProcessServer(tmp_path / "patient", {"upstream_timeout": 5}) as patient:
        with patient.client() as api:
            configure_upstream(api, fake)
        fake.enqueue(Reply.text("slow but fine", chunks=2, delay=0.8))
        answer = _client(patient).chat.completions.create(model="fake/fake-model",
                                                          messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "slow but fine"
