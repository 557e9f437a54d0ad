"""tf.linalg's solvers and what follows from a factorization: solve, inv, det, slogdet, logdet,
cholesky_solve, lu_solve, lu_matrix_inverse, lu_reconstruct, lstsq, pinv, matrix_rank,
tridiagonal_solve, banded_triangular_solve — Python over the decompositions, so gradients come
from the factorizations' rules."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ops.lapack import matrix as LM
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as AO
from tfx_core.ops import math_ops as MO
from tfx_core.ops import reduction_ops as RO
from tfx_core.ops.arguments import op_error
from tfx_core.ops.linalg import decompositions as D
from tfx_core.ops.linalg.structure import diag, matrix_transpose
from tfx_core.ops.linalg_ops import band_part, matmul

TensorLike = Any


def _eye_like(a: Tensor) -> Tensor:
    """Identities shaped like a (batch dims may be unknown until the call)."""
    return MO.add(AO.zeros_like(a), AO.eye(a.shape[-1], dtype=a.dtype))


def diagonal(x: Tensor) -> Tensor:
    """The main diagonal of square matrices, by a mask (no slice: its gradient works with
    unknown batch dims)."""
    n = x.shape[-1]
    return RO.reduce_sum(MO.where(np.eye(n, dtype=bool), x, AO.zeros_like(x)), -1)


def _unit_lower(packed: Tensor) -> Tensor:
    # NOTE: a select, not arithmetic: eye + packed - diag rounds the 1 away next to large
    # pivots, and packed - triu(packed) sends cancelling cotangents through the diagonal,
    # which swamp U's much smaller ones
    n = packed.shape[-1]
    below = np.tril(np.ones((n, n), bool), -1)
    return MO.where(below, packed, _eye_like(packed))


def _permute_rows(perm: Tensor, b: Tensor, inverse: bool = False) -> Tensor:
    """b's rows in perm's order (P b), or put back (P^T b) with inverse=True."""
    # a gather: the one-hot matmul cost solve ~0.1 ms on f32[32,64,8] (complex: the matmul,
    # as the gather's gradient, a scatter-add, takes no complex values)
    if not inverse and not b.dtype.is_complex:
        from tfx_core.ops.indexing_ops import gather

        return gather(b, MO.cast(perm, "int32"), axis=b.ndim - 2, batch_dims=b.ndim - 2)
    p = LM.permutation_matrix(MO.cast(perm, "int32"), b.dtype)
    return matmul(p, b, transpose_a=inverse)


def _lu_solve(packed: Tensor, perm: Tensor, b: Tensor, adjoint: bool = False) -> Tensor:
    """x from the packed LU factors: trsm with the unit-diagonal flag reads L straight from
    the packed matrix (no masked copy of L)."""
    from tfx_core.framework.operands import bind

    tri = D.TRI.triangular_solve_op
    if not adjoint:  # L U x = P b
        y = bind(tri, packed, _permute_rows(perm, b), lower=True, adjoint=False,
                 unit_diagonal=True)
        return bind(tri, packed, y, lower=False, adjoint=False)
    y = bind(tri, packed, b, lower=False, adjoint=True)  # U^T L^T P x = b
    return _permute_rows(perm, bind(tri, packed, y, lower=True, adjoint=True,
                                    unit_diagonal=True), inverse=True)


def solve(matrix: TensorLike, rhs: TensorLike, adjoint: bool = False,
          name: str | None = None) -> Tensor:
    """x with matrix @ x = rhs (adjoint(matrix) @ x with adjoint=True), by LU with partial
    pivoting (tf.linalg.solve; float or complex); batch dims broadcast."""
    a = D.float_matrix(matrix, "solve", square=True, complex_ok=True)
    b = D.float_matrix(rhs, "solve", dtype=a.dtype, complex_ok=True)
    if b.shape[-2] != a.shape[-1]:
        raise op_error("solve", f"rhs {b.type} does not fit matrix {a.type}")
    a, b = D.broadcast_batch(a, b, "solve")
    packed, _, perm = D.lu_factor(a)
    return _solve_adjoint(packed, perm, b, adjoint)


def _solve_adjoint(packed: Tensor, perm: Tensor, b: Tensor, adjoint: bool) -> Tensor:
    """_lu_solve with TF's adjoint, which conjugates complex matrices: A^H x = b is
    A^T conj(x) = conj(b)."""
    if not (adjoint and packed.dtype.is_complex):
        return _lu_solve(packed, perm, b, adjoint)
    return MO.conj(_lu_solve(packed, perm, MO.conj(b), True))


def inv(input: TensorLike, adjoint: bool = False, name: str | None = None) -> Tensor:  # noqa: A002
    """Inverse of square matrices (tf.linalg.inv; float or complex); singular ones give
    inf/NaN."""
    a = D.float_matrix(input, "inv", square=True, complex_ok=True)
    packed, _, perm = D.lu_factor(a)
    return _solve_adjoint(packed, perm, _eye_like(a), adjoint)


def _pivot_sign(piv: Tensor, dtype: Any) -> Tensor:
    """(-1) ** (number of actual row swaps)."""
    n = piv.shape[-1]
    swaps = MO.not_equal(piv, AO.range(n))
    odd = MO.equal(MO.floormod(RO.reduce_sum(MO.cast(swaps, "int32"), -1), 2), 1)
    one = to_tensor(1, "det", dtype)
    return MO.where(odd, MO.negative(one), one)


def det(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """Determinants of square matrices (tf.linalg.det; float or complex)."""
    a = D.float_matrix(input, "det", square=True, complex_ok=True)
    packed, piv, _ = D.lu_factor(a)
    return MO.multiply(_pivot_sign(piv, a.dtype), RO.reduce_prod(diagonal(packed), -1))


def slogdet(input: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
    """(sign, log|det|) of square matrices (tf.linalg.slogdet; complex: sign is det's phase
    and log|det| keeps the complex dtype, as TF)."""
    a = D.float_matrix(input, "slogdet", square=True, complex_ok=True)
    packed, piv, _ = D.lu_factor(a)
    d = diagonal(packed)
    sign = MO.multiply(_pivot_sign(piv, a.dtype), RO.reduce_prod(MO.sign(d), -1))
    log_abs = RO.reduce_sum(MO.log(MO.abs(d)), -1)
    return sign, (MO.cast(log_abs, a.dtype) if a.dtype.is_complex else log_abs)


def logdet(matrix: TensorLike, name: str | None = None) -> Tensor:
    """log det of Hermitian positive definite matrices, by Cholesky (tf.linalg.logdet; real
    for complex matrices, as TF)."""
    chol = D.cholesky(D.float_matrix(matrix, "logdet", square=True, complex_ok=True))
    d = diagonal(chol)
    d = MO.real(d) if d.dtype.is_complex else d
    return MO.multiply(to_tensor(2, "logdet", d.dtype), RO.reduce_sum(MO.log(d), -1))


def cholesky_solve(chol: TensorLike, rhs: TensorLike, name: str | None = None) -> Tensor:
    """x with (chol @ chol^H) x = rhs for lower Cholesky factors (tf.linalg.cholesky_solve;
    float or complex)."""
    c = D.float_matrix(chol, "cholesky_solve", square=True, complex_ok=True)
    y = D.triangular_solve(c, rhs, lower=True, adjoint=False)
    return D.triangular_solve(c, y, lower=True, adjoint=True)


def _lu_args(lower_upper: TensorLike, perm: TensorLike, name: str) -> tuple[Tensor, Tensor]:
    packed = D.float_matrix(lower_upper, name, square=True, complex_ok=True)
    p = to_tensor(perm, name)
    if not p.dtype.is_integer or tuple(p.shape) != tuple(packed.shape[:-1]):
        raise op_error(name, f"perm must be integers shaped {list(packed.shape[:-1])} for "
                       f"{packed.type}, got {p.type}", TypeError if not p.dtype.is_integer
                       else ValueError)
    return packed, p


def lu_solve(lower_upper: TensorLike, perm: TensorLike, rhs: TensorLike,
             validate_args: bool = False, name: str | None = None) -> Tensor:
    """x with A x = rhs from tf.linalg.lu's (lower_upper, perm) (tf.linalg.lu_solve)."""
    packed, p = _lu_args(lower_upper, perm, "lu_solve")
    b = D.float_matrix(rhs, "lu_solve", dtype=packed.dtype, complex_ok=True)
    if b.shape[-2] != packed.shape[-1]:
        raise op_error("lu_solve", f"rhs {b.type} does not fit {packed.type}")
    packed, b = D.broadcast_batch(packed, b, "lu_solve")
    if tuple(p.shape) != tuple(packed.shape[:-1]):  # rhs broadcast the batch dims
        p = AO.broadcast_to(p, packed.shape[:-1])
    return _lu_solve(packed, p, b)


