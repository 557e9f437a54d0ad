"""Op table: tf.linalg beyond matmul — structure helpers, decompositions (sign-fixed where LAPACK
picks signs), solvers and matrix functions, against numpy/scipy."""
from __future__ import annotations

import numpy as np
import scipy.linalg as sl

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg

F = (tx.float32, tx.float64)
F32 = (tx.float32,)  # composites of ops the table already checks in both precisions
TOL = {"float32": (2e-4, 2e-5), "float64": (1e-9, 1e-11)}
LA = tx.linalg


def _f64(fn):
    """A numpy reference computed in float64 and cast back to the input's dtype."""
    def ref(*args, **kwargs):
        dt = next(a.dtype for a in args if isinstance(a, np.ndarray))
        up = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
              for a in args]
        out = fn(*up, **kwargs)
        if isinstance(out, tuple):
            return tuple(np.asarray(o).astype(dt if np.asarray(o).dtype.kind == "f" else
                                              np.asarray(o).dtype) for o in out)
        return np.asarray(out).astype(dt)
    return ref


def _batched(fn):
    """Apply a 2-D numpy/scipy function over leading batch dims."""
    def run(a, *rest):
        out = [fn(a[i], *[r[i] for r in rest]) for i in np.ndindex(a.shape[:-2])]
        if isinstance(out[0], tuple):
            return tuple(np.stack(o).reshape(*a.shape[:-2], *o[0].shape) for o in zip(*out))
        return np.stack(out).reshape(*a.shape[:-2], *out[0].shape)
    return run


def _mat(rng, dt, shape):
    return make_arg(rng, shape, dt, -1, 1)


def _tri_t(a, adjoint):
    return np.swapaxes(a, -1, -2) if adjoint else a


def _sym(a):
    """The symmetric part: TF's cholesky gradient is the derivative along symmetric changes."""
    return (a + np.swapaxes(a, -1, -2)) / 2


def _spd(rng, dt, shape):
    a = rng.uniform(-1, 1, shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dt.np_dtype)


def _well(rng, dt, shape):
    """Well-conditioned square matrices (diagonally dominated)."""
    return (rng.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])).astype(dt.np_dtype)


def _tri(rng, dt, shape, lower):
    a = _well(rng, dt, shape)
    return np.tril(a) if lower else np.triu(a)


# ---------------------------------------------------------------- sign fixing
def _fix_cols_tx(v):
    """Columns times the sign of their largest-|entry| element (sign-free eigen/singular
    vectors)."""
    idx = tx.argmax(tx.abs(v), axis=-2)
    pick = tx.gather(tx.linalg.matrix_transpose(v), idx, batch_dims=v.ndim - 1)
    return v * tx.expand_dims(tx.sign(pick), -2)


def _fix_cols_np(v):
    idx = np.argmax(np.abs(v), axis=-2)
    pick = np.take_along_axis(v, idx[..., None, :], axis=-2)
    return v * np.sign(pick)


def _qr_fn(a, full_matrices=False):
    q, r = LA.qr(a, full_matrices=full_matrices)
    return q, r


def _qr_ref(a, full_matrices=False):
    return _batched(lambda x: np.linalg.qr(x, mode="complete" if full_matrices else "reduced"))(a)


def _svd_fn(a, full_matrices=False, compute_uv=True):
    if not compute_uv:
        return LA.svd(a, compute_uv=False)
    s, u, v = LA.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]  # the vectors past min(m, n) are any orthonormal completion: left out
    return s, _fix_cols_tx(u[..., :k]), _fix_cols_tx(v[..., :k])


def _svd_ref(a, full_matrices=False, compute_uv=True):
    def one(x):
        u, s, vt = np.linalg.svd(x, full_matrices=False)
        return s, _fix_cols_np(u), _fix_cols_np(vt.T)
    out = _batched(one)(a)
    return out if compute_uv else out[0]


def _eigh_fn(a):
    e, v = LA.eigh(a)
    return e, _fix_cols_tx(v)


