"""tf.linalg.logm and complex-solve oracle cases, shared by record_logm.py (TF 2.21) and
tests/ops/test_logm_oracle.py (tfx): a name, a call on a TF-like module `m`, complex inputs, and
whether the gradient of sum(real(out * w)) is recorded (TF's complex convention)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Case:
    name: str
    call: Callable  # (m, *tensors) -> output(s)
    args: tuple  # numpy inputs
    grad: bool = False


def _c(seed: int, shape: tuple, dt=np.complex128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)).astype(dt)


def _eye(n: int, dt=np.complex128) -> np.ndarray:
    return np.eye(n, dtype=dt)


def _hpd(seed: int, n: int, dt=np.complex128) -> np.ndarray:
    """Hermitian positive definite."""
    a = _c(seed, (n, n))
    return (a @ a.conj().T + n * np.eye(n)).astype(dt)


def _hermitian(seed: int, n: int, dt=np.complex128) -> np.ndarray:
    a = _c(seed, (n, n))
    return (a + a.conj().T).astype(dt)


def _phase_free(m, e, v):  # (TF gives complex matrices complex eigenvalues)
    return v * m.math.conj(v) + m.expand_dims(e, -2)


def _svd_phase_free(m, a, full):
    s, u, v = m.linalg.svd(a, full_matrices=full)
    k = min(a.shape[-2:])
    absq = [w[..., :k] * m.math.conj(w[..., :k]) for w in (u, v)]
    return m.concat([absq[0], absq[1], m.expand_dims(m.cast(s, a.dtype), 0)], 0)


def _power_sums(m, e):
    return m.stack([m.reduce_sum(e, -1), m.reduce_sum(e * e, -1), m.reduce_sum(e * e * e, -1)],
                   -1)


def weights(name: str, shape: tuple) -> np.ndarray:
    """Fixed complex weights for a case's gradient."""
    return _c(sum(map(ord, name)), shape)


_TRI_NEG = np.triu(_c(3, (3, 3)), 1) + np.diag([-1.0, 2.0, 0.5])

