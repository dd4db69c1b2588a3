"""Qorven Local: a local-first agent workspace in one executable."""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS starts a worker per core for every matrix product. The embedder runs inside
# request threads that already share the cores, so those workers only contend: one short query
# took ~37 ms with one BLAS thread and 500+ ms with two on a busy 2-core machine. Set before numpy
# loads (every entry point imports this package first); an explicit setting still wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
