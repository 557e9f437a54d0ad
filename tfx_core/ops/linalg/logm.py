"""tf.linalg.logm: principal matrix logarithm of complex matrices by complex Schur form and
inverse scaling and squaring (square roots of the triangular factor, then a Padé approximant)."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from compiler.ops.lapack import schur as SCHUR
from compiler.ops.lapack import triangular as TRI
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops import array_ops as AO
from tfx_core.ops import math_ops as MO
from tfx_core.ops import reduction_ops as RO
from tfx_core.ops.arguments import op_error
from tfx_core.ops.linalg_ops import matmul

TensorLike = Any

# ||T^(1/2^s) - I||_1 <= _THETA before the Padé step; its degree per precision: the m-point
# Gauss-Legendre rule for log(I + X) = int_0^1 X (I + tX)^-1 dt is the [m/m] Padé approximant,
# whose error at ||X|| = 0.25 is 3e-10 (m=4) and 6e-17 (m=7) (Kenney-Laub: the scalar error
# at -||X|| bounds the matrix one).
_THETA = 0.25
_DEGREE = {"complex64": 4, "complex128": 7}
_MAX_ROOTS = 64  # square roots at most (|log| of an entry up to ~2^64 * THETA)


def _complex_matrix(x: TensorLike, name: str) -> Tensor:
    t = to_tensor(x, name)
    if t.dtype.name not in ("complex64", "complex128"):
        raise op_error(name, f"takes complex64 or complex128 matrices (as TF), got {t.type}; "
                       "cast real ones with tx.cast(x, tx.complex64)")
    if t.ndim < 2 or None in t.shape[-2:] or t.shape[-1] != t.shape[-2]:
        raise op_error(name, f"needs square matrices [..., M, M], got {t.type}")
    return t


def _masks(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(col - row for [n, n], the identity as bool)."""
    offset = np.arange(n)[None, :] - np.arange(n)[:, None]
    return offset.astype(np.int32), offset == 0


def _one_norm(x: Tensor) -> Tensor:
    """Max column sum of |x|, shaped [..., 1, 1] to select whole matrices."""
    norm = RO.reduce_max(RO.reduce_sum(MO.abs(x), -2), -1)
    return AO.expand_dims(AO.expand_dims(norm, -1), -1)


def _principal_sqrt(z: Tensor) -> Tensor:
    """Principal square root honouring the sign of a zero imaginary part, as TF and scipy:
    sqrt(-1 + 0j) = i, sqrt(-1 - 0j) = -i (so -I, whose zeros are -0, has log -i*pi).
    Built from real parts: |z| +- Re z has no cancellation on the side it is used."""
    re, im = MO.real(z), MO.imag(z)
    mag = MO.abs(z)
    half = to_tensor(0.5, "logm", re.dtype)
    big = MO.sqrt(MO.multiply(half, MO.add(mag, MO.abs(re))))  # the larger part's size
    zero = AO.zeros_like(re)
    safe = MO.where(MO.equal(big, zero), AO.ones_like(re), big)
    small = MO.where(MO.equal(big, zero), zero, MO.divide(MO.abs(im), MO.multiply(2.0, safe)))
    # the sign bit of im (-0.0 included: 1 / -0.0 = -inf)
    negative = MO.logical_or(MO.less(im, zero), MO.less(MO.divide(1.0, im), zero))
    right = MO.greater_equal(re, zero)
    real = MO.where(right, big, small)
    imag = MO.where(right, small, big)
    return MO.complex(real, MO.where(negative, MO.negative(imag), imag))