CASES = [
    # (two shapes: each costs a logm compile)
    Case("logm_c64", lambda m, a: m.linalg.logm(a), (_c(1, (3, 3), np.complex64)
                                                      + 2 * _eye(3, np.complex64),)),
    Case("logm_jordan", lambda m, a: m.linalg.logm(a),
         (np.array([[2, 1, 0], [0, 2, 1], [0, 0, 2]], np.complex64),)),
    # -1 on the diagonal of a triangular matrix: the Schur form is exact, log gives +i*pi
    Case("logm_negative_triangular", lambda m, a: m.linalg.logm(a), (_TRI_NEG,)),
    # -I's zeros are -0.0: sqrt(-1 - 0j) = -i, log gives -i*pi (TF and scipy)
    Case("logm_minus_identity", lambda m, a: m.linalg.logm(a), (-_eye(3),)),
    Case("solve_adjoint", lambda m, a, b: m.linalg.solve(a, b, adjoint=True),
         (_c(4, (2, 3, 3)) + 3 * _eye(3), _c(5, (2, 3, 2))), grad=True),
    Case("solve", lambda m, a, b: m.linalg.solve(a, b),
         (_c(6, (3, 3), np.complex64) + 3 * _eye(3, np.complex64), _c(7, (3, 2), np.complex64)),
         grad=True),
    Case("triangular_solve_adjoint",
         lambda m, a, b: m.linalg.triangular_solve(a, b, lower=False, adjoint=True),
         (_c(8, (3, 3)) + 3 * _eye(3), _c(9, (3, 2))), grad=True),
    Case("inv_adjoint", lambda m, a: m.linalg.inv(a, adjoint=True), (_c(10, (3, 3)) + 3 * _eye(3),),
         grad=True),
    Case("det", lambda m, a: m.linalg.det(a), (_c(11, (2, 3, 3)),), grad=True),
    Case("lu", lambda m, a: m.linalg.lu(a), (_c(12, (4, 4)),)),
    Case("cholesky", lambda m, a: m.linalg.cholesky(a), (_hpd(13, 3),), grad=True),
    Case("qr_tall", lambda m, a: m.linalg.qr(a), (_c(19, (2, 4, 3)),), grad=True),
    Case("qr_wide", lambda m, a: m.linalg.qr(a)[1], (_c(20, (3, 4), np.complex64),), grad=True),
    Case("qr_square_r", lambda m, a: m.linalg.qr(a)[1], (_c(21, (3, 3)),), grad=True),
    Case("svd_values", lambda m, a: m.linalg.svd(a, compute_uv=False), (_c(22, (2, 3, 4)),),
         grad=True),
    # s and |u|^2, |v|^2: free of the singular vectors' phases
    Case("svd_tall", lambda m, a: _svd_phase_free(m, a, False), (_c(23, (4, 3)),), grad=True),
    Case("svd_wide_full", lambda m, a: _svd_phase_free(m, a, True),
         (_c(24, (3, 4), np.complex64),), grad=True),
    Case("slogdet", lambda m, a: m.linalg.slogdet(a), (_c(25, (2, 3, 3)),)),
    Case("logdet", lambda m, a: m.linalg.logdet(a), (_hpd(26, 3),), grad=True),
    Case("lstsq_tall", lambda m, a, b: m.linalg.lstsq(a, b), (_c(27, (4, 3)), _c(28, (4, 2))),
         grad=True),
    Case("lstsq_wide_reg", lambda m, a, b: m.linalg.lstsq(a, b, l2_regularizer=0.5),
         (_c(29, (2, 4), np.complex64), _c(30, (2, 1), np.complex64)), grad=True),
    Case("lstsq_qr", lambda m, a, b: m.linalg.lstsq(a, b, fast=False),
         (_c(31, (4, 3)), _c(32, (4, 2)))),  # (TF has no gradient for fast=False)
    Case("pinv", lambda m, a: m.linalg.pinv(a), (_c(33, (2, 4, 3)),), grad=True),
    Case("matrix_rank", lambda m, a: m.linalg.matrix_rank(a),
         (np.stack([_c(34, (3, 3)), np.outer(_c(35, (3,)), _c(36, (3,)))]),)),
    # power sums of the eigenvalues (TF's Eigen and LAPACK order them differently)
    Case("eigvals", lambda m, a: _power_sums(m, m.linalg.eigvals(a)), (_c(37, (2, 3, 3)),),
         grad=True),
    Case("eigvals_real", lambda m, a: _power_sums(m, m.linalg.eigvals(a)),
         (np.random.default_rng(38).uniform(-1, 1, (3, 3)),), grad=True),
    # sum_j |v_ij|^2 e_j: free of the eigenvectors' phases and order
    Case("eig_phase_free", lambda m, a: (lambda e, v: m.reduce_sum(
        v * m.math.conj(v) * m.expand_dims(e, -2), -1))(*m.linalg.eig(a)),
         (_c(39, (3, 3), np.complex64),), grad=True),
    Case("eigvalsh", lambda m, a: m.linalg.eigvalsh(a), (_hermitian(17, 3),), grad=True),
    # |v|^2 and e: free of the eigenvectors' phases (LAPACK's and Eigen's differ)
    Case("eigh_phase_free", lambda m, a: _phase_free(m, *m.linalg.eigh(a)),
         (_hermitian(18, 3, np.complex64),), grad=True),
    Case("cholesky_c64", lambda m, a: m.linalg.cholesky(a), (_hpd(14, 3, np.complex64),),
         grad=True),
    Case("cholesky_solve", lambda m, a, b: m.linalg.cholesky_solve(m.linalg.cholesky(a), b),
         (_hpd(15, 3), _c(16, (3, 2))), grad=True),
]
