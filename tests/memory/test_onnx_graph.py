"""The shipped weightless graph: rebuilt from its generator it is byte for byte the committed file, and
the app runs it without the ``onnx`` package and without writing under the home folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qorven_local.memory.embedder import find_model_files
from qorven_local.memory.onnx_graph import GRAPH_FILE

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "build"))


def test_the_committed_graph_is_what_build_minilm_graph_writes():
    pytest.importorskip("onnx")
    from minilm_graph import graph_for

    assert graph_for(find_model_files()) == GRAPH_FILE.read_bytes(), "run build/minilm_graph.py and commit the graph"


def test_the_graph_is_small_and_uses_the_fused_exact_erf_kernels():
    onnx = pytest.importorskip("onnx")
    model = onnx.load_from_string(GRAPH_FILE.read_bytes())
    ops = [node.op_type for node in model.graph.node]
    # BiasGelu is exact-erf GELU (the tanh approximation is off by ~5e-4); one fused attention per layer
    assert ops.count("BiasGelu") == 6 and ops.count("Attention") == 6 and "Tanh" not in ops
    weights = [t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert len(weights) == 4 + 6 * 12 and not any(t.raw_data for t in weights)  # names and shapes only
    assert GRAPH_FILE.stat().st_size < 32_000


def test_the_app_embeds_without_onnx_and_writes_nothing_to_the_home_folder(tmp_path):
    # Left alone, ONNX Runtime keeps a telemetry device id under ~/.cache/Microsoft.
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(REPO))
    code = ("import sys\n"
            "from qorven_local.memory.embedder import Embedder\n"
            "print(Embedder().embed_one('hello').shape, 'onnx' in sys.modules, 'onnxruntime' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["(384,)", "False", "True"]
    assert list(tmp_path.rglob("*")) == []