def _triangular_sqrt(t: Tensor, offset: np.ndarray, eye: np.ndarray) -> Tensor:
    """Principal square root r of upper triangular t (Björck-Hammarling): the diagonal first,
    then superdiagonal d from r_ij (r_ii + r_jj) = t_ij - sum_{i<k<j} r_ik r_kj — which is
    (r @ r)_ij while diagonal d is still zero."""
    from tfx_core.ops.control_flow_ops import while_loop

    n = offset.shape[0]
    # the diagonal by a strided slice (a masked sum would turn -0.0 imaginary parts into +0)
    lead = tuple(-1 if d is None else d for d in t.shape[:-2])  # (one unknown batch dim)
    diag = AO.reshape(t, (*lead, n * n))[..., ::n + 1]
    root = _principal_sqrt(diag)
    r = MO.where(eye, AO.expand_dims(root, -2), AO.zeros_like(t))
    denom = MO.add(AO.expand_dims(root, -1), AO.expand_dims(root, -2))  # r_ii + r_jj
    offs = to_tensor(offset, "logm")

    def step(d: Tensor, r: Tensor) -> tuple:
        band = MO.equal(offs, d)
        new = MO.divide(MO.subtract(t, matmul(r, r)), denom)
        return MO.add(d, 1), MO.where(band, new, r)

    _, r = while_loop(lambda d, r: MO.less(d, n), step, (to_tensor(1, "logm", "int32"), r),
                      maximum_iterations=max(n - 1, 0))
    return r


def logm(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """Principal logarithm of complex square matrices [..., M, M] (tf.linalg.logm: complex64
    or complex128 only, as TF; an eigenvalue on the negative real axis gets +-i*pi by the sign
    of its zero imaginary part, as TF and scipy).
    Schur form a = z t z^H, then inverse scaling and squaring on t: s square roots until
    ||t^(1/2^s) - I||_1 <= 1/4, log(I + X) by Gauss-Legendre quadrature, times 2^s. Singular
    matrices have no logarithm: huge values (as scipy's) or NaN. No gradient (TF has none)."""
    a = _complex_matrix(input, "logm")
    if a.shape[-1] == 0:
        return a
    if is_tracing():
        return _logm(a)
    return _compiled()(a)  # eagerly: one program, not ~30 op-by-op compiles


@functools.cache
def _compiled() -> Any:
    from tfx_core.polymorphic_function.function import function  # (function imports ops)

    return function(_logm)


def _logm(a: Tensor) -> Tensor:
    from tfx_core.ops.control_flow_ops import while_loop

    n = a.shape[-1]
    t, z = bind(SCHUR.schur_op, a)
    offset, eye_mask = _masks(n)
    eye = MO.add(AO.zeros_like(t), AO.eye(n, dtype=a.dtype))
    real = MO.abs(a).dtype
    theta = to_tensor(_THETA, "logm", real)

    def far(t: Tensor) -> Tensor:
        return MO.greater(_one_norm(MO.subtract(t, eye)), theta)

    def root(k: Tensor, t: Tensor, scale: Tensor) -> tuple:
        more = far(t)
        t = MO.where(more, _triangular_sqrt(t, offset, eye_mask), t)
        return MO.add(k, 1), t, MO.where(more, MO.multiply(scale, 2.0), scale)

    ones = AO.ones_like(_one_norm(t))
    _, t, scale = while_loop(
        lambda k, t, s: MO.logical_and(MO.less(k, _MAX_ROOTS), RO.reduce_any(far(t))), root,
        (to_tensor(0, "logm", "int32"), t, ones), maximum_iterations=_MAX_ROOTS)
    x = MO.subtract(t, eye)
    nodes, weights = np.polynomial.legendre.leggauss(_DEGREE[a.dtype.name])
    total = None
    for node, weight in zip((nodes + 1) / 2, weights / 2):
        shifted = MO.add(eye, MO.multiply(to_tensor(node, "logm", a.dtype), x))
        # (I + tX)^-1 X = X (I + tX)^-1: both are functions of X
        term = bind(TRI.triangular_solve_op, shifted, x, lower=False, adjoint=False)
        term = MO.multiply(to_tensor(weight, "logm", a.dtype), term)
        total = term if total is None else MO.add(total, term)
    log_t = MO.multiply(MO.cast(scale, a.dtype), total)
    return matmul(matmul(z, log_t), z, adjoint_b=True)
