"""`eigh`: LAPACK syevd (heevd for complex) on the lower triangle, outputs (e, v) as TF, with
TF's gradient."""
from __future__ import annotations

import numpy as np

from ... import autodiff as A
from ...autodiff import COMPLEX_VJP
from ...ir.types import I32, TensorType
from ...registry import PURE, OpDef, register
from . import custom_call as CC
from . import matrix as M
from .triangular import check_square


def _eigh_infer(a: TensorType) -> tuple:
    check_square(a, "eigh", complex_ok=True)
    return TensorType(a.dtype.real_dtype, a.shape[:-1]), a


def _eigh_lower(ctx, a):
    t = ctx.types_in[0]
    e_t = ctx.types_out[0]
    if t.shape[-1] == 0:
        return [_empty(e_t), a]
    info_t = TensorType(I32, t.shape[:-2])
    fn = "heevd" if t.dtype.is_complex else "syevd"
    v, e, info = CC.call(CC.target(fn, t), [a], (t,), (t, e_t, info_t), alias={0: 0}, mode="V",
                         uplo="L")
    return [CC.nan_where_failed(e, info, e_t, info_t), CC.nan_where_failed(v, info, t, info_t)]


def _empty(t: TensorType):
    from ...lowering import helpers as H

    return H.splat(0, t)


def _eigh_reference(a):
    e = np.zeros(a.shape[:-1], a.real.dtype)
    v = np.zeros_like(a)
    for idx in np.ndindex(a.shape[:-2]):
        if a.shape[-1]:
            e[idx], v[idx] = np.linalg.eigh(a[idx], UPLO="L")
    return e, v


def _eigh_vjp(ctx, g):
    """TF's SelfAdjointEigV2 gradient, folded onto the lower triangle the op reads; with
    adjoints, so for complex matrices it is TF's rule as it stands (COMPLEX_VJP: eigh is not
    holomorphic)."""
    e, v = ctx.outputs
    ge, gv = g
    vt = ctx.types_out[1]
    rank = A.type_of(e).rank
    diff = A.sub(A.op("expand_dims", e, axes=(rank - 1,)), A.op("expand_dims", e, axes=(rank,)))
    f = M.off_diagonal_reciprocal(diff)
    d = M.diag(ge)
    if vt.dtype.is_complex:  # e, f and ge are real
        f, d = A.op("convert", f, dtype=vt.dtype), A.op("convert", d, dtype=vt.dtype)
    inner = A.add(d, A.mul(f, M.mm(M.mH(v), gv)))
    ga = M.mm(v, M.mm(inner, M.mH(v)))
    ga = M.tril(A.add(ga, M.mH(ga)))
    half = A.mul(M.diag(M.diag_part(ga)), A.const(0.5, vt.dtype))
    return (A.sub(ga, half),)


eigh_op = register(OpDef("eigh", _eigh_infer, _eigh_lower, _eigh_reference, _eigh_vjp,
                         frozenset({PURE, COMPLEX_VJP}), multiple_results=True))
