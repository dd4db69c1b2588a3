"""``POST /v1/embeddings`` with ``<provider>/<model>`` is proxied to that provider; the built-in model stays local."""

from __future__ import annotations

import openai
import pytest

from tests.fakes.wire_formats import fake_vector


def test_openai_sdk_embeds_through_a_provider_model(client, raw, fake, openai_schema):
    texts = ["the cat sat", "a dog in the fog"]
    answer = client.embeddings.create(model="fake/fake-embed", input=texts)  # the SDK asks for base64
    assert answer.model == "fake/fake-embed"
    for item, text in zip(answer.data, texts, strict=True):
        assert item.embedding == pytest.approx(fake_vector(text), abs=1e-6)
    sent = fake.last_request
    assert sent.path == "/v1/embeddings" and sent.body["model"] == "fake-embed" and sent.body["input"] == texts
    assert answer.usage.prompt_tokens > 0

    body = raw.post("/v1/embeddings", json={"model": "fake/fake-embed", "input": "the cat sat"}).json()
    openai_schema("CreateEmbeddingResponse", body)
    assert body["data"][0]["embedding"] == fake_vector("the cat sat")


def test_ollama_providers_embed_too(client, fake):
    answer = client.embeddings.create(model="olla/fake-embed", input="hello")
    assert answer.data[0].embedding == pytest.approx(fake_vector("hello"), abs=1e-6)
    assert fake.last_request.path == "/v1/embeddings"


def test_the_builtin_model_still_embeds_locally(client, fake, openai_schema):
    answer = client.embeddings.create(model="all-minilm-l6-v2", input="hello")
    assert len(answer.data[0].embedding) == 384
    assert not [r for r in fake.requests if r.path.startswith("/v1/embeddings")]  # nothing went upstream


def test_providers_without_embeddings_answer_400(client, raw, fake, openai_schema):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="claude/fake-model", input="hello")
    assert "no embeddings endpoint" in caught.value.message
    r = raw.post("/v1/embeddings", json={"model": "claude/fake-model", "input": "hello"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"
    openai_schema("ErrorResponse", r.json())
    assert not fake.requests  # refused before anything went upstream


def test_bad_models_and_inputs_are_clear_4xx(client, raw, fake):
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="nope/fake-embed", input="hello")
    assert raw.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}).status_code == 404
    r = raw.post("/v1/embeddings", json={"model": "fake/fake-embed", "input": [""]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "input"
    assert raw.post("/v1/embeddings", json={"model": 7, "input": "x"}).status_code == 404
    assert not [r for r in fake.requests if r.path.startswith("/v1/embeddings")]


def test_token_id_arrays_pass_through_to_the_provider(raw, fake, openai_schema):
    # LangChain's OpenAIEmbeddings sends pre-tokenized batches by default; the upstream owns that tokenizer
    r = raw.post("/v1/embeddings", json={"model": "fake/fake-embed", "input": [[1, 2, 3], [4, 5]]})
    assert r.status_code == 200, r.text
    openai_schema("CreateEmbeddingResponse", r.json())
    assert fake.last_request.body["input"] == [[1, 2, 3], [4, 5]] and len(r.json()["data"]) == 2
    # the built-in model still refuses them clearly (its tokenizer is not OpenAI's)
    r = raw.post("/v1/embeddings", json={"model": "all-minilm-l6-v2", "input": [[1, 2, 3]]})
    assert r.status_code == 400 and "token arrays" in r.json()["error"]["message"]


def test_langchain_embeds_through_a_provider_model(served, fake):
    from langchain_openai import OpenAIEmbeddings

    # check_embedding_ctx_length=False: LangChain would otherwise fetch tiktoken's tables from the internet
    embeddings = OpenAIEmbeddings(model="fake/fake-embed", base_url=served.url + "/v1", api_key=served.admin_token,
                                  check_embedding_ctx_length=False, max_retries=0)
    vectors = embeddings.embed_documents(["the cat sat", "a dog"])
    assert vectors[0] == pytest.approx(fake_vector("the cat sat"), abs=1e-6)
    assert embeddings.embed_query("a dog") == pytest.approx(vectors[1], abs=1e-6)
    assert fake.last_request.body["model"] == "fake-embed"