def _eigh_ref(a):
    e, v = _batched(lambda x: np.linalg.eigh(x, UPLO="L"))(a)
    return e, _fix_cols_np(v)


def _lu_ref(a):
    def one(x):
        lu, piv = sl.lu_factor(x)
        perm = np.arange(x.shape[-1])
        for i, p in enumerate(piv):
            perm[[i, p]] = perm[[p, i]]
        return lu, perm.astype(np.int32)
    return _batched(one)(a)


def _lu_solve_fn(a, b):
    lu, p = LA.lu(a)
    return LA.lu_solve(lu, p, b)


def _lu_inverse_fn(a):
    lu, p = LA.lu(a)
    return LA.lu_matrix_inverse(lu, p)


def _lu_reconstruct_fn(a):
    lu, p = LA.lu(a)
    return LA.lu_reconstruct(lu, p)


def _eigvals_fn(a):
    e = LA.eigvals(a)
    return tx.sort(tx.math.real(e), axis=-1), tx.sort(tx.math.imag(e), axis=-1)


def _eigvals_ref(a):
    e = _batched(lambda x: np.linalg.eigvals(x)[None])(a)[..., 0, :]
    return np.sort(e.real, -1), np.sort(e.imag, -1)


def _eig_residual_fn(a):
    """|A v - v diag(e)|: zero when (e, v) is an eigenpair, whatever the order or phase."""
    e, v = LA.eig(a)
    ac = tx.complex(a, tx.zeros_like(a))
    r = tx.matmul(ac, v) - v * tx.expand_dims(e, -2)
    return tx.math.real(r * tx.math.conj(r))


def _cross_ref(a, b):
    return np.cross(a, b)


def _diag_ref(d, k=0, num_rows=-1, num_cols=-1, padding_value=0):
    n = d.shape[-1]
    rows = num_rows if num_rows > 0 else n + max(-k, 0)
    cols = num_cols if num_cols > 0 else n + max(k, 0)
    if num_rows < 0 and num_cols < 0:
        rows = cols = max(rows, cols)
    out = np.full((*d.shape[:-1], rows, cols), padding_value, d.dtype)
    for i in range(n):
        r, c = (i, i + k) if k >= 0 else (i - k, i)
        if r < rows and c < cols:
            out[..., r, c] = d[..., i]
    return out


def _set_diag_ref(x, d, k=0):
    out = x.copy()
    for i in range(d.shape[-1]):
        r, c = (i, i + k) if k >= 0 else (i - k, i)
        out[..., r, c] = d[..., i]
    return out


def _tensor_diag_ref(d):
    n = d.size
    return np.diag(d.reshape(n)).reshape(*d.shape, *d.shape)


def _tridiag_dense(d):
    return (np.apply_along_axis(np.diag, -1, d[..., 1, :])
            + np.apply_along_axis(lambda v: np.diag(v[:-1], 1), -1, d[..., 0, :])
            + np.apply_along_axis(lambda v: np.diag(v[1:], -1), -1, d[..., 2, :]))


def _banded_dense(bands, lower):
    k_rows, m = bands.shape[-2:]
    out = np.zeros((*bands.shape[:-2], m, m), bands.dtype)
    for r in range(k_rows):
        k = r if lower else k_rows - 1 - r
        for i in range(m - k):
            if lower:
                out[..., i + k, i] = bands[..., r, i + k]
            else:
                out[..., i, i + k] = bands[..., r, i]
    return out


def _banded_ref(bands, rhs, lower=True, adjoint=False):
    a = _banded_dense(bands, lower)
    a = np.swapaxes(a, -1, -2) if adjoint else a
    return np.linalg.solve(a, rhs)


def _bands(rng, dt, lower):
    b = rng.uniform(-0.5, 0.5, (2, 3, 4))
    b[:, 0 if lower else 2, :] += 3.0  # the diagonal row
    return b.astype(dt.np_dtype)


