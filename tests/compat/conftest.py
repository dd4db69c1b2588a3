"""Compatibility helpers: one real ``qorven serve`` per module with the fake upstream configured, and the
official ``openai`` SDK pointed at it."""

from __future__ import annotations

import openai
import pytest

from tests.chat.conftest import configure


@pytest.fixture(scope="module")
def served(serve_process, module_fake):
    with serve_process.client() as api:
        configure(api, module_fake)
    return serve_process


@pytest.fixture
def client(served, fake):
    with openai.OpenAI(base_url=served.url + "/v1", api_key=served.admin_token, max_retries=0, timeout=20) as c:
        yield c


@pytest.fixture
def raw(served, fake):
    with served.client() as api:
        yield api
