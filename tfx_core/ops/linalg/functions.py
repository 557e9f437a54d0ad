"""Matrix functions and eigenproblems of tf.linalg: expm (Padé + scaling and squaring, as TF),
sqrtm (scaled Denman-Beavers), eig, eigvals, eigh_tridiagonal."""
from __future__ import annotations

from typing import Any

from compiler.ops.lapack import eig as EIG
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops import array_ops as AO
from tfx_core.ops import math_ops as MO
from tfx_core.ops import reduction_ops as RO
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.linalg import decompositions as D
from tfx_core.ops.linalg import solvers as SV
from tfx_core.ops.linalg.structure import diag
from tfx_core.ops.linalg_ops import matmul

TensorLike = Any

# Padé numerator coefficients b_0..b_m of exp (Higham 2005), per degree.
_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0,
        110880.0, 3960.0, 90.0, 1.0),
    13: (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
         129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
         40840800.0, 960960.0, 16380.0, 182.0, 1.0),
}
# (largest 1-norm each degree is used for, ..., the norm scaling brings the last degree to):
# float32 uses degrees 3, 5, 7; float64 3, 5, 7, 9, 13 (TF's thresholds).
_THETA32 = ((3, 4.258730016922831e-001), (5, 1.880152677804762e+000))
_MAX32 = (7, 3.925724783138660)
_THETA64 = ((3, 1.495585217958292e-002), (5, 2.539398330063230e-001),
            (7, 9.504178996162932e-001), (9, 2.097847961257068e+000))
_MAX64 = (13, 5.371920351148152)


def _scaled(c: float, x: Tensor) -> Tensor:
    return MO.multiply(to_tensor(c, "expm", x.dtype), x)


def _pade(a: Tensor, m: int) -> tuple[Tensor, Tensor]:
    """(u, v) of the degree-m Padé approximant: exp(a) ~ (v - u)^-1 (v + u)."""
    b = _PADE[m]
    eye = AO.eye(a.shape[-1], dtype=a.dtype)  # broadcast against a's batch dims
    powers = {0: eye, 2: matmul(a, a)}
    for k in range(4, min(m, 7) + 1, 2):
        powers[k] = matmul(powers[k - 2], powers[2])
    if m == 9:
        powers[8] = matmul(powers[6], powers[2])
    if m == 13:  # Higham's evaluation with three matrix products
        p2, p4, p6 = powers[2], powers[4], powers[6]
        inner_u = MO.add(MO.add(p6, _scaled(b[11], p4)), _scaled(b[9], p2))
        tu = sum_terms([matmul(p6, inner_u), _scaled(b[7], p6), _scaled(b[5], p4),
                        _scaled(b[3], p2), _scaled(b[1], eye)])
        inner_v = sum_terms([_scaled(b[12], p6), _scaled(b[10], p4), _scaled(b[8], p2)])
        v = sum_terms([matmul(p6, inner_v), _scaled(b[6], p6), _scaled(b[4], p4),
                       _scaled(b[2], p2), _scaled(b[0], eye)])
        return matmul(a, tu), v
    tu = sum_terms([_scaled(b[k + 1], powers[k]) for k in range(0, m, 2)])
    v = sum_terms([_scaled(b[k], powers[k]) for k in range(0, m, 2)])
    return matmul(a, tu), v


def sum_terms(ts: list) -> Tensor:
    total = ts[0]
    for t in ts[1:]:
        total = MO.add(total, t)
    return total