def lu_matrix_inverse(lower_upper: TensorLike, perm: TensorLike, validate_args: bool = False,
                      name: str | None = None) -> Tensor:
    """A^-1 from tf.linalg.lu's (lower_upper, perm) (tf.linalg.lu_matrix_inverse)."""
    packed, p = _lu_args(lower_upper, perm, "lu_matrix_inverse")
    return _lu_solve(packed, p, _eye_like(packed))


def lu_reconstruct(lower_upper: TensorLike, perm: TensorLike, validate_args: bool = False,
                   name: str | None = None) -> Tensor:
    """A = P^T L U from tf.linalg.lu's (lower_upper, perm) (tf.linalg.lu_reconstruct)."""
    packed, p = _lu_args(lower_upper, perm, "lu_reconstruct")
    return _permute_rows(p, matmul(_unit_lower(packed), band_part(packed, 0, -1)), inverse=True)


def lstsq(matrix: TensorLike, rhs: TensorLike, l2_regularizer: Any = 0.0, fast: bool = True,
          name: str | None = None) -> Tensor:
    """Least-squares (or minimum-norm) x for matrix @ x ~ rhs (tf.linalg.lstsq): fast=True
    solves the (regularized) normal equations by Cholesky, fast=False uses QR (no
    regularizer)."""
    a = D.float_matrix(matrix, "lstsq", complex_ok=True)
    b = D.float_matrix(rhs, "lstsq", dtype=a.dtype, complex_ok=True)
    if b.shape[-2] != a.shape[-2]:
        raise op_error("lstsq", f"rhs {b.type} does not fit matrix {a.type}")
    m, n = a.shape[-2:]
    lam = to_tensor(l2_regularizer, "lstsq", a.dtype)
    if fast:
        at = matrix_transpose(a, conjugate=True)
        if m >= n:
            gram = MO.add(matmul(at, a), MO.multiply(lam, _eye_like(matmul(at, a))))
            return cholesky_solve(D.cholesky(gram), matmul(at, b))
        gram = MO.add(matmul(a, at), MO.multiply(lam, _eye_like(matmul(a, at))))
        return matmul(at, cholesky_solve(D.cholesky(gram), b))
    from tfx_core.polymorphic_function.tracer import get_static_value

    if get_static_value(lam) is None or np.any(np.asarray(get_static_value(lam)) != 0):
        raise op_error("lstsq", "fast=False takes no l2_regularizer (as TF)")
    if m >= n:  # a = q r: x = r^-1 q^H b
        q, r = D.qr(a)
        return D.triangular_solve(r, matmul(q, b, adjoint_a=True), lower=False)
    q, r = D.qr(matrix_transpose(a, conjugate=True))  # a^H = q r: x = q r^-H b
    return matmul(q, D.triangular_solve(r, b, lower=False, adjoint=True))


