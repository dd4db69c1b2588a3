"""The MiniLM encoder's ONNX graph, shipped without weights, and the weights it runs with.

``onnx_graph.onnx`` (package data, a few kilobytes) is the BERT forward pass that
sentence-transformers runs for all-MiniLM-L6-v2: embeddings (word + position + token type 0) and
LayerNorm, the encoder layers (ONNX Runtime's fused ``Attention`` with padded keys masked out,
``SkipLayerNormalization`` for residual + bias + LayerNorm, ``BiasGelu`` for exact-erf GELU), mean
pooling under the attention mask and L2 normalisation. Inputs ``input_ids`` and ``attention_mask``
(int64, batch x tokens); output ``embeddings`` (float32, batch x hidden).

Its initializers are declared "external" and carry no data: ``initializers`` derives them from the
checkpoint's tensors (transposed and joined as the graph wants them, float32 whatever the file
stores: the one-file build ships float16, see ``build/model_fp16.py``) and ``open_session`` hands
them to ONNX Runtime in memory. So the app needs neither torch nor the ``onnx`` package: the graph
is written at development time by ``build/minilm_graph.py`` from these same names and shapes, and
``tests/memory/test_onnx_graph.py`` rebuilds it and compares whenever ``onnx`` is installed.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from qorven_local import resources

GRAPH_FILE = resources.resource_path("qorven_local", "memory", "onnx_graph.onnx")


def initializers(weights: Mapping[str, np.ndarray], layers: int) -> dict[str, np.ndarray]:
    """The graph's initializers by name, float32 and C-contiguous, from the checkpoint's tensors (BERT names).

    The checkpoint stores dense weights as (out, in), as torch does; the graph computes ``x @ W``, so
    they are transposed here once. Q, K and V are joined into the one (hidden, 3 x hidden) product
    the fused attention takes. Token type is always 0 for single sentences: its row is added to the
    position table.
    """
    def get(name: str, transpose: bool = False) -> np.ndarray:
        value = np.asarray(weights[name], dtype=np.float32)
        return np.ascontiguousarray(value.T if transpose else value)

    out = {
        "word_embeddings": get("embeddings.word_embeddings.weight"),
        "position_embeddings": get("embeddings.position_embeddings.weight")
        + get("embeddings.token_type_embeddings.weight")[0],
        "embeddings.ln.weight": get("embeddings.LayerNorm.weight"),
        "embeddings.ln.bias": get("embeddings.LayerNorm.bias"),
    }
    for i in range(layers):
        p, q = f"encoder.layer.{i}.", f"layer.{i}."
        att = p + "attention.self."
        out[q + "qkv.weight"] = np.ascontiguousarray(np.concatenate(
            [get(att + "query.weight", True), get(att + "key.weight", True), get(att + "value.weight", True)],
            axis=1))
        out[q + "qkv.bias"] = np.concatenate([get(att + "query.bias"), get(att + "key.bias"), get(att + "value.bias")])
        out[q + "attention_out.weight"] = get(p + "attention.output.dense.weight", True)
        out[q + "attention_out.bias"] = get(p + "attention.output.dense.bias")
        out[q + "attention_ln.weight"] = get(p + "attention.output.LayerNorm.weight")
        out[q + "attention_ln.bias"] = get(p + "attention.output.LayerNorm.bias")
        out[q + "intermediate.weight"] = get(p + "intermediate.dense.weight", True)
        out[q + "intermediate.bias"] = get(p + "intermediate.dense.bias")
        out[q + "output.weight"] = get(p + "output.dense.weight", True)
        out[q + "output.bias"] = get(p + "output.dense.bias")
        out[q + "output_ln.weight"] = get(p + "output.LayerNorm.weight")
        out[q + "output_ln.bias"] = get(p + "output.LayerNorm.bias")
    return out


def _runtime() -> Any:
    """The ``onnxruntime`` module, imported here only (lazily: the CLI's other commands never load it)."""
    # Before the first import: ONNX Runtime (1.2x+) otherwise keeps a telemetry device id and event
    # store under ~/.cache/Microsoft; a local app sends nothing, and a portable one writes only its folder.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime

    return onnxruntime


def run_options() -> Any:
    """A fresh ``RunOptions``: one per call, so ``terminate`` can stop that call's runs alone."""
    return _runtime().RunOptions()


def open_session(weights: Mapping[str, np.ndarray], threads: int) -> tuple[Any, dict[str, np.ndarray]]:
    """An ONNX Runtime session of the shipped graph over ``weights`` (``initializers``' output), and
    the arrays it reads in place: the caller keeps them alive as long as the session."""
    ort = _runtime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # one batch's products split over the cores
    options.inter_op_num_threads = 1
    # Idle workers sleep instead of spinning: the cores are shared with waitress's threads (and other
    # programs), and spinning workers made a loaded 2-core machine 2-3x slower for all of them.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No arena: ONNX Runtime's CPU arena keeps the peak of every run, ~280 MB after one batch of 32
    # texts at 256 tokens, for the life of the process; without it the memory goes back after each run.
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 3  # notes about unused initializers are not the user's business
    arrays = dict(weights)
    options.add_external_initializers(list(arrays), [ort.OrtValue.ortvalue_from_numpy(a) for a in arrays.values()])
    session = ort.InferenceSession(GRAPH_FILE.read_bytes(), options, providers=["CPUExecutionProvider"])
    return session, arrays
