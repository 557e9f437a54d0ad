"""`lu`: LAPACK getrf (partial pivoting); outputs the packed factors, the 0-based row swaps and
the row permutation they make; the gradient is TF's (square matrices)."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...ir.types import I32, TensorType
from ...lowering import helpers as H
from ...registry import PURE, OpDef, register
from . import custom_call as CC
from . import matrix as M
from .triangular import check_square


def _lu_infer(a: TensorType) -> tuple:
    check_square(a, "lu")
    piv = TensorType(I32, a.shape[:-1])
    return a, piv, piv


def _lu_lower(ctx, a):
    t, piv_t, _ = ctx.types_out
    if t.shape[-1] == 0:
        return [a, H.splat(0, piv_t), H.splat(0, piv_t)]
    info_t = TensorType(I32, t.shape[:-2])
    lu, piv, info = CC.call(CC.target("getrf", t), [a], (t,), (t, piv_t, info_t))
    piv = hlo.subtract(piv, H.splat(1, piv_t))
    # info > 0 (an exactly singular U) is still a factorization, as TF returns it
    return [CC.nan_where_failed(lu, info, t, info_t, ok="GE"), piv, _permutation(piv, piv_t)]


def _permutation(piv, t: TensorType):
    """Apply the row swaps in order to 0..n-1 (unrolled: each swap acts on the last result;
    one select per swap, the swapped-in value read with a masked sum)."""
    n, nb = t.shape[-1], t.rank - 1
    idx = hlo.iota(H.ir_type(t), nb)
    perm = idx
    zero = H.splat(0, t)
    sum_t = TensorType(I32, t.shape[:-1])

    def column(x, i: int):
        """x[..., i] broadcast along the last dim."""
        c = hlo.slice(x, [0] * nb + [i], [*t.shape[:-1], i + 1], [1] * t.rank)
        return hlo.broadcast_in_dim(H.ir_type(t), hlo.reshape(H.ir_type(sum_t), c),
                                    list(range(nb)))

    for i in range(n):
        p = column(piv, i)
        at_p = H.compare(idx, p, "EQ", t)
        at_i = H.compare(idx, H.splat(i, t), "EQ", t)
        (total,) = H.reduce([hlo.select(at_p, perm, zero)], [H.splat(0, TensorType(I32, ()))],
                            [nb], [sum_t], [TensorType(I32, ())],
                            lambda acc, x: [hlo.add(acc, x)])
        moved = hlo.broadcast_in_dim(H.ir_type(t), total, list(range(nb)))
        perm = hlo.select(at_i, moved, hlo.select(at_p, column(perm, i), perm))
    return perm


def _lu_reference(a):
    """Row-by-row Gaussian elimination with LAPACK's pivot choice (first largest |entry|)."""
    lu = a.astype(np.float64).copy()
    n = a.shape[-1]
    piv = np.zeros(a.shape[:-1], np.int32)
    for idx in np.ndindex(a.shape[:-2]):
        w = lu[idx]
        for j in range(n):
            p = j + int(np.argmax(np.abs(w[j:, j])))
            piv[idx][j] = p
            w[[j, p]] = w[[p, j]]
            if w[j, j] != 0:
                w[j + 1:, j] /= w[j, j]
                w[j + 1:, j + 1:] -= np.outer(w[j + 1:, j], w[j, j + 1:])
    perm = np.broadcast_to(np.arange(n, dtype=np.int32), piv.shape).copy()
    for idx in np.ndindex(a.shape[:-2]):
        for j, p in enumerate(piv[idx]):
            perm[idx][[j, p]] = perm[idx][[p, j]]
    return lu.astype(a.dtype), piv, perm


def _lu_vjp(ctx, g):
    """TF's LuGrad: a's gradient is P^T L^-T (tril(L^T dL, -1) + triu(dU U^T)) U^-T."""
    lu, _, perm = ctx.outputs
    glu = g[0]
    t = ctx.types_out[0]
    eye = M.eye_like(lu)
    low = A.add(M.tril(lu, -1), eye)
    up = M.triu(lu)
    phi = A.add(M.tril(M.mm(M.mT(low), M.tril(glu, -1)), -1),
                M.triu(M.mm(M.triu(glu), M.mT(up))))
    x = A.op("triangular_solve", low, phi, lower=True, adjoint=True)  # L^-T phi
    x = M.mT(A.op("triangular_solve", up, M.mT(x), lower=False, adjoint=False))  # ... U^-T
    p = M.permutation_matrix(perm, t.dtype)
    return (M.mm(M.mT(p), x),)


lu_op = register(OpDef("lu", _lu_infer, _lu_lower, _lu_reference, _lu_vjp, frozenset({PURE}),
                       multiple_results=True))
