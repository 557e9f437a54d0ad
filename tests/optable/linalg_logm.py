"""Op table: tf.linalg.logm (complex only, as TF) against scipy.linalg.logm, and the complex
decompositions under it and beside it (triangular_solve, lu, solve, inv, det, eig, eigvals,
cholesky, cholesky_solve, eigh, qr, svd) against numpy; complex gradients checked through real and
imaginary parts (and against TF 2.21's in tests/ops/test_logm_oracle.py)."""
from __future__ import annotations

import numpy as np
import scipy.linalg as sl

import tfx_core as tx
from tests.optable import OpInfo, Sample

C = (tx.complex64, tx.complex128)
C64 = (tx.complex64,)  # composites of ops the table checks in both precisions
TOL = {"complex64": (2e-4, 2e-5), "complex128": (1e-9, 1e-11),
       "float32": (2e-4, 2e-5), "float64": (1e-9, 1e-11)}
LA = tx.linalg
NO_GRAD = "complex-only entry: the *_parts entries check complex gradients through real inputs"


def _c(rng, dt, shape, scale=1.0):
    z = rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)
    return (scale * z).astype(dt.np_dtype)


def _well(rng, dt, shape):
    """Well-conditioned (diagonally dominated) complex matrices."""
    return (_c(rng, dt, shape) + 3 * np.eye(shape[-1])).astype(dt.np_dtype)


def _batched(fn):
    def run(a, *rest):
        out = [fn(a[i], *[r[i] for r in rest]) for i in np.ndindex(a.shape[:-2])]
        return np.stack(out).reshape(*a.shape[:-2], *out[0].shape).astype(a.dtype)
    return run


def _logm_samples(rng, dt):
    """One batch (samples cost a compile each): random, eigenvalues on the negative real axis
    (-1 exactly: +i*pi as scipy); for complex64 also a Jordan block (no eigenvector basis), a
    rotation (eigenvalues +-i) and a stiff triangular matrix."""
    m = [_c(rng, dt, (3, 3)) + 2 * np.eye(3), np.triu(_c(rng, dt, (3, 3), 0.5), 1) +
         np.diag([-1.0, 2.0, 0.5])]
    if dt is tx.complex64:
        m += [np.array([[2, 1, 0], [0, 2, 1], [0, 0, 2]]),
              np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]]),
              np.array([[50, 3, 1], [0, 0.02, 1], [0, 0, 1]])]
    return [Sample((np.stack(m).astype(dt.np_dtype),))]


def _hpd(rng, dt, shape):
    """Hermitian positive definite matrices."""
    a = _c(rng, dt, shape).astype(np.complex128)
    n = shape[-1]
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dt.np_dtype)


def _hermitian(rng, dt, shape):
    a = _c(rng, dt, shape)
    return (a + np.conj(np.swapaxes(a, -1, -2))).astype(dt.np_dtype)


def _eigh_phase_free(a):
    """(e, |v|^2): free of the eigenvectors' phases; e complex for complex input, as TF."""
    e, v = LA.eigh(a)
    return e, tx.math.real(v * tx.math.conj(v))


def _eigh_phase_free_ref(a):
    e, v = np.linalg.eigh(a.astype(np.complex128), UPLO="L")
    rdt = np.float32 if a.dtype == np.complex64 else np.float64
    return e.astype(a.dtype), (np.abs(v) ** 2).astype(rdt)


def _stack2(pairs, a):
    """[(q, r) per matrix] -> (q, r) with a's batch dims."""
    batch = a.shape[:-2]
    return tuple(np.stack([p[k] for p in pairs]).reshape(*batch, *pairs[0][k].shape)
                 .astype(a.dtype) for k in (0, 1))


def _svd_phase_free(a):
    """(s, |u|^2, |v|^2, u diag(s) v^H): free of the singular vectors' phases."""
    s, u, v = LA.svd(a)
    back = tx.matmul(u * tx.expand_dims(tx.cast(s, a.dtype), -2), v, adjoint_b=True)
    return s, tx.math.real(u * tx.math.conj(u)), tx.math.real(v * tx.math.conj(v)), back


def _svd_phase_free_ref(a):
    u, s, vt = np.linalg.svd(a.astype(np.complex128), full_matrices=False)
    rdt = np.float32 if a.dtype == np.complex64 else np.float64
    return (s.astype(rdt), (np.abs(u) ** 2).astype(rdt),
            (np.abs(np.conj(np.swapaxes(vt, -1, -2))) ** 2).astype(rdt), a.copy())


