"""Read a GGUF file's header (metadata) without loading the model or importing llama.cpp.

    read_header(path) ──► GGUFHeader(version, tensors, metadata{key: value})
    describe(header) ──► {architecture, context_length, quantization, params, ...}

Big arrays (the tokenizer's vocabulary) are skipped, not kept: only scalars, strings and short
arrays end up in ``metadata``. A file that is not GGUF raises ``NotGGUF``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
MAX_KV = 100_000           # real models have a few dozen keys; more means a corrupt file
MAX_STRING = 64 * 1024 * 1024
KEEP_ARRAY = 64            # arrays longer than this are skipped (vocabularies, merges)

# llama_ftype (llama.h): the file's dominant quantisation, stored as general.file_type.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M",
    18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S",
    25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M",
    32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4",
}
# GGUF value types → struct format (8 = string, 9 = array are handled apart)
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class NotGGUF(ValueError):
    """The file is not a (readable) GGUF model."""


@dataclass
class GGUFHeader:
    version: int
    tensors: int
    metadata: dict[str, Any] = field(default_factory=dict)
    params: int | None = None  # weights in all tensors (from the tensor table; None if it is unreadable)


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise NotGGUF("the GGUF header is truncated")
    return data


def _string(f: BinaryIO) -> str:
    (n,) = struct.unpack("<Q", _read(f, 8))
    if n > MAX_STRING:
        raise NotGGUF("the GGUF header has an implausible string length")
    return _read(f, n).decode("utf-8", "replace")


def _value(f: BinaryIO, vtype: int, keep: bool = True) -> Any:
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        return struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]
    if vtype == 8:
        return _string(f)
    if vtype == 9:
        (itype,) = struct.unpack("<I", _read(f, 4))
        (n,) = struct.unpack("<Q", _read(f, 8))
        if itype in _SCALARS and (n > KEEP_ARRAY or not keep):
            f.seek(n * struct.calcsize(_SCALARS[itype]), 1)  # skip without reading
            return None
        keep_items = keep and n <= KEEP_ARRAY
        items = [_value(f, itype, keep_items) for _ in range(n)]
        return items if keep_items else None
    raise NotGGUF(f"the GGUF header has an unknown value type {vtype}")


def read_header(path: str | Path) -> GGUFHeader:
    """The version, tensor count and metadata of a GGUF file (NotGGUF when it is not one)."""
    with open(path, "rb") as f:
        if f.read(4) != MAGIC:
            raise NotGGUF("not a GGUF file (the first bytes are not 'GGUF')")
        (version,) = struct.unpack("<I", _read(f, 4))
        if version not in (2, 3):
            raise NotGGUF(f"unsupported GGUF version {version} (expected 2 or 3)")
        tensors, kv_count = struct.unpack("<QQ", _read(f, 16))
        if kv_count > MAX_KV:
            raise NotGGUF("the GGUF header has an implausible number of keys")
        header = GGUFHeader(version, tensors)
        for _ in range(kv_count):
            key = _string(f)
            (vtype,) = struct.unpack("<I", _read(f, 4))
            value = _value(f, vtype)
            if value is not None:
                header.metadata[key] = value
        header.params = _count_params(f, tensors)
        return header


def _count_params(f: BinaryIO, tensors: int) -> int | None:
    """The number of weights, summed over the tensor table that follows the metadata."""
    if tensors > MAX_KV:
        return None
    total = 0
    try:
        for _ in range(tensors):
            _string(f)
            (n_dims,) = struct.unpack("<I", _read(f, 4))
            if n_dims > 8:
                return None
            count = 1
            for dim in struct.unpack(f"<{n_dims}Q", _read(f, 8 * n_dims)):
                count *= dim
            _read(f, 12)  # ggml type (u32) and data offset (u64)
            total += count
    except NotGGUF:
        return None
    return total


def describe(header: GGUFHeader) -> dict[str, Any]:
    """What the catalog shows: architecture, context length, quantisation, name, chat template present."""
    meta = header.metadata
    arch = meta.get("general.architecture")
    ftype = meta.get("general.file_type")
    return {
        "architecture": arch,
        "name": meta.get("general.name"),
        "context_length": meta.get(f"{arch}.context_length") if arch else None,
        "quantization": FILE_TYPES.get(ftype, f"type {ftype}") if ftype is not None else None,
        "has_chat_template": "tokenizer.chat_template" in meta,
        "params": header.params,
    }
