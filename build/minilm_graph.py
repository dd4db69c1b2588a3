"""Write ``qorven_local/memory/onnx_graph.onnx``: the MiniLM encoder as an ONNX graph without weights.

Development time only (it needs the ``onnx`` package, which the app does not ship):

    .venv/bin/python build/minilm_graph.py            # (re)write the graph next to memory/onnx_graph.py
    .venv/bin/python build/minilm_graph.py --check    # exit 1 if the committed graph differs

The graph is written node by node with ``onnx.helper`` from the model's ``config.json``; its
initializers are the names and shapes ``qorven_local.memory.onnx_graph.initializers`` derives from the
checkpoint, declared external with no data, so the file stays a few kilobytes and the app hands the
weights to ONNX Runtime at load. The ops are ONNX Runtime's fused CPU kernels (``com.microsoft``
``Attention``, ``SkipLayerNormalization``, ``BiasGelu``): what its transformer optimiser would fuse
a plain BERT export into, written directly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qorven_local.memory.onnx_graph import GRAPH_FILE, initializers  # noqa: E402

OPSET = 17  # LayerNormalization is an ONNX op from opset 17 on
IR_VERSION = 8  # read by every ONNX Runtime release of the last years


def build_graph(config: dict[str, Any], shapes: dict[str, tuple[int, ...]]) -> bytes:
    """The serialized graph for ``config`` (BERT's) over initializers of ``shapes`` (name -> shape)."""
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    nodes: list[Any] = []
    inits: list[Any] = []

    for name, shape in shapes.items():
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=shape, data_location=TensorProto.EXTERNAL)
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", "memory"  # never read: the session is handed the array
        inits.append(tensor)

    def op(op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        out = output or f"{op_type.lower()}_{len(nodes)}"
        nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def weight(name: str) -> str:
        if name not in shapes:
            raise KeyError(f"the graph uses {name!r}, which onnx_graph.initializers does not make")
        return name

    zero, one = const("zero", np.array([0], np.int64)), const("one", np.array([1], np.int64))
    tokens = op("Gather", [op("Shape", ["input_ids"]), one], axis=0)  # [t]
    positions = op("Slice", [weight("position_embeddings"), zero, tokens, zero])  # (t, d), token type 0 added
    x = op("Add", [op("Gather", [weight("word_embeddings"), "input_ids"], axis=0), positions])
    x = op("LayerNormalization", [x, weight("embeddings.ln.weight"), weight("embeddings.ln.bias")],
           axis=-1, epsilon=eps)

    # (b, t) of 1/0: the fused attention's raw key mask, padded keys masked out
    mask_index = op("Cast", ["attention_mask"], to=TensorProto.INT32)
    for i in range(int(config["num_hidden_layers"])):
        p = f"layer.{i}."
        context = op("Attention", [x, weight(p + "qkv.weight"), weight(p + "qkv.bias"), mask_index],
                     domain="com.microsoft", num_heads=heads)
        x = op("SkipLayerNormalization",
               [op("MatMul", [context, weight(p + "attention_out.weight")]), x, weight(p + "attention_ln.weight"),
                weight(p + "attention_ln.bias"), weight(p + "attention_out.bias")],
               domain="com.microsoft", epsilon=eps)
        inter = op("BiasGelu", [op("MatMul", [x, weight(p + "intermediate.weight")]), weight(p + "intermediate.bias")],
                   domain="com.microsoft")
        x = op("SkipLayerNormalization",
               [op("MatMul", [inter, weight(p + "output.weight")]), x, weight(p + "output_ln.weight"),
                weight(p + "output_ln.bias"), weight(p + "output.bias")],
               domain="com.microsoft", epsilon=eps)

    # Mean pooling under the mask, then L2: as sentence-transformers' Pooling and Normalize modules.
    mask = op("Unsqueeze", [op("Cast", ["attention_mask"], to=TensorProto.FLOAT), const("axis_2", np.array([2], np.int64))])
    summed = op("ReduceSum", [op("Mul", [x, mask]), one], keepdims=0)
    count = op("Max", [op("ReduceSum", [mask, one], keepdims=0), const("min_count", np.array(1e-9, np.float32))])
    pooled = op("Div", [summed, count])
    norm = op("Max", [op("Sqrt", [op("ReduceSumSquare", [pooled], axes=[1], keepdims=1)]),
                      const("min_norm", np.array(1e-12, np.float32))])
    op("Div", [pooled, norm], output="embeddings")

    graph = helper.make_graph(
        nodes, "all-minilm-l6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
        inits)
    model = helper.make_model(graph, producer_name="qorven build/minilm_graph.py", ir_version=IR_VERSION,
                              opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)])
    return model.SerializeToString(deterministic=True)


def graph_for(model_folder: Path) -> bytes:
    """The graph for the model files in ``model_folder`` (``config.json``, ``model.safetensors``)."""
    from safetensors.numpy import load_file

    config = json.loads((model_folder / "config.json").read_text(encoding="utf-8"))
    arrays = initializers(load_file(str(model_folder / "model.safetensors")), int(config["num_hidden_layers"]))
    return build_graph(config, {name: tuple(a.shape) for name, a in arrays.items()})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed graph instead of writing")
    args = parser.parse_args()
    from qorven_local.memory.embedder import find_model_files

    graph = graph_for(find_model_files())
    if args.check:
        same = GRAPH_FILE.is_file() and GRAPH_FILE.read_bytes() == graph
        print(f"{GRAPH_FILE}: {'up to date' if same else 'differs: run build/minilm_graph.py'}")
        return 0 if same else 1
    GRAPH_FILE.write_bytes(graph)
    print(f"wrote {GRAPH_FILE} ({len(graph)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
