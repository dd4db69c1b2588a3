"""The MiniLM (BERT) encoder as an ONNX graph, built from the safetensors weights with ``onnx.helper``.

No torch and no exported file: the graph is written node by node from ``config.json`` and the
checkpoint's tensors, serialized in memory and handed to ONNX Runtime. It computes what
sentence-transformers computes for all-MiniLM-L6-v2: embeddings (word + position + token type 0)
and LayerNorm, N encoder layers (self-attention with padded keys masked out, exact-erf GELU feed
forward, post-LayerNorm residuals), mean pooling under the attention mask, L2 normalisation.

Inputs ``input_ids`` and ``attention_mask`` (int64, batch x tokens); output ``embeddings``
(float32, batch x hidden). The graph itself is a few kilobytes: its weights are "external"
initializers, prepared here as float32 numpy arrays (transposed and joined as the graph wants them,
whatever precision the file stores: the one-file build ships float16, see ``build/model_fp16.py``)
and handed to ONNX Runtime in memory with ``SessionOptions.add_external_initializers``, so 90 MB
of weights are never copied into a protobuf and serialized.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OPSET = 17  # LayerNormalization is an ONNX op from opset 17 on
# Added to the scores of padded keys: exp() of it is exactly 0 in float32, as with transformers' finfo.min,
# without overflowing to -inf when a score is added to it.
_MASKED = -1.0e9


# Float arrays with more elements than this are passed as external initializers (the weights);
# smaller constants (shapes, scalars) are written into the graph.
_INLINE_MAX = 64


class _Builder:
    """Collects nodes, initializers and the weights behind them; each ``op`` call returns its output's name."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.weights: dict[str, np.ndarray] = {}
        self._names = 0
        self._consts: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        """An initializer (once per name: later calls with the same name reuse the first)."""
        if name in self._consts:
            return name
        self._consts.add(name)
        if value.dtype == np.float32 and value.size > _INLINE_MAX:
            from onnx import TensorProto

            tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=value.shape,
                                 data_location=TensorProto.EXTERNAL)
            entry = tensor.external_data.add()
            entry.key, entry.value = "location", "memory"  # never read: the session is handed the array
            self.initializers.append(tensor)
            self.weights[name] = np.ascontiguousarray(value)
        else:
            self.initializers.append(self.numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        self._names += 1
        out = f"{op_type.lower()}_{self._names}"
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], **attrs))
        return out


def build_model(weights: dict[str, np.ndarray], config: dict[str, Any]) -> tuple[bytes, dict[str, np.ndarray]]:
    """The encoder described by ``config`` with the checkpoint's ``weights`` (BERT names): the serialized
    ONNX graph, and the float32 arrays its external initializers name."""
    from onnx import TensorProto, helper

    g = _Builder()
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    head_dim = hidden // heads
    eps = float(config.get("layer_norm_eps", 1e-12))

    # Weights are stored (out, in) as torch does: ``transpose`` turns them once so the graph runs x @ W.
    def w(name: str, transpose: bool = False) -> np.ndarray:
        value = np.asarray(weights[name], dtype=np.float32)
        return np.ascontiguousarray(value.T if transpose else value)

    def c(name: str, transpose: bool = False) -> str:
        return g.const(name, w(name, transpose))

    def layer_norm(x: str, prefix: str) -> str:
        return g.op("LayerNormalization", [x, c(prefix + ".weight"), c(prefix + ".bias")], axis=-1, epsilon=eps)

    def skip_layer_norm(x: str, skip: str, prefix: str, bias: str) -> str:
        """LayerNorm(x + bias + skip): a block's output, its bias and the residual."""
        return g.op("SkipLayerNormalization", [x, skip, c(prefix + ".weight"), c(prefix + ".bias"), bias],
                    domain="com.microsoft", epsilon=eps)

    i64 = lambda name, values: g.const(name, np.array(values, dtype=np.int64))  # noqa: E731
    zero, one = i64("zero", [0]), i64("one", [1])
    shape = g.op("Shape", ["input_ids"])
    seq = g.op("Gather", [shape, one], axis=0)  # [tokens]
    positions = g.op("Slice", [c("embeddings.position_embeddings.weight"), zero, seq, zero])
    # Token type is always 0 for single sentences: its row joins the position rows (broadcast add).
    type_row = g.const("token_type_0", w("embeddings.token_type_embeddings.weight")[:1])
    x = g.op("Gather", [c("embeddings.word_embeddings.weight"), "input_ids"], axis=0)
    x = g.op("Add", [g.op("Add", [x, positions]), type_row])
    x = layer_norm(x, "embeddings.LayerNorm")

    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask_index = g.op("Cast", ["attention_mask"], to=TensorProto.INT32)  # (b, t) 1/0: ORT's raw key mask

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        att = p + "attention.self."
        # ONNX Runtime's fused self-attention (com.microsoft Attention): Q, K, V as one (d, 3d) product,
        # per-head softmax(QK^T / sqrt(head_dim)) V with padded keys masked out.
        qkv_w = np.concatenate([w(att + "query.weight"), w(att + "key.weight"), w(att + "value.weight")]).T
        qkv_b = np.concatenate([w(att + "query.bias"), w(att + "key.bias"), w(att + "value.bias")])
        context = g.op("Attention", [x, g.const(p + "qkv.weight", np.ascontiguousarray(qkv_w)),
                                     g.const(p + "qkv.bias", qkv_b), mask_index],
                       domain="com.microsoft", num_heads=heads)
        # ONNX Runtime's fused kernels: residual + bias + LayerNorm in one pass (SkipLayerNormalization),
        # bias + exact-erf GELU in one pass (BiasGelu).
        x = skip_layer_norm(g.op("MatMul", [context, c(p + "attention.output.dense.weight", transpose=True)]), x,
                            p + "attention.output.LayerNorm", c(p + "attention.output.dense.bias"))
        inter = g.op("BiasGelu", [g.op("MatMul", [x, c(p + "intermediate.dense.weight", transpose=True)]),
                                  c(p + "intermediate.dense.bias")], domain="com.microsoft")
        x = skip_layer_norm(g.op("MatMul", [inter, c(p + "output.dense.weight", transpose=True)]), x,
                            p + "output.LayerNorm", c(p + "output.dense.bias"))

    weights_3d = g.op("Unsqueeze", [mask, i64("axis_2", [2])])  # (b, t, 1)
    summed = g.op("ReduceSum", [g.op("Mul", [x, weights_3d]), one], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", [weights_3d, one], keepdims=0),
                         g.const("min_count", np.array(1e-9, np.float32))])
    pooled = g.op("Div", [summed, count])
    norm = g.op("Max", [g.op("Sqrt", [g.op("ReduceSumSquare", [pooled], axes=[1], keepdims=1)]),
                        g.const("min_norm", np.array(1e-12, np.float32))])
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embeddings"]))

    graph = helper.make_graph(
        g.nodes, "minilm",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)], producer_name="qorven")
    model.ir_version = 8  # what ONNX Runtime releases of the last years all read
    return bytes(model.SerializeToString()), g.weights


def _split3(g: _Builder, x: str, hidden: int) -> tuple[str, str, str]:
    """The Q, K and V thirds of the last axis of ``x``."""
    sizes = g.const(f"split_{hidden}", np.array([hidden, hidden, hidden], dtype=np.int64))
    outs = [f"{x}_q", f"{x}_k", f"{x}_v"]
    g.nodes.append(g.helper.make_node("Split", [x, sizes], outs, axis=-1))
    return outs[0], outs[1], outs[2]
