"""The build stores MiniLM's weights in float16: the vectors must still match sentence-transformers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from model_fp16 import write_fp16_model
from qorven_local.memory.embedder import Embedder, find_model_files

FILES = ("model.safetensors", "tokenizer.json", "config.json", "sentence_bert_config.json")
REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "embedding_reference.json"


def test_half_precision_weights_keep_cosine_above_0_99999(tmp_path):
    half = write_fp16_model(find_model_files(), tmp_path / "model", FILES)
    assert (half / "model.safetensors").stat().st_size < 0.51 * (find_model_files() / "model.safetensors").stat().st_size
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))["items"]
    ours = Embedder(half).embed([item["text"] for item in reference]).astype(np.float64)
    theirs = np.array([item["vector"] for item in reference], dtype=np.float64)
    cosine = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    assert cosine.min() >= 0.99999


def test_an_up_to_date_copy_is_reused(tmp_path):
    target = tmp_path / "model"
    write_fp16_model(find_model_files(), target, FILES)
    before = (target / "model.safetensors").stat().st_mtime_ns
    write_fp16_model(find_model_files(), target, FILES)
    assert (target / "model.safetensors").stat().st_mtime_ns == before