def expm(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """Matrix exponential by Padé approximation with scaling and squaring: the degree and the
    number of squarings picked per matrix from its 1-norm, as TF (tf.linalg.expm)."""
    from tfx_core.ops.control_flow_ops import while_loop

    a = D.float_matrix(input, "expm", square=True)
    if a.shape[-1] == 0:
        return a
    l1 = RO.reduce_max(RO.reduce_sum(MO.abs(a), -2), -1)
    l1 = AO.expand_dims(AO.expand_dims(l1, -1), -1)
    thetas, (top, maxnorm) = (_THETA32, _MAX32) if a.dtype.name == "float32" \
        else (_THETA64, _MAX64)
    two = to_tensor(2.0, "expm", a.dtype)
    squarings = MO.maximum(MO.floor(MO.divide(MO.log(MO.divide(l1, maxnorm)), MO.log(two))),
                           to_tensor(0.0, "expm", a.dtype))
    u, v = _pade(MO.divide(a, MO.pow(two, squarings)), top)
    for m, theta in reversed(thetas):
        um, vm = _pade(a, m)
        small = MO.less(l1, theta)
        u, v = MO.where(small, um, u), MO.where(small, vm, v)
    result = SV.solve(MO.subtract(v, u), MO.add(v, u))
    most = RO.reduce_max(squarings)
    zero = to_tensor(0.0, "expm", a.dtype)

    def body(i: Tensor, r: Tensor) -> tuple:
        return MO.add(i, 1.0), MO.where(MO.less(i, squarings), matmul(r, r), r)

    _, result = while_loop(lambda i, r: MO.less(i, most), body, (zero, result))
    return result


def sqrtm(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """Principal square root of matrices with no eigenvalues on the closed negative real axis,
    by the determinant-scaled Denman-Beavers iteration (tf.linalg.sqrtm); the others have no
    real principal root: NaN, as TF."""
    a = D.float_matrix(input, "sqrtm", square=True)
    n = a.shape[-1]
    if n == 0:
        return a
    from tfx_core.ops.control_flow_ops import while_loop

    eye = MO.add(AO.zeros_like(a), AO.eye(n, dtype=a.dtype))
    half = to_tensor(0.5, "sqrtm", a.dtype)
    power = to_tensor(-0.5 / n, "sqrtm", a.dtype)
    steps = 12 if a.dtype.name == "float32" else 18  # quadratic convergence after scaling

    def step(i: Tensor, m: Tensor, y: Tensor) -> tuple:
        packed, _, perm = D.lu_factor(m)
        logabs = RO.reduce_sum(MO.log(MO.abs(SV.diagonal(packed))), -1)
        mu = AO.expand_dims(AO.expand_dims(MO.exp(MO.multiply(logabs, power)), -1), -1)
        mu2 = MO.multiply(mu, mu)
        m_inv = MO.divide(SV.lu_solve(packed, perm, eye), mu2)
        y = MO.multiply(MO.multiply(half, mu), matmul(y, MO.add(eye, m_inv)))
        m = MO.multiply(half, MO.add(eye, MO.multiply(half, MO.add(MO.multiply(mu2, m), m_inv))))
        return MO.add(i, 1), m, y

    _, m, y = while_loop(lambda i, m, y: MO.less(i, steps), step,
                         (to_tensor(0, "sqrtm", "int32"), a, a), maximum_iterations=steps)
    # converged: M = I. Not (a real eigenvalue <= 0, which has no real principal root): NaN,
    # as TF's Schur-based kernel gives
    gap = RO.reduce_max(RO.reduce_sum(MO.abs(MO.subtract(m, eye)), -2), -1)
    bad = AO.expand_dims(AO.expand_dims(MO.logical_not(MO.less(gap, 1e-2)), -1), -1)
    return MO.where(bad, MO.add(AO.zeros_like(y), float("nan")), y)


def eig(tensor: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(eigenvalues, right eigenvectors as unit-norm columns) of general real or complex
    matrices, both complex (tf.linalg.eig; the order LAPACK's geev gives), with TF's gradient."""
    wr, wi, v = bind(EIG.eig_op, D.float_matrix(tensor, "eig", square=True, complex_ok=True))
    return MO.complex(wr, wi), v


def eigvals(tensor: TensorLike, name: str | None = None) -> Tensor:
    """Eigenvalues (complex) of general real or complex matrices (tf.linalg.eigvals)."""
    wr, wi, _ = bind(EIG.eig_op, D.float_matrix(tensor, "eigvals", square=True,
                                                complex_ok=True))
    return MO.complex(wr, wi)


def eigh_tridiagonal(alpha: TensorLike, beta: TensorLike, eigvals_only: bool = True,
                     select: str = "a", select_range: Any = None, tol: Any = None,
                     name: str | None = None) -> Any:
    """Eigenvalues (ascending; with eigvals_only=False also the eigenvectors) of the symmetric
    tridiagonal matrix with diagonal alpha [n] and off-diagonal beta [n-1]
    (tf.linalg.eigh_tridiagonal; select 'a' or 'i' — 'v' has a data-dependent size)."""
    d = to_tensor(alpha, "eigh_tridiagonal")
    e = to_tensor(beta, "eigh_tridiagonal", d.dtype)
    if d.ndim != 1 or e.ndim != 1 or d.shape[0] is None or e.shape[0] != max(d.shape[0] - 1, 0):
        raise op_error("eigh_tridiagonal", f"alpha must be [n] and beta [n-1], got {d.type} and "
                       f"{e.type}")
    t = MO.add(MO.add(diag(d), diag(e, k=1)), diag(e, k=-1))
    vals, vecs = D.eigh(t)
    if select in ("i", "index"):
        lo, hi = (static_int(v, "eigh_tridiagonal", "select_range") for v in select_range)
        if not 0 <= lo <= hi < d.shape[0]:
            raise op_error("eigh_tridiagonal", f"select_range {select_range} out of range for "
                           f"{d.shape[0]} eigenvalues")
        vals, vecs = vals[lo:hi + 1], vecs[:, lo:hi + 1]
    elif select not in ("a", "all"):
        raise op_error("eigh_tridiagonal", f"select={select!r} is not supported: 'v' returns a "
                       "data-dependent number of values; use 'a' or 'i'")
    return vals if eigvals_only else (vals, vecs)
