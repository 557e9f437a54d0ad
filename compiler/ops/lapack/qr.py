"""`qr`: Householder QR through LAPACK geqrf + orgqr (ungqr for complex), with TF's gradient."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...autodiff import COMPLEX_VJP
from ...ir.types import I32, TensorType
from ...lowering import helpers as H
from ...registry import PURE, OpDef, OpTypeError, register
from . import custom_call as CC
from . import matrix as M


def check_matrix(t: TensorType, what: str, complex_ok: bool = False) -> None:
    if not ((t.dtype.kind == "f" and t.dtype.bits >= 32) or (complex_ok and t.dtype.is_complex)):
        kinds = "float32 or float64 (or complex64/complex128)" if complex_ok else \
            "float32 or float64"
        raise OpTypeError(f"{what} takes {kinds} matrices, got {t}")
    if t.rank < 2:
        raise OpTypeError(f"{what} needs matrices [..., m, n], got {t}")


def _qr_infer(a: TensorType, *, full_matrices: bool) -> tuple:
    check_matrix(a, "qr", complex_ok=True)
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
    build = "ungqr" if t.dtype.is_complex else "orgqr"
    (q,) = CC.call(CC.target(build, t), [h, taus], (pad_t, taus_t), (qt,), alias={0: 0})
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
    """x @ inv(r)^H for upper-triangular r (TF's _TriangularSolve helper)."""
    return M.mH(A.op("triangular_solve", r, M.mH(x), lower=False, adjoint=False))


def _qr_vjp(ctx, g, *, full_matrices):
    """TF's QrGrad (square or tall reduced Q; wide matrices: TF's split into a square
    block and the rest); with adjoints and TF's complex correction, so for complex matrices it
    is TF's rule as it stands (COMPLEX_VJP: qr is not holomorphic)."""
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
    dq2 = A.add(dq, M.mm(y, M.mH(dv)))
    dx = _square_or_tall(q, u, dq2, du)
    dy = M.mm(q, dv)
    return (A.op("concatenate", dx, dy, axis=rank - 1),)


def _square_or_tall(q, r, dq, dr):
    qdq = M.mm(M.mH(q), dq)
    qdq_ = A.sub(qdq, M.mH(qdq))
    rdr = M.mm(r, M.mH(dr))
    rdr_ = A.sub(rdr, M.mH(rdr))
    low = M.tril(A.add(qdq_, rdr_))
    grad_a = M.mm(q, A.add(dr, _tri_solve_right(low, r)))
    grad_b = _tri_solve_right(A.sub(dq, M.mm(q, qdq)), r)
    out = A.add(grad_a, grad_b)
    dt = A.type_of(q).dtype
    if dt.is_complex:  # TF's correction: the imaginary part of diag(r dr^H - dq^H q)
        diag = M.diag(M.diag_part(A.sub(rdr, M.mH(qdq))))
        imag = A.sub(diag, A.op("convert", A.op("real", diag), dtype=dt))
        out = A.add(out, _tri_solve_right(M.mm(q, M.mH(imag)), r))
    return out


qr_op = register(OpDef("qr", _qr_infer, _qr_lower, _qr_reference, _qr_vjp,
                       frozenset({PURE, COMPLEX_VJP}), multiple_results=True))
