"""`svd`: LAPACK gesdd (divide and conquer), outputs (s, u, v) as TF (a = u diag(s) v^H), with
TF's gradient (complex: its adjoint form and extra term)."""
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
from .qr import check_matrix, identity, transpose_last


def _svd_infer(a: TensorType, *, full_matrices: bool, compute_uv: bool) -> tuple:
    check_matrix(a, "svd", complex_ok=True)
    *batch, m, n = a.shape
    k = min(m, n)
    s = TensorType(a.dtype.real_dtype, (*batch, k))
    if not compute_uv:
        return (s,)
    ku, kv = (m, n) if full_matrices else (k, k)
    return s, TensorType(a.dtype, (*batch, m, ku)), TensorType(a.dtype, (*batch, n, kv))


def _svd_lower(ctx, a, *, full_matrices, compute_uv):
    t = ctx.types_in[0]
    *batch, m, n = t.shape
    k = min(m, n)
    s_t = ctx.types_out[0]
    if k == 0:  # LAPACK needs a non-empty matrix: no singular values, identity vectors
        return [H.splat(0, s_t), *(identity(ut) for ut in ctx.types_out[1:])]
    full = full_matrices or not compute_uv
    u_t = TensorType(t.dtype, (*batch, m, m if full else k))
    vt_t = TensorType(t.dtype, (*batch, n if full else k, n))
    info_t = TensorType(I32, tuple(batch))
    mode = "N" if not compute_uv else ("A" if full_matrices else "S")
    _, s, u, vt, info = CC.call(CC.target("gesdd", t), [a], (t,),
                                (t, s_t, u_t, vt_t, info_t), mode=mode)
    s = CC.nan_where_failed(s, info, s_t, info_t)
    if not compute_uv:
        return [s]
    u = CC.nan_where_failed(u, info, u_t, info_t)
    v = transpose_last(vt, vt_t)
    if t.dtype.is_complex:
        v = _conj(v, ctx.types_out[2])
    return [s, u, CC.nan_where_failed(v, info, ctx.types_out[2], info_t)]


def _conj(x, t: TensorType):
    """Complex conjugate (lowering level): real - i imag."""
    re, im = hlo.real(x), hlo.imag(x)
    return hlo.complex(re, hlo.negate(im))


def _svd_reference(a, *, full_matrices, compute_uv):
    *batch, m, n = a.shape
    k = min(m, n)
    s = np.zeros((*batch, k), a.real.dtype)
    ku, kv = (m, n) if full_matrices else (k, k)
    u = np.zeros((*batch, m, ku), a.dtype)
    v = np.zeros((*batch, n, kv), a.dtype)
    for idx in np.ndindex(*batch):
        if k == 0:
            u[idx], v[idx] = np.eye(m, ku), np.eye(n, kv)
            continue
        uu, ss, vt = np.linalg.svd(a[idx], full_matrices=full_matrices)
        s[idx], u[idx], v[idx] = ss, uu, np.conj(vt).T
    return (s, u, v) if compute_uv else (s,)


def _svd_vjp(ctx, g, *, full_matrices, compute_uv):
    """TF's SvdGrad (full_matrices only when rows and cols differ by <= 1); with adjoints and,
    for complex matrices, TF's extra term from the singular vectors' phases — TF's complex rule
    as it stands (COMPLEX_VJP: svd is not holomorphic)."""
    (a,) = ctx.inputs
    t = ctx.types_in[0]
    *_, m, n = t.shape
    dt = t.dtype

    def c(x):  # s, its cotangent and f are real: in a's dtype
        return A.op("convert", x, dtype=dt) if dt.is_complex else x

    if not compute_uv:
        s, u, v = A.op("svd", a, full_matrices=False, compute_uv=True)
        return (M.mm(M.mm(u, M.diag(c(g[0]))), M.mH(v)),)
    if full_matrices and abs(m - n) > 1:
        raise OpTypeError("svd's gradient with full_matrices=True needs rows and cols to differ "
                          f"by at most 1 (as TF), got {t}")
    s, u, v = ctx.outputs
    gs, gu, gv = g
    adjoint = m > n
    if adjoint:
        m, n = n, m
        u, v, gu, gv = v, u, gv, gu
    rank = t.rank
    nones = (None,) * (rank - 2)  # whole batch dims (known or not)
    lead = (0,) * (rank - 2)

    def cols(x, lo, hi, rows):
        return A.op("slice", x, begin=(*lead, 0, lo), end=(*nones, rows, hi), strides=(1,) * rank)

    s_mat = M.diag(c(s))
    s_sq = A.mul(s, s)
    row = A.op("expand_dims", s_sq, axes=(rank - 2,))
    col = A.op("expand_dims", s_sq, axes=(rank - 1,))
    diff = A.sub(row, col)  # [..., k, k]: s_j^2 - s_i^2
    f = c(M.off_diagonal_reciprocal(diff))
    v1 = cols(v, 0, m, n)
    gv1 = cols(gv, 0, m, n)
    v_gv = M.mm(M.mH(v1), gv1)
    f_u = A.mul(f, M.mm(M.mH(u), gu))
    f_v = A.mul(f, v_gv)
    inner = A.add(M.diag(c(gs)), A.add(M.mm(A.add(f_u, M.mH(f_u)), s_mat),
                                       M.mm(s_mat, A.add(f_v, M.mH(f_v)))))
    ga = M.mm(M.mm(u, inner), M.mH(v1))
    s_inv = M.diag(c(A.div(A.const(1, dt.real_dtype), s)))
    if m != n:
        gv1t = M.mH(gv1)
        term2 = A.sub(gv1t, M.mm(M.mm(gv1t, v1), M.mH(v1)))
        if full_matrices:
            v2, gv2 = cols(v, m, n, n), cols(gv, m, n, n)
            term2 = A.sub(term2, M.mm(M.mm(M.mH(v1), gv2), M.mH(v2)))
        ga = A.add(ga, M.mm(M.mm(u, s_inv), term2))
    if dt.is_complex:  # the phase term: diag(v1^H gv1)
        lv = M.diag(M.diag_part(v_gv))
        term3 = M.mm(M.mm(u, M.mm(s_inv, A.sub(M.mH(lv), lv))), M.mH(v1))
        ga = A.add(ga, A.mul(term3, A.const(0.5, dt)))
    return (M.mH(ga) if adjoint else ga,)


svd_op = register(OpDef("svd", _svd_infer, _svd_lower, _svd_reference, _svd_vjp,
                        frozenset({PURE, COMPLEX_VJP}), multiple_results=True))
