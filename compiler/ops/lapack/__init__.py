"""Decompositions and solves as LAPACK custom calls on XLA:CPU (cholesky/triangular_solve:
StableHLO's ops on other platforms), each an OpDef with a numpy reference and TF's gradient."""
from . import eig, eigh, lu, qr, schur, svd, triangular  # noqa: F401