def pinv(a: TensorLike, rcond: Any = None, validate_args: bool = False,
         name: str | None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse by SVD; singular values <= rcond * max(s) are dropped
    (default rcond: 10 * max(m, n) * eps, as TF) (tf.linalg.pinv)."""
    x = D.float_matrix(a, "pinv")  # (TF's pinv takes no complex matrices)
    m, n = x.shape[-2:]
    if rcond is None:
        rcond = 10.0 * max(m, n) * float(np.finfo(x.dtype.np_dtype).eps)
    s, u, v = D.svd(x)
    cutoff = MO.multiply(to_tensor(rcond, "pinv", s.dtype), RO.reduce_max(s, -1, keepdims=True))
    keep = MO.greater(s, cutoff)
    safe = MO.where(keep, s, AO.ones_like(s))
    s_inv = MO.where(keep, MO.reciprocal(safe), AO.zeros_like(s))
    return matmul(MO.multiply(v, AO.expand_dims(s_inv, -2)), u, transpose_b=True)


def matrix_rank(a: TensorLike, tol: Any = None, validate_args: bool = False,
                name: str | None = None) -> Tensor:
    """Number of singular values above tol (default: eps * max(m, n) * max(s), as TF)
    (tf.linalg.matrix_rank); int32."""
    x = D.float_matrix(a, "matrix_rank")  # (nor its matrix_rank)
    s = D.svd(x, compute_uv=False)
    if tol is None:
        eps = float(np.finfo(x.dtype.np_dtype).eps) * max(x.shape[-2:])
        tol = MO.multiply(to_tensor(eps, "matrix_rank", s.dtype),
                          RO.reduce_max(s, -1, keepdims=True))
    else:
        tol = AO.expand_dims(to_tensor(tol, "matrix_rank", s.dtype), -1)
    return RO.reduce_sum(MO.cast(MO.greater(s, tol), "int32"), -1)


def _tridiagonal_dense(diagonals: Any, fmt: str, dtype: Any, name: str) -> Tensor:
    if fmt == "matrix":
        return band_part(D.float_matrix(diagonals, name, square=True, dtype=dtype), 1, 1)
    if fmt == "sequence":
        sup, main, sub = (to_tensor(v, name, dtype) for v in diagonals)
    elif fmt == "compact":
        d = to_tensor(diagonals, name, dtype)
        if d.ndim < 2 or d.shape[-2] != 3:
            raise op_error(name, f"compact diagonals must be [..., 3, M], got {d.type}")
        sup, main, sub = d[..., 0, :], d[..., 1, :], d[..., 2, :]
    else:
        raise op_error(name, "diagonals_format must be 'compact', 'sequence' or 'matrix', got "
                       f"{fmt!r}")
    return MO.add(MO.add(diag(sup[..., :-1], k=1), diag(main)), diag(sub[..., 1:], k=-1))


def tridiagonal_solve(diagonals: Any, rhs: TensorLike, diagonals_format: str = "compact",
                      transpose_rhs: bool = False, conjugate_rhs: bool = False,
                      name: str | None = None, partial_pivoting: bool = True,
                      perturb_singular: bool = False) -> Tensor:
    """x with T x = rhs for tridiagonal T given by its diagonals (tf.linalg.tridiagonal_solve;
    solved with partial pivoting, as TF's default)."""
    b = to_tensor(rhs, "tridiagonal_solve")
    t = _tridiagonal_dense(diagonals, diagonals_format, b.dtype, "tridiagonal_solve")
    if b.ndim == t.ndim - 1:  # rhs [..., M]
        return solve(t, AO.expand_dims(b, -1))[..., 0]
    if transpose_rhs:
        return matrix_transpose(solve(t, matrix_transpose(b)))
    return solve(t, b)


def banded_triangular_solve(bands: TensorLike, rhs: TensorLike, lower: bool = True,
                            adjoint: bool = False, name: str | None = None) -> Tensor:
    """x with A x = rhs for a banded triangular A given as bands [..., K, M]
    (tf.linalg.banded_triangular_solve: lower: row 0 the diagonal, row k the k-th
    subdiagonal padded on the left; upper: row K-1 the diagonal, row K-1-k the k-th
    superdiagonal padded on the right)."""
    b = D.float_matrix(bands, "banded_triangular_solve")
    k_rows, m = b.shape[-2:]
    total = None
    for r in range(k_rows):
        k = r if lower else k_rows - 1 - r
        if k >= m:
            continue
        row = b[..., r, :]
        part = diag(row[..., k:], k=-k) if lower else diag(row[..., :m - k], k=k)
        total = part if total is None else MO.add(total, part)
    return D.triangular_solve(total, rhs, lower=lower, adjoint=adjoint)
