"""Half-precision copy of the MiniLM weights for the one-file build.

The fp32 ``model.safetensors`` is 91 MB and barely compresses (83 MB in the executable); stored as
float16 it is 45 MB, and the embedder casts every weight to float32 on load, so only storage
precision changes: the vectors stay at cosine >= 0.99999 of sentence-transformers' own
(``tests/build/test_model_fp16.py`` checks it against ``tests/fixtures/embedding_reference.json``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

WEIGHTS = "model.safetensors"


def write_fp16_model(source: Path, target: Path, files: tuple[str, ...]) -> Path:
    """Copy ``files`` from ``source`` to ``target`` with the weights in float16; reuse an up-to-date copy."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    target.mkdir(parents=True, exist_ok=True)
    for name in files:
        src, dst = source / name, target / name
        if dst.is_file() and dst.stat().st_mtime >= src.stat().st_mtime:
            continue
        if name == WEIGHTS:
            weights = load_file(str(src))
            half = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in weights.items()}
            tmp = dst.with_suffix(".tmp")
            save_file(half, str(tmp))
            tmp.replace(dst)
        else:
            shutil.copyfile(src, dst)
    return target