def _lstsq_ref(a, b, l2_regularizer=0.0, fast=True):
    at = np.swapaxes(a, -1, -2)
    if a.shape[-2] >= a.shape[-1]:
        return np.linalg.solve(at @ a + l2_regularizer * np.eye(a.shape[-1]), at @ b)
    return at @ np.linalg.solve(a @ at + l2_regularizer * np.eye(a.shape[-2]), b)


def _sqrtm_ref(a):
    return _batched(lambda x: np.real(sl.sqrtm(x)))(a)


def _eigh_tri_ref(alpha, beta, eigvals_only=True):
    t = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    return np.linalg.eigvalsh(t)


S = Sample
ENTRIES = [
    # structure
    OpInfo("linalg.adjoint", LA.adjoint, lambda a: np.swapaxes(a, -1, -2),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 4)),))], F32, ops=("transpose",)),
    OpInfo("linalg.matrix_transpose", LA.matrix_transpose, lambda a: np.swapaxes(a, -1, -2),
           lambda rng, dt: [S((_mat(rng, dt, (3, 2)),))], F32, ops=("transpose",)),
    OpInfo("linalg.diag", LA.diag, _diag_ref,
           lambda rng, dt: [S((_mat(rng, dt, (2, 3)),)), S((_mat(rng, dt, (3,)),), {"k": 1}),
                            S((_mat(rng, dt, (2,)),), {"k": -1, "num_rows": 3, "num_cols": 4,
                                                       "padding_value": 7})],
           F, ops=("select", "concatenate")),
    OpInfo("linalg.set_diag", LA.set_diag, _set_diag_ref,
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 4)), _mat(rng, dt, (2, 3)))),
                            S((_mat(rng, dt, (3, 4)), _mat(rng, dt, (2,))), {"k": -1})],
           F32, ops=("select",)),
    OpInfo("linalg.tensor_diag", LA.tensor_diag, _tensor_diag_ref,
           lambda rng, dt: [S((_mat(rng, dt, (2, 2)),))], F32, ops=("select", "reshape")),
    OpInfo("linalg.tensor_diag_part", LA.tensor_diag_part,
           lambda x: np.diagonal(x.reshape(6, 6)).reshape(2, 3),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 2, 3)),))], F32, ops=("reduce_sum",)),
    OpInfo("linalg.cross", LA.cross, _cross_ref,
           lambda rng, dt: [S((_mat(rng, dt, (2, 3)), _mat(rng, dt, (2, 3))))], F32,
           ops=("multiply",)),
    OpInfo("linalg.normalize", lambda x, axis=None: LA.normalize(x, axis=axis),
           lambda x, axis=None: (x / np.linalg.norm(x, axis=axis, keepdims=True),
                                 np.linalg.norm(x, axis=axis, keepdims=True).astype(x.dtype)),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3)),), {"axis": 1})], F32, ops=("sqrt",)),
    OpInfo("linalg.global_norm", lambda a, b: LA.global_norm([a, None, b]),
           lambda a, b: np.sqrt(np.sum(a * a) + np.sum(b * b)).astype(a.dtype),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3)), _mat(rng, dt, (4,))))], F32,
           ops=("reduce_sum",)),
    OpInfo("linalg.tridiagonal_matmul", LA.tridiagonal_matmul,
           lambda d, b: _tridiag_dense(d) @ b,
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 4)), _mat(rng, dt, (2, 4, 2))))], F32,
           ops=("concatenate",)),
    # decompositions
    OpInfo("linalg.cholesky", LA.cholesky,
           _f64(lambda a: _batched(np.linalg.cholesky)(_sym(a))),
           lambda rng, dt: [S((_spd(rng, dt, (2, 3, 3)),))], F, ops=("cholesky",), tol=TOL),
    OpInfo("linalg.triangular_solve", LA.triangular_solve,
           lambda a, b, lower=True, adjoint=False: np.linalg.solve(
               _tri_t(np.tril(a) if lower else np.triu(a), adjoint), b),
           lambda rng, dt: [S((_tri(rng, dt, (2, 3, 3), True), _mat(rng, dt, (2, 3, 2)))),
                            S((_tri(rng, dt, (3, 3), False), _mat(rng, dt, (3, 2))),
                              {"lower": False, "adjoint": True})],
           F, ops=("triangular_solve",), tol=TOL),
    OpInfo("linalg.qr", _qr_fn, _f64(_qr_ref),
           lambda rng, dt: [S((_mat(rng, dt, (2, 4, 3)),)), S((_mat(rng, dt, (3, 5)),)),
                            S((_mat(rng, dt, (2, 3)),), {"full_matrices": True})],
           F, ops=("qr",), tol=TOL),
    OpInfo("linalg.svd", _svd_fn, _f64(_svd_ref),
           lambda rng, dt: [S((_mat(rng, dt, (2, 4, 3)),)), S((_mat(rng, dt, (3, 4)),)),
                            S((_mat(rng, dt, (3, 4)),), {"compute_uv": False}),
                            S((_mat(rng, dt, (4, 3)),), {"full_matrices": True})],
           F, ops=("svd",), tol=TOL),
    OpInfo("linalg.eigh", _eigh_fn, _f64(_eigh_ref),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 3)),))], F, ops=("eigh",), tol=TOL),
    OpInfo("linalg.eigvalsh", LA.eigvalsh,
           _f64(lambda a: _batched(lambda x: np.linalg.eigvalsh(x, UPLO="L")[None])(a)[..., 0, :]),
           lambda rng, dt: [S((_mat(rng, dt, (4, 4)),))], F32, ops=("eigh",), tol=TOL),
    OpInfo("linalg.lu", LA.lu, _lu_ref,
           lambda rng, dt: [S((_mat(rng, dt, (2, 4, 4)),))], F, ops=("lu",), tol=TOL),
    OpInfo("linalg.eigvals", _eigvals_fn, _f64(_eigvals_ref),
           lambda rng, dt: [S((_mat(rng, dt, (2, 4, 4)),))], F, ops=("eig",), tol=TOL,
           grad="complex outputs: checked through eigenvalue power sums in linalg_logm.py"),
    OpInfo("linalg.eig", _eig_residual_fn, lambda a: np.zeros(a.shape, a.dtype),
           lambda rng, dt: [S((_mat(rng, dt, (3, 3)),))], F32, ops=("eig",),
           tol={"float32": (0, 1e-10), "float64": (0, 1e-24)},
           grad="complex outputs: checked through eigenvalue power sums in linalg_logm.py"),
    # solvers
    OpInfo("linalg.solve", LA.solve,
           lambda a, b, adjoint=False: np.linalg.solve(np.swapaxes(a, -1, -2) if adjoint else a,
                                                       b),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 3)) + np.eye(3, dtype=dt.np_dtype),
                               _mat(rng, dt, (2, 3, 2)))),
                            S((_mat(rng, dt, (3, 3)) + np.eye(3, dtype=dt.np_dtype),
                               _mat(rng, dt, (3, 1))), {"adjoint": True})],
           F, ops=("lu", "triangular_solve"), tol=TOL),
    OpInfo("linalg.inv", LA.inv, np.linalg.inv,
           lambda rng, dt: [S((_well(rng, dt, (2, 3, 3)),))], F32, ops=("lu",), tol=TOL),
    OpInfo("linalg.det", LA.det, _f64(np.linalg.det),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 3)),))], F32, ops=("lu",), tol=TOL),
    OpInfo("linalg.slogdet", LA.slogdet, _f64(lambda a: tuple(np.linalg.slogdet(a))),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 3)),))], F32, ops=("lu",), tol=TOL),
    OpInfo("linalg.logdet", LA.logdet, _f64(lambda a: np.linalg.slogdet(_sym(a))[1]),
           lambda rng, dt: [S((_spd(rng, dt, (2, 3, 3)),))], F32, ops=("cholesky",), tol=TOL),
    OpInfo("linalg.cholesky_solve",
           lambda a, b: LA.cholesky_solve(LA.cholesky(a), b),
           _f64(lambda a, b: np.linalg.solve(_sym(a), b)),
           lambda rng, dt: [S((_spd(rng, dt, (2, 3, 3)), _mat(rng, dt, (2, 3, 2))))], F32,
           ops=("cholesky", "triangular_solve"), tol=TOL),
    OpInfo("linalg.lu_solve", _lu_solve_fn, lambda a, b: np.linalg.solve(a, b),
           lambda rng, dt: [S((_well(rng, dt, (2, 3, 3)), _mat(rng, dt, (2, 3, 2))))], F32,
           ops=("lu",), tol=TOL),
    OpInfo("linalg.lu_matrix_inverse", _lu_inverse_fn, np.linalg.inv,
           lambda rng, dt: [S((_well(rng, dt, (3, 3)),))], F32, ops=("lu",), tol=TOL),
    OpInfo("linalg.lu_reconstruct", _lu_reconstruct_fn, lambda a: a.copy(),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 3)),))], F32, ops=("lu",), tol=TOL),
    OpInfo("linalg.lstsq", LA.lstsq, _f64(_lstsq_ref),
           lambda rng, dt: [S((_mat(rng, dt, (2, 4, 3)), _mat(rng, dt, (2, 4, 2)))),
                            S((_mat(rng, dt, (2, 3)), _mat(rng, dt, (2, 1))),
                              {"l2_regularizer": 0.5}),
                            S((_mat(rng, dt, (4, 3)), _mat(rng, dt, (4, 2))), {"fast": False})],
           F, ops=("cholesky", "qr"), tol={"float32": (1e-3, 1e-4), "float64": (1e-8, 1e-10)}),
    OpInfo("linalg.pinv", LA.pinv, _f64(np.linalg.pinv),
           lambda rng, dt: [S((_mat(rng, dt, (2, 4, 3)),))], F32, ops=("svd",), tol=TOL),
    OpInfo("linalg.matrix_rank", LA.matrix_rank,
           lambda a: np.linalg.matrix_rank(a).astype(np.int32),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 4)),)),
                            S((np.ones((3, 3), dt.np_dtype),))], F32, ops=("svd",),
           grad="integer result"),
    OpInfo("linalg.tridiagonal_solve", LA.tridiagonal_solve,
           lambda d, b: np.linalg.solve(_tridiag_dense(d), b),
           lambda rng, dt: [S(((_mat(rng, dt, (3, 4)) + np.array([[0], [3], [0]])).astype(
               dt.np_dtype), _mat(rng, dt, (4, 2))))], F32, ops=("lu",), tol=TOL),
    OpInfo("linalg.banded_triangular_solve", LA.banded_triangular_solve, _banded_ref,
           lambda rng, dt: [S((_bands(rng, dt, True), _mat(rng, dt, (2, 4, 2)))),
                            S((_bands(rng, dt, False), _mat(rng, dt, (2, 4, 2))),
                              {"lower": False, "adjoint": True})],
           F, ops=("triangular_solve",), tol=TOL),
    # matrix functions
    OpInfo("linalg.expm", LA.expm, _f64(_batched(sl.expm)),
           lambda rng, dt: [S((_mat(rng, dt, (2, 3, 3)) * np.array(0.1, dt.np_dtype),)),
                            S((_mat(rng, dt, (3, 3)) * np.array(3, dt.np_dtype),))],
           F, ops=("lu", "while"), tol={"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}),
    OpInfo("linalg.sqrtm", LA.sqrtm, _f64(_sqrtm_ref),
           lambda rng, dt: [S((_spd(rng, dt, (2, 3, 3)),)), S((_well(rng, dt, (3, 3)),))],
           F, ops=("lu",), tol={"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-11)}),
    OpInfo("linalg.eigh_tridiagonal", LA.eigh_tridiagonal, _f64(_eigh_tri_ref),
           lambda rng, dt: [S((_mat(rng, dt, (4,)), _mat(rng, dt, (3,))))], F32, ops=("eigh",),
           tol=TOL),
]
