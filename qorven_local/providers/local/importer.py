"""Copying a GGUF file into the local kind's models folder, from the folders imports may come from."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

from qorven_local.errors import ValidationError
from qorven_local.providers.local.gguf_header import NotGGUF, read_header
from qorven_local.providers.local.options import LocalOptions


def default_allowed_roots(home: Path) -> tuple[Path, ...]:
    """Where imports may come from: the user's home folder and the data root."""
    roots = [Path(home)]
    try:
        roots.append(Path.home())
    except RuntimeError:
        pass
    return tuple(roots)


def check_import_source(path: Any, allowed_roots: Iterable[Path]) -> Path:
    """The real path of an importable GGUF file, or ValidationError (param ``path``) saying why not.

    The real path (symlinks resolved) must be a regular file under an allowed root, so a link in
    the home folder pointing elsewhere is refused like the target itself would be. The roots are
    checked before anything is said about the file: outside them, a missing path and an existing one
    get the same answer, so the endpoint cannot be used to probe which paths exist on the machine.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValidationError("path must be a non-empty string", param="path")
    raw = Path(path.strip()).expanduser()
    if not raw.is_absolute():
        raise ValidationError("path must be absolute", param="path")
    roots = [Path(r).resolve() for r in allowed_roots]
    outside = ValidationError(f"{raw} is missing or outside the folders models may be imported from "
                              f"({', '.join(str(r) for r in roots)})", param="path")
    try:
        real = raw.resolve()  # not strict: where the path leads, whether or not it exists
    except (OSError, RuntimeError):  # a symlink loop: where it leads is unknown, so not under a root
        raise outside from None
    if not any(real.is_relative_to(r) for r in roots):
        raise outside
    if not real.exists():
        raise ValidationError(f"no such file: {raw}", param="path")
    if not real.is_file():
        raise ValidationError(f"{raw} is not a regular file", param="path")
    try:
        read_header(real)
    except NotGGUF as exc:
        raise ValidationError(f"{raw.name} is not a GGUF model: {exc}", param="path") from None
    except OSError as exc:
        raise ValidationError(f"{raw.name} cannot be read: {exc.strerror}", param="path") from None
    return real


def import_model(path: Any, options: LocalOptions,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Copy a GGUF file into the models folder (via a temp file, renamed when complete).

    Returns {model, file, size_bytes, sha256}; ``progress(copied, total)`` is called per chunk.
    """
    src = check_import_source(path, options.allowed_roots)
    folder = options.models_dir
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / (src.stem + ".gguf")
    if dest.exists() and dest.resolve() == src:
        raise ValidationError(f"{src.name} is already in the models folder", param="path")
    total = src.stat().st_size
    digest = hashlib.sha256()
    tmp = folder / f".{dest.name}.{uuid.uuid4().hex[:8]}.part"
    copied = 0
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while True:
                chunk = fin.read(4 * 1024 * 1024)
                if not chunk:
                    break
                digest.update(chunk)
                fout.write(chunk)
                copied += len(chunk)
                if progress is not None:
                    progress(copied, total)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    if progress is not None and total == 0:
        progress(0, 0)
    return {"model": dest.stem, "file": dest.name, "size_bytes": copied, "sha256": digest.hexdigest()}
