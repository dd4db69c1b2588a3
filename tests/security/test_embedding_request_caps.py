"""One ``POST /v1/embeddings`` cannot ask for more than seconds of CPU: inputs, characters and the tokens
the model reads are capped, and a request over a cap answers 413 before the model runs."""

from __future__ import annotations

import time

import httpx

from qorven_local.web.schemas import MAX_EMBEDDING_CHARS, MAX_EMBEDDING_INPUTS, MAX_EMBEDDING_TOKENS
from tests.support.envelope import check_envelope

MODEL = "all-minilm-l6-v2"
# ~300 distinct words: well over the 256 tokens the model reads of one input
FULL_WINDOW = " ".join(f"passage{i} about topic{i % 7}" for i in range(100))


def embed(api: httpx.Client, texts: list[str] | str, timeout: float = 30) -> httpx.Response:
    return api.post("/v1/embeddings", json={"model": MODEL, "input": texts}, timeout=timeout)


def test_more_tokens_than_one_request_may_cost_is_413_before_the_model_runs(admin):
    inputs = MAX_EMBEDDING_TOKENS // 256 + 1  # one full window over the token budget
    started = time.monotonic()
    # before the cap this request ran the model over every window: tens of seconds on two cores
    response = embed(admin, [f"{n} {FULL_WINDOW}" for n in range(inputs)], timeout=15)
    body = check_envelope(response, 413, "payload_too_large", param="input")
    assert str(MAX_EMBEDDING_TOKENS) in body["error"]["message"] and "batches" in body["error"]["message"]
    assert time.monotonic() - started < 10


def test_more_characters_than_allowed_is_413(admin):
    response = embed(admin, "word " * (MAX_EMBEDDING_CHARS // 5 + 1))
    body = check_envelope(response, 413, "payload_too_large", param="input")
    assert "characters" in body["error"]["message"]


def test_more_inputs_than_openai_allows_is_413(admin):
    response = embed(admin, ["hi"] * (MAX_EMBEDDING_INPUTS + 1))
    body = check_envelope(response, 413, "payload_too_large", param="input")
    assert str(MAX_EMBEDDING_INPUTS) in body["error"]["message"]


def test_a_batch_of_many_short_inputs_within_the_budget_is_embedded(admin):
    texts = [f"note {n}" for n in range(300)]  # more inputs than the old count cap, few tokens in all
    response = embed(admin, texts)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [d["index"] for d in body["data"]] == list(range(300))
    assert body["usage"]["prompt_tokens"] <= MAX_EMBEDDING_TOKENS


def test_the_openapi_document_says_which_status_and_why(admin):
    operation = admin.get("/openapi.json").json()["paths"]["/v1/embeddings"]["post"]
    assert "413" in operation["responses"]
    assert "413" in operation["description"] and str(MAX_EMBEDDING_TOKENS) in operation["description"]
