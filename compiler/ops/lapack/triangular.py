"""`cholesky` and `triangular_solve`: LAPACK potrf/trsm on XLA:CPU, StableHLO's ops elsewhere."""
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


def use_lapack(ctx, *types: TensorType) -> bool:
    """LAPACK on XLA:CPU (XLA:CPU expands stablehlo.cholesky/triangular_solve into loops of
    small ops: ~29x / ~3x slower than the kernels on f32[32,64,64]); empty operands keep the
    StableHLO op, which needs no kernel call at all."""
    return ctx.options.platform == "cpu" and all(0 not in t.shape for t in types)


def check_square(t: TensorType, what: str, complex_ok: bool = False) -> None:
    if not ((t.dtype.kind == "f" and t.dtype.bits >= 32) or (complex_ok and t.dtype.is_complex)):
        kinds = "float32 or float64 (or complex64/complex128)" if complex_ok else \
            "float32 or float64"
        raise OpTypeError(f"{what} takes {kinds} matrices, got {t}")
    if t.rank < 2 or t.shape[-1] != t.shape[-2]:
        raise OpTypeError(f"{what} needs square matrices [..., n, n], got {t}")


def lower_tril(x, t: TensorType):
    """Zero the strict upper triangle of x (lowering level)."""
    m, n = t.shape[-2:]
    it = TensorType(I32, t.shape)
    rows = hlo.iota(H.ir_type(it), t.rank - 2)
    cols = hlo.iota(H.ir_type(it), t.rank - 1)
    keep = H.compare(rows, cols, "GE", it)
    return hlo.select(keep, x, H.splat(0, t))


# ---------------------------------------------------------------- cholesky
def _cholesky_infer(a: TensorType) -> TensorType:
    check_square(a, "cholesky", complex_ok=True)
    return a


def _cholesky_lower(ctx, a):
    t = ctx.type_out
    if not use_lapack(ctx, t):
        return lower_tril(hlo.cholesky(a, lower=True), t)
    # potrf with uplo='L' reads only the lower triangle (TF's semantics) and leaves the strict
    # upper one as it was: zeroed below. info != 0 (not positive definite) -> NaN, as XLA's
    # expander gives on the other platforms.
    info_t = TensorType(I32, t.shape[:-2])
    fact, info = CC.call(CC.target("potrf", t), [a], (t,), (t, info_t), alias={0: 0}, uplo="L")
    return lower_tril(CC.nan_where_failed(fact, info, t, info_t), t)


def _cholesky_reference(a):
    out = np.full_like(a, np.nan)
    for idx in np.ndindex(a.shape[:-2]):
        try:  # numpy reads the lower triangle only, as XLA's expander
            low = np.tril(a[idx], -1)
            out[idx] = np.linalg.cholesky(np.tril(a[idx]) + np.conj(low).swapaxes(-1, -2))
        except np.linalg.LinAlgError:
            pass
    return out


def _cholesky_vjp(ctx, g):
    """TF's Cholesky gradient (Murray 2016): Hermitian, from the lower factor only. Written
    with adjoints for complex factors, so it is TF's complex rule as it stands (COMPLEX_VJP:
    Cholesky is not holomorphic, the conjugating wrapper would not apply)."""
    (l,) = ctx.outputs
    l_inv = A.op("triangular_solve", l, M.eye_like(l), lower=True, adjoint=False)
    middle = M.mm(M.mH(l), g)
    half = A.const(0.5, ctx.types_out[0].dtype)
    middle = A.sub(M.tril(middle), A.mul(M.diag(M.diag_part(middle)), half))
    ga = M.mm(M.mm(M.mH(l_inv), middle), l_inv)
    return (A.mul(A.add(ga, M.mH(ga)), half),)


cholesky_op = register(OpDef("cholesky", _cholesky_infer, _cholesky_lower, _cholesky_reference,
                             _cholesky_vjp, frozenset({PURE, COMPLEX_VJP})))


# ---------------------------------------------------------------- triangular_solve
# adjoint=True solves with a's plain transpose, complex too (trsm's 'T', not 'C'): the op stays
# holomorphic in a, so the real gradient rule holds (compiler/autodiff.py conjugates around
# it); tf.linalg's conjugating adjoint is conj(a) bound here (tfx_core/ops/linalg).
def _solve_infer(a: TensorType, b: TensorType, *, lower: bool, adjoint: bool,
                 unit_diagonal: bool = False) -> TensorType:
    check_square(a, "triangular_solve", complex_ok=True)
    if b.dtype is not a.dtype or b.rank != a.rank or b.shape[:-2] != a.shape[:-2] \
            or b.shape[-2] != a.shape[-1]:
        raise OpTypeError(f"triangular_solve: rhs {b} does not fit the matrices {a} (same dtype "
                          "and batch dims, [..., n, k])")
    return b


def _solve_lower(ctx, a, b, *, lower, adjoint, unit_diagonal=False):
    ta, tb = ctx.types_in
    if use_lapack(ctx, ta, tb):  # trsm reads only a's `lower` triangle, as the StableHLO op
        (x,) = CC.call(CC.target("trsm", ta), [a, b], (ta, tb), (tb,), alias={0: 1}, side="L",
                       uplo="L" if lower else "U", trans_x="T" if adjoint else "N",
                       diag="U" if unit_diagonal else "N")
        return x
    trans = hlo.TransposeAttr.get("TRANSPOSE" if adjoint else "NO_TRANSPOSE")
    return hlo.triangular_solve(a, b, True, bool(lower), bool(unit_diagonal), trans)


def _solve_reference(a, b, *, lower, adjoint, unit_diagonal=False):
    w = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        k = a.shape[-1]
        w = np.where(np.eye(k, dtype=bool), np.ones_like(w), w)
    if adjoint:
        w = np.swapaxes(w, -1, -2)
    with np.errstate(all="ignore"):
        wide = np.complex128 if a.dtype.kind == "c" else np.float64
        return np.linalg.solve(w.astype(wide), b.astype(wide)).astype(b.dtype)


def _solve_vjp(ctx, g, *, lower, adjoint, unit_diagonal=False):
    """TF's MatrixTriangularSolve gradient: solve with the other orientation; a's gradient
    keeps a's triangle (the strict one with unit_diagonal: the diagonal is not read)."""
    a, _ = ctx.inputs
    (c,) = ctx.outputs
    unit = {"unit_diagonal": True} if unit_diagonal else {}
    gb = A.op("triangular_solve", a, g, lower=lower, adjoint=not adjoint, **unit)
    ga = None
    if ctx.needs[0]:
        ga = A.neg(M.mm(c, M.mT(gb)) if adjoint else M.mm(gb, M.mT(c)))
        k = -1 if unit_diagonal else 0
        ga = M.tril(ga, k) if lower else M.triu(ga, -k)
    return ga, gb if ctx.needs[1] else None


triangular_solve_op = register(OpDef("triangular_solve", _solve_infer, _solve_lower,
                                     _solve_reference, _solve_vjp, frozenset({PURE})))
