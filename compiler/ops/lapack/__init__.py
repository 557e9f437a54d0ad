"""Decompositions and solves: cholesky/triangular_solve (StableHLO ops) and LAPACK custom calls
(qr, svd, eigh, lu) on XLA:CPU, each an OpDef with a numpy reference and TF's gradient."""
from . import eig, eigh, lu, qr, svd, triangular  # noqa: F401