def _solve_ref(a, b, adjoint=False):
    return np.linalg.solve(np.conj(np.swapaxes(a, -1, -2)) if adjoint else a, b)


def _tri_ref(a, b, lower=True, adjoint=False):
    w = np.tril(a) if lower else np.triu(a)
    return _solve_ref(w, b, adjoint)


def _lu_ref(a):
    def one(x):
        lu, piv = sl.lu_factor(x)
        perm = np.arange(x.shape[-1])
        for i, p in enumerate(piv):
            perm[[i, p]] = perm[[p, i]]
        return lu, perm.astype(np.int32)
    outs = [one(a[i]) for i in np.ndindex(a.shape[:-2])]
    return (np.stack([o[0] for o in outs]).reshape(a.shape).astype(a.dtype),
            np.stack([o[1] for o in outs]).reshape(a.shape[:-1]))


def _eigvals_fn(a):
    e = LA.eigvals(a)
    return tx.sort(tx.math.real(e), axis=-1), tx.sort(tx.math.imag(e), axis=-1)


def _eigvals_ref(a):
    e = np.stack([np.linalg.eigvals(a[i]) for i in np.ndindex(a.shape[:-2])]).reshape(
        a.shape[:-1])
    rdt = np.float32 if a.dtype == np.complex64 else np.float64
    return np.sort(e.real, -1).astype(rdt), np.sort(e.imag, -1).astype(rdt)


def _eig_residual_fn(a):
    """|A v - v diag(e)|^2: zero when (e, v) is an eigenpair, whatever the order or phase."""
    e, v = LA.eig(a)
    r = tx.matmul(a, v) - v * tx.expand_dims(e, -2)
    return tx.math.real(r * tx.math.conj(r))


def _power_sums_fn(a):
    """Re and Im of sum(e), sum(e^2), sum(e^3): smooth and free of the eigenvalues' order."""
    e = LA.eigvals(a)
    p = tx.stack([tx.reduce_sum(e ** k, -1) for k in (1, 2, 3)], -1)
    return tx.math.real(p), tx.math.imag(p)


def _power_sums_ref(a):
    e = np.linalg.eigvals(a.astype(np.float64))
    p = np.stack([np.sum(e ** k, -1) for k in (1, 2, 3)], -1)
    return p.real.astype(a.dtype), p.imag.astype(a.dtype)


# complex ops as functions of real parts, so the gradient table checks TF's complex
# convention (dL/dRe + i dL/dIm) by finite differences on real inputs
def _parts_fn(op):
    def fn(ar, ai, br, bi):
        x = op(tx.complex(ar, ai), tx.complex(br, bi))
        return tx.math.real(x), tx.math.imag(x)
    return fn


def _parts_ref(op):
    def ref(ar, ai, br, bi):
        x = op(ar + 1j * ai, br + 1j * bi)
        return x.real.astype(ar.dtype), x.imag.astype(ar.dtype)
    return ref


def _parts_samples(rng, dt):
    ar = (rng.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3)).astype(dt.np_dtype)
    return [Sample((ar, *(rng.uniform(-1, 1, s).astype(dt.np_dtype)
                          for s in ((2, 3, 3), (2, 3, 2), (2, 3, 2)))))]


