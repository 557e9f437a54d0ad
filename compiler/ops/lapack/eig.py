"""`eig`: LAPACK geev for general real or complex matrices: eigenvalues as (real, imaginary)
parts and the right eigenvectors (complex, unit norm), with TF's gradient."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...autodiff import COMPLEX_VJP
from ...ir.types import COMPLEX_OF, I32, TensorType
from ...lowering import helpers as H
from ...registry import PURE, OpDef, register
from . import custom_call as CC
from . import matrix as M
from .triangular import check_square


def _eig_infer(a: TensorType) -> tuple:
    check_square(a, "eig", complex_ok=True)
    if a.dtype.is_complex:
        e = TensorType(a.dtype.real_dtype, a.shape[:-1])
        return e, e, a
    e = TensorType(a.dtype, a.shape[:-1])
    return e, e, TensorType(COMPLEX_OF[a.dtype], a.shape)


def _eig_lower(ctx, a):
    t = ctx.types_in[0]
    e_t, _, v_t = ctx.types_out
    if t.shape[-1] == 0:
        return [H.splat(0, e_t), H.splat(0, e_t), H.splat(0, v_t)]
    info_t = TensorType(I32, t.shape[:-2])
    if t.dtype.is_complex:  # c/zgeev: complex eigenvalues in one array
        w_t = TensorType(t.dtype, t.shape[:-1])
        w, _, vr, info = CC.call(CC.target("geev", t), [a], (t,), (w_t, v_t, v_t, info_t),
                                 compute_left="N", compute_right="V")
        w = CC.nan_where_failed(w, info, w_t, info_t)
        return [hlo.real(w), hlo.imag(w), vr]
    wr, wi, _, vr, info = CC.call(CC.target("geev", t), [a], (t,),
                                  (e_t, e_t, v_t, v_t, info_t), compute_left="N",
                                  compute_right="V")
    return [CC.nan_where_failed(wr, info, e_t, info_t), CC.nan_where_failed(wi, info, e_t, info_t),
            vr]


def _eig_reference(a):
    e = np.zeros(a.shape[:-1], np.complex128)
    v = np.zeros(a.shape, np.complex128)
    for idx in np.ndindex(a.shape[:-2]):
        if a.shape[-1]:
            e[idx], v[idx] = np.linalg.eig(a[idx])
    cdt = np.complex64 if a.dtype in (np.float32, np.complex64) else np.complex128
    rdt = np.float32 if cdt == np.complex64 else np.float64
    return e.real.astype(rdt), e.imag.astype(rdt), v.astype(cdt)


def _solve(a, b):
    """a^-1 b by the lu op and two triangular solves (inside a gradient rule)."""
    packed, _, perm = A.op("lu", a)
    pb = M.mm(M.permutation_matrix(perm, A.type_of(b).dtype), b)
    y = A.op("triangular_solve", packed, pb, lower=True, adjoint=False, unit_diagonal=True)
    return A.op("triangular_solve", packed, y, lower=False, adjoint=False)


def _eig_vjp(ctx, g):
    """TF's Eig gradient, in TF's complex convention (COMPLEX_VJP): with e = wr + i wi,
    V^-H (diag(ge) + conj(F) * (V^H gV - V^H V diag(Re diag(V^H gV)))) V^H, F_ij = 1/(e_j - e_i)
    off the diagonal; real inputs get its real part (TF casts it)."""
    (a,) = ctx.inputs
    wr, wi, v = ctx.outputs
    gwr, gwi, gv = g
    e, ge = A.op("complex", wr, wi), A.op("complex", gwr, gwi)
    ct = A.type_of(v).dtype
    rank = A.type_of(e).rank
    diff = A.sub(A.op("expand_dims", e, axes=(rank - 1,)), A.op("expand_dims", e, axes=(rank,)))
    f = A.op("conj", M.off_diagonal_reciprocal(diff))
    vt = M.mH(v)
    vgv = M.mm(vt, gv)
    keep = M.diag(A.op("convert", A.op("real", M.diag_part(vgv)), dtype=ct))
    mid = A.add(M.diag(ge), A.mul(f, A.sub(vgv, M.mm(M.mm(vt, v), keep))))
    grad_a = _solve(vt, M.mm(mid, vt))
    return (grad_a if ctx.types_in[0].dtype.is_complex else A.op("real", grad_a),)


eig_op = register(OpDef("eig", _eig_infer, _eig_lower, _eig_reference, _eig_vjp,
                        frozenset({PURE, COMPLEX_VJP}), multiple_results=True))
