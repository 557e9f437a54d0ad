"""`lu`: LAPACK getrf (partial pivoting); outputs the packed factors, the 0-based row swaps and
the row permutation they make; the gradient is TF's (square matrices)."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...ir.types import BOOL, I32, TensorType
from ...lowering import helpers as H
from ...registry import PURE, OpDef, register
from . import custom_call as CC
from . import matrix as M
from .triangular import check_square


def _lu_infer(a: TensorType) -> tuple:
    check_square(a, "lu", complex_ok=True)
    piv = TensorType(I32, a.shape[:-1])
    return a, piv, piv


def _lu_lower(ctx, a):
    t, piv_t, _ = ctx.types_out
    if t.shape[-1] == 0:
        return [a, H.splat(0, piv_t), H.splat(0, piv_t)]
    info_t = TensorType(I32, t.shape[:-2])
    lu, piv, info = CC.call(CC.target("getrf", t), [a], (t,), (t, piv_t, info_t),
                             alias={0: 0})
    piv = hlo.subtract(piv, H.splat(1, piv_t))
    # info > 0 (an exactly singular U) is still a factorization, as TF returns it
    return [CC.nan_where_failed(lu, info, t, info_t, ok="GE"), piv, _permutation(piv, piv_t)]


_UNROLL = 8  # swaps per loop iteration


def _permutation(piv, t: TensorType):
    """The row permutation the swaps (i <-> piv[i], in order) make, without a sequential chain
    of gathers: row i's final occupant is the one at piv[i] after swaps 0..i-1, i.e.
    s_0(s_1(...s_{i-1}(piv[i]))) with s_j swapping j and piv[j]. Applying s_j for j = n-2 down
    to 0 to every position i > j at once is elementwise selects on [..., n]; a loop doing
    _UNROLL of them per iteration (fully unrolled, XLA fused the chain into every consumer: a
    gather of b's rows redid it per column, +0.2 ms on solve f32[32,64,64]x[32,64,8])."""
    n, nb = t.shape[-1], t.rank - 1
    if n < 2:
        return piv
    s_t = TensorType(I32, ())
    col_t = TensorType(I32, (*t.shape[:-1], 1))
    trips = -(-(n - 1) // _UNROLL)
    types = [H.ir_type(s_t), H.ir_type(t), H.ir_type(t)]
    loop = hlo.WhileOp(types, [H.splat(trips - 1, s_t), piv, piv])
    cond = loop.regions[0].blocks.append(*types)
    with ir.InsertionPoint(cond):
        hlo.return_([H.compare(cond.arguments[0], H.splat(0, s_t), "GE", s_t)])
    body = loop.regions[1].blocks.append(*types)
    with ir.InsertionPoint(body):
        k, q, pv = body.arguments
        idx = hlo.iota(H.ir_type(t), nb)
        zero = H.splat(0, s_t)
        top = hlo.add(hlo.multiply(k, H.splat(_UNROLL, s_t)), H.splat(_UNROLL - 1, s_t))
        for u in range(_UNROLL):  # j = top - u, highest first; j > n - 2 (the padding): no-op
            j = hlo.subtract(top, H.splat(u, s_t))
            p = hlo.dynamic_slice(pv, [zero] * nb + [j], [*t.shape[:-1], 1])
            p = hlo.broadcast_in_dim(H.ir_type(t), hlo.reshape(H.ir_type(col_t), p),
                                     list(range(t.rank)))
            jj = hlo.broadcast_in_dim(H.ir_type(t), j, [])
            ok = H.compare(j, H.splat(n - 2, s_t), "LE", s_t)
            after = hlo.and_(H.compare(idx, jj, "GT", t),
                             hlo.broadcast_in_dim(H.ir_type(TensorType(BOOL, t.shape)), ok, []))
            to_j = hlo.and_(after, H.compare(q, p, "EQ", t))
            to_p = hlo.and_(after, H.compare(q, jj, "EQ", t))
            q = hlo.select(to_j, jj, hlo.select(to_p, p, q))
        hlo.return_([hlo.subtract(k, H.splat(1, s_t)), q, pv])
    return loop.results[1]


def _lu_reference(a):
    """Row-by-row Gaussian elimination with LAPACK's pivot choice (first largest |entry|)."""
    lu = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    n = a.shape[-1]
    piv = np.zeros(a.shape[:-1], np.int32)
    for idx in np.ndindex(a.shape[:-2]):
        w = lu[idx]
        for j in range(n):
            col = w[j:, j]  # complex: LAPACK's icamax compares |re| + |im|
            p = j + int(np.argmax(np.abs(col.real) + np.abs(col.imag)))
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