S = Sample
ENTRIES = [
    OpInfo("linalg.logm", LA.logm, _batched(lambda x: sl.logm(x.astype(np.complex128))),
           _logm_samples, C, ops=("schur", "triangular_solve", "while"),
           tol={"complex64": (2e-4, 2e-5), "complex128": (1e-9, 1e-11)},
           grad="no gradient (TF's logm has none)"),
    OpInfo("linalg.triangular_solve_complex", LA.triangular_solve, _tri_ref,
           lambda rng, dt: [S((_well(rng, dt, (2, 3, 3)), _c(rng, dt, (2, 3, 2)))),
                            S((_well(rng, dt, (3, 3)), _c(rng, dt, (3, 2))),
                              {"lower": False, "adjoint": True})],
           C64, ops=("triangular_solve",), tol=TOL, grad=NO_GRAD),
    OpInfo("linalg.lu_complex", LA.lu, _lu_ref,
           lambda rng, dt: [S((_c(rng, dt, (2, 4, 4)),))], C, ops=("lu",), tol=TOL,
           grad=NO_GRAD),
    OpInfo("linalg.solve_complex", LA.solve, _solve_ref,
           lambda rng, dt: [S((_well(rng, dt, (2, 3, 3)), _c(rng, dt, (2, 3, 2)))),
                            S((_well(rng, dt, (3, 3)), _c(rng, dt, (3, 1))),
                              {"adjoint": True})],
           C64, ops=("lu", "triangular_solve"), tol=TOL, grad=NO_GRAD),
    OpInfo("linalg.inv_complex", LA.inv,
           lambda a, adjoint=False: np.linalg.inv(np.conj(np.swapaxes(a, -1, -2)) if adjoint
                                                  else a),
           lambda rng, dt: [S((_well(rng, dt, (2, 3, 3)),), {"adjoint": True})],
           C64, ops=("lu",), tol=TOL, grad=NO_GRAD),
    OpInfo("linalg.det_complex", LA.det, lambda a: np.linalg.det(a).astype(a.dtype),
           lambda rng, dt: [S((_c(rng, dt, (2, 3, 3)),))], C64, ops=("lu",), tol=TOL,
           grad=NO_GRAD),
    OpInfo("linalg.eigvals_complex", _eigvals_fn, _eigvals_ref,
           lambda rng, dt: [S((_c(rng, dt, (2, 4, 4)),))], C, ops=("eig",), tol=TOL,
           grad=NO_GRAD),
    OpInfo("linalg.eig_complex", _eig_residual_fn, lambda a: np.zeros(a.shape, np.float32),
           lambda rng, dt: [S((_c(rng, dt, (3, 3)),))], C64, ops=("eig",),
           tol={"complex64": (0, 1e-10)}, grad=NO_GRAD),
    OpInfo("linalg.cholesky_complex", LA.cholesky,
           lambda a: np.linalg.cholesky(a.astype(np.complex128)).astype(a.dtype),
           lambda rng, dt: [S((_hpd(rng, dt, (2, 3, 3)),))], C64, ops=("cholesky",), tol=TOL,
           grad=NO_GRAD + " (and tests/ops/test_logm_oracle.py against TF's)"),
    OpInfo("linalg.cholesky_solve_complex", lambda a, b: LA.cholesky_solve(LA.cholesky(a), b),
           lambda a, b: np.linalg.solve(a, b),
           lambda rng, dt: [S((_hpd(rng, dt, (2, 3, 3)), _c(rng, dt, (2, 3, 2))))], C64,
           ops=("cholesky", "triangular_solve"), tol=TOL, grad=NO_GRAD),
    OpInfo("linalg.eigh_complex", _eigh_phase_free, _eigh_phase_free_ref,
           lambda rng, dt: [S((_hermitian(rng, dt, (2, 3, 3)),))], C64, ops=("eigh",), tol=TOL,
           grad=NO_GRAD + " (and tests/ops/test_logm_oracle.py against TF's)"),
    OpInfo("linalg.qr_complex", lambda a, full_matrices=False: tuple(
               LA.qr(a, full_matrices=full_matrices)),
           lambda a, full_matrices=False: _stack2(
               [np.linalg.qr(a[i], mode="complete" if full_matrices else "reduced")
                for i in np.ndindex(a.shape[:-2])], a),
           lambda rng, dt: [S((_c(rng, dt, (2, 4, 3)),)), S((_c(rng, dt, (1, 3, 4)),),
                                                            {"full_matrices": True})],
           C64, ops=("qr",), tol=TOL,
           grad=NO_GRAD + " (and tests/ops/test_logm_oracle.py against TF's)"),
    OpInfo("linalg.svd_complex", _svd_phase_free, _svd_phase_free_ref,
           lambda rng, dt: [S((_c(rng, dt, (2, 4, 3)),)), S((_c(rng, dt, (3, 4)),))], C64,
           ops=("svd",), tol=TOL,
           grad=NO_GRAD + " (and tests/ops/test_logm_oracle.py against TF's)"),
    # gradients of complex solves, through real and imaginary parts
    # eig's gradient on real input, by finite differences of order-free power sums
    OpInfo("linalg.eigvals_power_sums", _power_sums_fn, _power_sums_ref,
           lambda rng, dt: [S((rng.uniform(-1, 1, (2, 3, 3)).astype(dt.np_dtype),))],
           (tx.float32,), ops=("eig",), tol=TOL),
    OpInfo("linalg.triangular_solve_complex_parts",
           _parts_fn(lambda a, b: LA.triangular_solve(a, b, lower=False, adjoint=True)),
           _parts_ref(lambda a, b: _tri_ref(a, b, lower=False, adjoint=True)),
           _parts_samples, (tx.float32,), ops=("triangular_solve",), tol=TOL),
]
