"""Matrix helpers for the decompositions' gradient rules, built by binding IR ops (so a rule
runs eagerly and inside a trace alike)."""
from __future__ import annotations

from typing import Any

from ... import autodiff as A
from ...ir.types import I32, TensorType

Value = Any


def mT(x: Value) -> Value:
    """Swap the last two dims."""
    r = A.type_of(x).rank
    return A.op("transpose", x, perm=(*range(r - 2), r - 1, r - 2))


def mH(x: Value) -> Value:
    """The adjoint: swap the last two dims and conjugate complex values."""
    t = mT(x)
    return A.op("conj", t) if A.type_of(x).dtype.is_complex else t


def mm(a: Value, b: Value) -> Value:
    """Batched a @ b (same batch dims)."""
    r = A.type_of(a).rank
    nb = r - 2
    return A.op("dot_general", a, b, lhs_batch=tuple(range(nb)), rhs_batch=tuple(range(nb)),
                lhs_contract=(r - 1,), rhs_contract=(nb,))


def _mask(t: TensorType, test: str, k: int) -> Value:
    """Boolean [m, n] mask: col - row `test` k (GE/LE/EQ)."""
    m, n = t.shape[-2:]
    rows = A.op("iota", shape=(m, n), dimension=0, dtype=I32)
    cols = A.op("iota", shape=(m, n), dimension=1, dtype=I32)
    diff = A.sub(cols, rows)
    return A.compare(diff, A.const(k, I32), test)


def _keep(x: Value, test: str, k: int) -> Value:
    t = A.type_of(x)
    return A.select(_mask(t, test, k), x, A.zeros_like(t, x))


def tril(x: Value, k: int = 0) -> Value:
    """Entries on and below the k-th diagonal (k < 0: strictly below)."""
    return _keep(x, "LE", k)


def triu(x: Value, k: int = 0) -> Value:
    """Entries on and above the k-th diagonal."""
    return _keep(x, "GE", k)


def diag_part(x: Value) -> Value:
    """[..., n, n] -> [..., n]."""
    t = A.type_of(x)
    d = _keep(x, "EQ", 0)
    return A.op("reduce_sum", d, axes=(t.rank - 1,), keepdims=False)


def diag(v: Value) -> Value:
    """[..., n] -> [..., n, n] with v on the diagonal."""
    t = A.type_of(v)
    n = t.shape[-1]
    row = A.op("expand_dims", v, axes=(t.rank - 1,))  # [..., 1, n]: select broadcasts it
    return A.select(_mask(TensorType(t.dtype, (n, n)), "EQ", 0), row, A.const(0, t.dtype))


def off_diagonal_reciprocal(x: Value) -> Value:
    """1 / x off the diagonal, 0 on it (the F matrix of the eigen/singular value gradients;
    repeated values give inf, as TF)."""
    t = A.type_of(x)
    return A.select(_mask(t, "EQ", 0), A.zeros_like(t, x), A.div(A.const(1, t.dtype), x))


def eye_like(x: Value) -> Value:
    """The identity with x's (square) type."""
    t = A.type_of(x)
    return _keep(A.ones_like(t, x), "EQ", 0)


def permutation_matrix(perm: Value, dtype: Any) -> Value:
    """P[..., i, j] = (perm[..., i] == j): P @ a takes a's rows in perm's order."""
    t = A.type_of(perm)
    n = t.shape[-1]
    col = A.op("expand_dims", perm, axes=(t.rank,))  # [..., n, 1], against [n]: [..., n, n]
    hit = A.compare(col, A.op("iota", shape=(n,), dimension=0, dtype=I32), "EQ")
    return A.op("convert", hit, dtype=dtype)

