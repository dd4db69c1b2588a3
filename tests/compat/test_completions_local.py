"""POST /v1/completions on a local GGUF model: llama.cpp's own completion, through the official SDK.

The tiny random-weight llama has no fill-in-the-middle tokens, so there ``suffix`` is the clear 400; a
variant written with FIM tokens runs it.
"""

from __future__ import annotations

import openai
import pytest

from tests.compat.conftest import completion_chunks, sdk
from tests.support.openai_schemas import validate_openai
from tests.support.servers import InProcessServer

pytest.importorskip("llama_cpp", reason="the local extra is not installed: pip install -e '.[local]'")
pytest.importorskip("gguf", reason="the local extra is not installed: pip install -e '.[local]'")

from tests.local_models.conftest import MODEL, add_local, install  # noqa: E402
from tests.local_models.tiny_gguf import write_tiny_llama  # noqa: E402

LOCAL = f"local/{MODEL}"
FIM = "local/tiny-fim"


@pytest.fixture(scope="module")
def local_server(tmp_path_factory, tiny_gguf):
    with InProcessServer(tmp_path_factory.mktemp("local") / "home") as srv:
        install(srv.home, tiny_gguf)
        write_tiny_llama(srv.home / "models" / "tiny-fim.gguf", fim=True)
        with srv.client() as api:
            add_local(api)
        yield srv


@pytest.fixture
def client(local_server):
    with sdk(local_server, timeout=60) as c:
        yield c


def test_sdk_plain_completion_runs_natively(client, local_server):
    answer = client.completions.create(model=LOCAL, prompt="Hello", max_tokens=4, temperature=0, seed=1)
    [choice] = answer.choices
    assert choice.text and choice.finish_reason == "length" and answer.object == "text_completion"
    # the prompt is BOS + its tokens; the tiny byte-level vocabulary streams pieces, not whole tokens
    assert answer.usage.completion_tokens > 0 and answer.usage.prompt_tokens >= 2
    again = client.completions.create(model=LOCAL, prompt="Hello", max_tokens=4, temperature=0, seed=1)
    assert again.choices[0].text == choice.text  # deterministic at temperature 0
    with local_server.client() as api:
        whole = api.post("/v1/completions", json={"model": LOCAL, "prompt": ["Hi", "Yo"], "max_tokens": 2,
                                                  "echo": True})
    assert whole.status_code == 200, whole.text
    validate_openai("CreateCompletionResponse", whole.json())
    texts = [c["text"] for c in whole.json()["choices"]]
    assert texts[0].startswith("Hi") and texts[1].startswith("Yo") and len(texts) == 2


def test_sdk_stream_runs_natively(client, local_server):
    chunks = list(client.completions.create(model=LOCAL, prompt="Once", max_tokens=5, temperature=0, stream=True,
                                            stream_options={"include_usage": True}))
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text and [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == \
        ["length"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    with local_server.client() as api, api.stream("POST", "/v1/completions", json={
            "model": LOCAL, "prompt": "Once", "max_tokens": 5, "temperature": 0, "stream": True}) as r:
        parsed = completion_chunks(r)
    assert "".join(c["choices"][0]["text"] for c in parsed) == text


def test_max_tokens_zero_only_echoes(client):
    answer = client.completions.create(model=LOCAL, prompt="Hello there", max_tokens=0, echo=True)
    assert answer.choices[0].text == "Hello there" and answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == 0


@pytest.mark.parametrize("option, value, says", [
    ("suffix", " world", "has no fill-in-the-middle tokens"),
    ("logprobs", 1, "not supported on local models"),
    ("n", 2, "only n=1"),
])
def test_what_the_model_cannot_do_is_a_clear_400(client, option, value, says):
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=LOCAL, prompt="Hello", max_tokens=2, **{option: value})
    body = caught.value.body
    assert body["code"] == "validation_error" and body["param"] == option and says in body["message"]


def test_suffix_runs_fill_in_the_middle_on_a_model_with_fim_tokens(client):
    plain = client.completions.create(model=FIM, prompt="def hello", max_tokens=3, temperature=0)
    middle = client.completions.create(model=FIM, prompt="def hello", suffix=" world", max_tokens=3, temperature=0)
    assert middle.choices[0].text and middle.choices[0].finish_reason == "length"
    # the FIM prompt is <PRE> prompt <SUF> suffix <MID>: three control tokens and the suffix's own
    assert middle.usage.prompt_tokens >= plain.usage.prompt_tokens + 4
    streamed = list(client.completions.create(model=FIM, prompt="def hello", suffix=" world", max_tokens=3,
                                              temperature=0, stream=True))
    assert "".join(c.choices[0].text for c in streamed if c.choices) == middle.choices[0].text
