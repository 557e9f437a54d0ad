"""`qr`: Householder QR through LAPACK geqrf + orgqr, with TF's gradient."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...ir.types import I32, TensorType
from ...lowering import helpers as H
from ...registry import PURE, OpDef, OpTypeError, register
from . import custom_call as CC
from . import matrix as M


def check_matrix(t: TensorType, what: str) -> None:
    if t.dtype.kind != "f" or t.dtype.bits < 32:
        raise OpTypeError(f"{what} takes float32 or float64 matrices, got {t}")
    if t.rank < 2:
        raise OpTypeError(f"{what} needs matrices [..., m, n], got {t}")


def _qr_infer(a: TensorType, *, full_matrices: bool) -> tuple:
    check_matrix(a, "qr")
    *batch, m, n = a.shape
    k = m if full_matrices else min(m, n)
    return TensorType(a.dtype, (*batch, m, k)), TensorType(a.dtype, (*batch, k, n))


def _slice(x, t: TensorType, rows: int, cols: int):
    if t.shape[-2:] == (rows, cols):
        return x
    r = t.rank
    return hlo.slice(x, [0] * r, [*t.shape[:-2], rows, cols], [1] * r)


def _qr_lower(ctx, a, *, full_matrices):
    t = ctx.types_in[0]
    qt, rt = ctx.types_out
    *batch, m, n = t.shape
    k = min(m, n)
    if m == 0 or n == 0:
        eye = identity(qt)
        return [eye, H.splat(0, rt)]
    taus_t = TensorType(t.dtype, (*batch, k))
    fact, taus = CC.call(CC.target("geqrf", t), [a], (t,), (t, taus_t), alias={0: 0})
    cols = qt.shape[-1]
    if cols > n:  # full Q of a tall matrix: orgqr builds m columns from the n reflectors
        pad_t = TensorType(t.dtype, (*batch, m, cols))
        h = hlo.pad(fact, H.splat(0, TensorType(t.dtype, ())), [0] * t.rank,
                    [0] * (t.rank - 1) + [cols - n], [0] * t.rank)
    else:
        pad_t = TensorType(t.dtype, (*batch, m, cols))
        h = _slice(fact, t, m, cols)
    (q,) = CC.call(CC.target("orgqr", t), [h, taus], (pad_t, taus_t), (qt,), alias={0: 0})
    r = _slice(fact, t, rt.shape[-2], n) if rt.shape[-2] <= m else fact
    return [q, _triu(r, rt)]


def identity(t: TensorType):
    it = TensorType(I32, t.shape)
    eq = H.compare(hlo.iota(H.ir_type(it), t.rank - 2), hlo.iota(H.ir_type(it), t.rank - 1),
                   "EQ", it)
    return hlo.select(eq, H.splat(1, t), H.splat(0, t))


def transpose_last(x, t: TensorType):
    """x with its last two dims swapped (lowering level); `t` is x's type."""
    r = t.rank
    return hlo.transpose(x, [*range(r - 2), r - 1, r - 2])


def _triu(x, t: TensorType):
    it = TensorType(I32, t.shape)
    keep = H.compare(hlo.iota(H.ir_type(it), t.rank - 2), hlo.iota(H.ir_type(it), t.rank - 1),
                     "LE", it)
    return hlo.select(keep, x, H.splat(0, t))


def _qr_reference(a, *, full_matrices):
    *batch, m, n = a.shape
    k = m if full_matrices else min(m, n)
    q = np.zeros((*batch, m, k), a.dtype)
    r = np.zeros((*batch, k, n), a.dtype)
    for idx in np.ndindex(*batch):
        q[idx], r[idx] = np.linalg.qr(a[idx], mode="complete" if full_matrices else "reduced")
    return q, r


def _tri_solve_right(x, r):
    """x @ inv(r)^T for upper-triangular r (TF's _TriangularSolve helper)."""
    return M.mT(A.op("triangular_solve", r, M.mT(x), lower=False, adjoint=False))


def _qr_vjp(ctx, g, *, full_matrices):
    """TF's QrGrad (square or tall reduced Q; wide matrices: TF's split into a square
    block and the rest)."""
    (a,) = ctx.inputs
    q, r = ctx.outputs
    dq, dr = g
    *_, m, n = ctx.types_in[0].shape
    if full_matrices and m > n:
        raise OpTypeError("the gradient of qr with full_matrices=True is defined only for "
                          f"matrices with rows <= cols, got {ctx.types_in[0]} (as TF)")
    if m >= n:
        return (_square_or_tall(q, r, dq, dr),)
    # wide: a = [x, y], r = [u, v] (TF's _QrGradWideMatrix)
    rank = ctx.types_in[0].rank
    lead = (0,) * (rank - 2)
    nones = (None,) * (rank - 2)  # whole batch dims (known or not)

    def cols(v, lo, hi, rows):
        return A.op("slice", v, begin=(*lead, 0, lo), end=(*nones, rows, hi),
                    strides=(1,) * rank)

    y = cols(a, m, n, m)
    u, dv = cols(r, 0, m, m), cols(dr, m, n, m)
    du = cols(dr, 0, m, m)
    dq2 = A.add(dq, M.mm(y, M.mT(dv)))
    dx = _square_or_tall(q, u, dq2, du)
    dy = M.mm(q, dv)
    return (A.op("concatenate", dx, dy, axis=rank - 1),)


def _square_or_tall(q, r, dq, dr):
    qdq = M.mm(M.mT(q), dq)
    qdq_ = A.sub(qdq, M.mT(qdq))
    rdr = M.mm(r, M.mT(dr))
    rdr_ = A.sub(rdr, M.mT(rdr))
    low = M.tril(A.add(qdq_, rdr_))
    grad_a = M.mm(q, A.add(dr, _tri_solve_right(low, r)))
    grad_b = _tri_solve_right(A.sub(dq, M.mm(q, qdq)), r)
    return A.add(grad_a, grad_b)


qr_op = register(OpDef("qr", _qr_infer, _qr_lower, _qr_reference, _qr_vjp, frozenset({PURE}),
                       multiple_results=True))
