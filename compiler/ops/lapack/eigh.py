"""`eigh`: LAPACK syevd on the lower triangle, outputs (e, v) as TF, with TF's gradient."""
from __future__ import annotations

import numpy as np

from ... import autodiff as A
from ...ir.types import I32, TensorType
from ...registry import PURE, OpDef, register
from . import custom_call as CC
from . import matrix as M
from .triangular import check_square


def _eigh_infer(a: TensorType) -> tuple:
    check_square(a, "eigh")
    return TensorType(a.dtype, a.shape[:-1]), a


def _eigh_lower(ctx, a):
    t = ctx.types_in[0]
    e_t = ctx.types_out[0]
    if t.shape[-1] == 0:
        return [_empty(e_t), a]
    info_t = TensorType(I32, t.shape[:-2])
    v, e, info = CC.call(CC.target("syevd", t), [a], (t,), (t, e_t, info_t), mode="V", uplo="L")
    return [CC.nan_where_failed(e, info, e_t, info_t), CC.nan_where_failed(v, info, t, info_t)]


def _empty(t: TensorType):
    from ...lowering import helpers as H

    return H.splat(0, t)


def _eigh_reference(a):
    e = np.zeros(a.shape[:-1], a.dtype)
    v = np.zeros_like(a)
    for idx in np.ndindex(a.shape[:-2]):
        if a.shape[-1]:
            e[idx], v[idx] = np.linalg.eigh(a[idx], UPLO="L")
    return e, v


def _eigh_vjp(ctx, g):
    """TF's SelfAdjointEigV2 gradient, folded onto the lower triangle the op reads."""
    e, v = ctx.outputs
    ge, gv = g
    rank = A.type_of(e).rank
    diff = A.sub(A.op("expand_dims", e, axes=(rank - 1,)), A.op("expand_dims", e, axes=(rank,)))
    f = M.off_diagonal_reciprocal(diff)
    inner = A.add(M.diag(ge), A.mul(f, M.mm(M.mT(v), gv)))
    ga = M.mm(v, M.mm(inner, M.mT(v)))
    ga = M.tril(A.add(ga, M.mT(ga)))
    half = A.mul(M.diag(M.diag_part(ga)), A.const(0.5, ctx.types_out[0].dtype))
    return (A.sub(ga, half),)


eigh_op = register(OpDef("eigh", _eigh_infer, _eigh_lower, _eigh_reference, _eigh_vjp,
                         frozenset({PURE}), multiple_results=True))
