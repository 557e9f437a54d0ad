"""tf.linalg oracle cases, shared by record_linalg.py (TF 2.21) and test_linalg_oracle.py (tfx):
each a name, a call on a TF-like module `m`, its float inputs and whether the gradient of a
weighted sum of its first output is recorded. `exact`: TF fixes the values (compared as they are);
otherwise only sign-free quantities are compared (TF's Eigen and tfx's LAPACK may pick other
signs for singular/eigen vectors)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Case:
    name: str
    call: Callable  # (m, *tensors) -> output(s)
    args: tuple  # numpy inputs
    grad: bool = False
    exact: bool = True
    kw: dict = field(default_factory=dict)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _m(seed, shape, dt=np.float64):
    return _rng(seed).uniform(-1, 1, shape).astype(dt)


def _spd(seed, n, dt=np.float64):
    a = _m(seed, (n, n))
    return (a @ a.T + n * np.eye(n)).astype(dt)


def _well(seed, n, dt=np.float64):
    return (_m(seed, (n, n)) + 3 * np.eye(n)).astype(dt)


def _bands(seed, lower):
    b = _m(seed, (3, 4)) * 0.5
    b[0 if lower else 2] += 3.0
    return b


CASES = [
    Case("qr", lambda m, a: m.linalg.qr(a), (_m(1, (4, 3)),), grad=True),
    Case("qr_wide", lambda m, a: m.linalg.qr(a), (_m(2, (3, 5)),), grad=True),
    Case("qr_full", lambda m, a: m.linalg.qr(a, full_matrices=True), (_m(3, (4, 3)),)),
    Case("svd", lambda m, a: m.linalg.svd(a), (_m(4, (4, 3)),), exact=False),
    Case("svd_values", lambda m, a: m.linalg.svd(a, compute_uv=False), (_m(5, (2, 3, 4)),),
         grad=True),
    Case("svd_grad_u", lambda m, a: m.linalg.svd(a)[1] * m.linalg.svd(a)[1],
         (_m(6, (4, 3)),), grad=True),  # u squared: sign-free
    Case("eigh", lambda m, a: m.linalg.eigh(a), (_m(7, (3, 3)),), exact=False),
    Case("eigh_values", lambda m, a: m.linalg.eigvalsh(a), (_m(8, (2, 3, 3)),), grad=True),
    Case("eigh_grad_v", lambda m, a: m.linalg.eigh(a)[1] * m.linalg.eigh(a)[1],
         (_m(9, (3, 3)),), grad=True),
    Case("cholesky", lambda m, a: m.linalg.cholesky(a), (_spd(10, 3),), grad=True),
    Case("triangular_solve", lambda m, a, b: m.linalg.triangular_solve(a, b, lower=False,
                                                                       adjoint=True),
         (np.triu(_well(11, 3)), _m(12, (3, 2))), grad=True),
    Case("lu", lambda m, a: m.linalg.lu(a), (_m(13, (4, 4)),)),
    Case("solve", lambda m, a, b: m.linalg.solve(a, b), (_m(14, (3, 3)), _m(15, (3, 2))),
         grad=True),
    Case("inv", lambda m, a: m.linalg.inv(a), (_well(16, 3),), grad=True),
    Case("det", lambda m, a: m.linalg.det(a), (_m(17, (2, 3, 3)),), grad=True),
    Case("slogdet", lambda m, a: m.linalg.slogdet(a), (_m(18, (2, 3, 3)),)),
    Case("logdet", lambda m, a: m.linalg.logdet(a), (_spd(19, 3),), grad=True),
    Case("cholesky_solve", lambda m, a, b: m.linalg.cholesky_solve(m.linalg.cholesky(a), b),
         (_spd(20, 3), _m(21, (3, 2)))),
    Case("lu_solve", lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu(a), b),
         (_m(22, (3, 3)), _m(23, (3, 2)))),
    Case("lu_matrix_inverse", lambda m, a: m.linalg.lu_matrix_inverse(*m.linalg.lu(a)),
         (_m(24, (3, 3)),)),
    Case("lu_reconstruct", lambda m, a: m.linalg.lu_reconstruct(*m.linalg.lu(a)),
         (_m(25, (3, 3)),)),
    Case("lstsq", lambda m, a, b: m.linalg.lstsq(a, b), (_m(26, (5, 3)), _m(27, (5, 2))),
         grad=True),
    Case("lstsq_l2", lambda m, a, b: m.linalg.lstsq(a, b, l2_regularizer=0.3),
         (_m(28, (2, 4)), _m(29, (2, 1)))),
    Case("lstsq_slow", lambda m, a, b: m.linalg.lstsq(a, b, fast=False),
         (_m(30, (5, 3)), _m(31, (5, 2)))),
    Case("pinv", lambda m, a: m.linalg.pinv(a), (_m(32, (4, 3)),), grad=True),
    Case("matrix_rank", lambda m, a: m.linalg.matrix_rank(a),
         (np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]),)),
    Case("expm_small", lambda m, a: m.linalg.expm(a), (_m(33, (3, 3)) * 0.2,), grad=True),
    Case("expm_large", lambda m, a: m.linalg.expm(a), (_m(34, (3, 3)) * 6,), grad=True),
    Case("expm_f32", lambda m, a: m.linalg.expm(a), (_m(35, (2, 3, 3), np.float32) * 4,)),
    Case("sqrtm", lambda m, a: m.linalg.sqrtm(a), (_spd(36, 3),), grad=True),
    Case("matrix_square_root", lambda m, a: m.linalg.sqrtm(a), (_well(37, 3),)),
    Case("sqrtm_negative_eigenvalue", lambda m, a: m.linalg.sqrtm(a),  # no real root: NaN
         (np.stack([_m(66, (3, 3)) * 4, _well(67, 3)]),)),
    Case("eigvals", lambda m, a: m.sort(m.math.real(m.linalg.eigvals(a))), (_m(38, (4, 4)),)),
    Case("eigh_tridiagonal", lambda m, a, b: m.linalg.eigh_tridiagonal(a, b),
         (_m(39, (4,)), _m(40, (3,)))),
    Case("tridiagonal_solve", lambda m, d, b: m.linalg.tridiagonal_solve(d, b),
         (_m(41, (3, 4)) + np.array([[0.0], [3.0], [0.0]]), _m(42, (4, 2)))),
    Case("tridiagonal_matmul", lambda m, d, b: m.linalg.tridiagonal_matmul(d, b),
         (_m(43, (3, 4)), _m(44, (4, 2)))),
    Case("banded_lower", lambda m, a, b: m.linalg.banded_triangular_solve(a, b),
         (_bands(45, True), _m(46, (4, 2)))),
    Case("banded_upper_adjoint",
         lambda m, a, b: m.linalg.banded_triangular_solve(a, b, lower=False, adjoint=True),
         (_bands(47, False), _m(48, (4, 2)))),
    Case("diag_k", lambda m, d: m.linalg.diag(d, k=1), (_m(49, (2, 3)),)),
    Case("diag_rect", lambda m, d: m.linalg.diag(d, k=-1, num_rows=3, num_cols=4,
                                                 padding_value=9), (_m(50, (2,)),)),
    Case("diag_band", lambda m, d: m.linalg.diag(d, k=(-1, 1), padding_value=5),
         (_m(62, (2, 3, 3)),)),
    Case("diag_band_left_right", lambda m, d: m.linalg.diag(d, k=(-2, 0), num_rows=4,
                                                            align="LEFT_RIGHT"),
         (_m(63, (3, 2)),)),
    Case("set_diag_band", lambda m, x, d: m.linalg.set_diag(x, d, k=(-1, 2), align="LEFT_LEFT"),
         (_m(64, (2, 4, 5)), _m(65, (2, 4, 4)))),
    Case("set_diag", lambda m, x, d: m.linalg.set_diag(x, d, k=1),
         (_m(51, (2, 3, 4)), _m(52, (2, 3)))),
    Case("tensor_diag", lambda m, d: m.linalg.tensor_diag(d), (_m(53, (2, 2)),)),
    Case("tensor_diag_part", lambda m, x: m.linalg.tensor_diag_part(x), (_m(54, (2, 3, 2, 3)),)),
    Case("cross", lambda m, a, b: m.linalg.cross(a, b), (_m(55, (2, 3)), _m(56, (2, 3)))),
    Case("normalize", lambda m, x: m.linalg.normalize(x, ord=1, axis=-1), (_m(57, (2, 3)),)),
    Case("global_norm", lambda m, a, b: m.linalg.global_norm([a, b]), (_m(58, (3,)),
                                                                       _m(59, (2, 2)))),
    Case("l2_normalize", lambda m, x: m.linalg.l2_normalize(x, axis=0), (_m(60, (2, 3)),)),
    Case("adjoint", lambda m, x: m.linalg.adjoint(x), (_m(61, (2, 3)),)),
]


def weights(name: str, shape: tuple) -> np.ndarray:
    """The weights of the recorded gradients' target sum(out0 * w)."""
    return np.random.default_rng(sum(map(ord, name))).uniform(-1, 1, shape)
