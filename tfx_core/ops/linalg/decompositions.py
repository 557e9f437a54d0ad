"""tf.linalg's factorizations: cholesky, triangular_solve, qr, svd, eigh, eigvalsh, lu — thin
wrappers binding the IR ops of compiler/ops/lapack/ (float32 and float64)."""
from __future__ import annotations

from typing import Any

from compiler.ops.lapack import eigh as EIGH
from compiler.ops.lapack import lu as LU
from compiler.ops.lapack import qr as QR
from compiler.ops.lapack import svd as SVD
from compiler.ops.lapack import triangular as TRI
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops import array_ops as AO
from tfx_core.ops.arguments import op_error

TensorLike = Any


_COMPLEX = ("complex64", "complex128")


def float_matrix(x: TensorLike, name: str, square: bool = False, dtype: Any = None,
                 complex_ok: bool = False) -> Tensor:
    """x as float32/float64 (with complex_ok also complex64/complex128) matrices [..., m, n]
    with known dims (square if asked)."""
    t = to_tensor(x, name, dtype)
    if t.dtype.name not in ("float32", "float64", *(_COMPLEX if complex_ok else ())):
        kinds = "float32 or float64 (or complex64/complex128)" if complex_ok else \
            "float32 or float64"
        raise op_error(name, f"expected {kinds} matrices, got {t.type}", TypeError)
    if t.ndim < 2 or None in t.shape[-2:]:
        raise op_error(name, f"expected matrices (rank >= 2, known last two dims), got "
                       f"{t.type}")
    if square and t.shape[-1] != t.shape[-2]:
        raise op_error(name, f"expected square matrices [..., n, n], got {t.type}")
    return t


def broadcast_batch(a: Tensor, b: Tensor, name: str) -> tuple[Tensor, Tensor]:
    """a [..., m, m] and b [..., m, k] with their batch dims broadcast to one shape."""
    from compiler.ir.types import broadcast_shapes

    ba, bb = tuple(a.shape[:-2]), tuple(b.shape[:-2])
    if ba == bb:
        return a, b
    batch = broadcast_shapes(ba, bb)
    if batch is None:
        raise op_error(name, f"batch dims do not broadcast: {a.type} and {b.type}")
    return (AO.broadcast_to(a, (*batch, *a.shape[-2:])),
            AO.broadcast_to(b, (*batch, *b.shape[-2:])))


def cholesky(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """Lower Cholesky factor of symmetric positive definite matrices, read from their lower
    triangle (tf.linalg.cholesky; float or complex Hermitian); not positive definite: NaN."""
    return bind(TRI.cholesky_op, float_matrix(input, "cholesky", square=True, complex_ok=True))


def triangular_solve(matrix: TensorLike, rhs: TensorLike, lower: bool = True,
                     adjoint: bool = False, name: str | None = None) -> Tensor:
    """x with matrix @ x = rhs (adjoint(matrix) @ x with adjoint=True) for triangular matrices
    (only the `lower` or upper triangle is read); batch dims broadcast; complex too
    (tf.linalg.triangular_solve)."""
    a = float_matrix(matrix, "triangular_solve", square=True, complex_ok=True)
    b = float_matrix(rhs, "triangular_solve", dtype=a.dtype, complex_ok=True)
    if b.shape[-2] != a.shape[-1]:
        raise op_error("triangular_solve", f"rhs {b.type} does not fit matrix {a.type}")
    a, b = broadcast_batch(a, b, "triangular_solve")
    if adjoint and a.dtype.is_complex:  # TF's adjoint conjugates; the IR op only transposes
        from tfx_core.ops.math_ops import conj

        a = conj(a)
    return bind(TRI.triangular_solve_op, a, b, lower=bool(lower), adjoint=bool(adjoint))


def qr(input: TensorLike, full_matrices: bool = False,  # noqa: A002
       name: str | None = None) -> tuple[Tensor, Tensor]:
    """(q, r) with input = q @ r, q orthonormal columns, r upper triangular (tf.linalg.qr;
    Householder signs as LAPACK, like TF)."""
    return tuple(bind(QR.qr_op, float_matrix(input, "qr", complex_ok=True),
                      full_matrices=bool(full_matrices)))


def svd(tensor: TensorLike, full_matrices: bool = False, compute_uv: bool = True,
        name: str | None = None) -> Any:
    """Singular values s (descending), and with compute_uv (s, u, v) where
    tensor = u @ diag(s) @ v^T (tf.linalg.svd)."""
    out = bind(SVD.svd_op, float_matrix(tensor, "svd", complex_ok=True),
               full_matrices=bool(full_matrices),
               compute_uv=bool(compute_uv))
    return tuple(out) if compute_uv else out[0]


def _eigh(tensor: TensorLike, name: str) -> tuple[Tensor, Tensor]:
    e, v = bind(EIGH.eigh_op, float_matrix(tensor, name, square=True, complex_ok=True))
    if v.dtype.is_complex:  # TF gives complex matrices complex (real-valued) eigenvalues
        from tfx_core.ops.math_ops import complex as make_complex

        e = make_complex(e, AO.zeros_like(e))
    return e, v


def eigh(tensor: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(eigenvalues ascending, eigenvectors as columns) of self-adjoint (float or complex
    Hermitian) matrices, read from their lower triangle (tf.linalg.eigh)."""
    return _eigh(tensor, "eigh")


def eigvalsh(tensor: TensorLike, name: str | None = None) -> Tensor:
    """Eigenvalues (ascending) of self-adjoint matrices (tf.linalg.eigvalsh)."""
    return _eigh(tensor, "eigvalsh")[0]


def lu_factor(a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """LAPACK's packed factors, 0-based row swaps and the row permutation they make, of
    square float or complex matrices."""
    return tuple(bind(LU.lu_op, a))


def lu(input: TensorLike, output_idx_type: Any = None,  # noqa: A002
       name: str | None = None) -> tuple[Tensor, Tensor]:
    """(lu, p): the unit-lower L and upper U packed in one matrix, and the row permutation p
    with input[p] = L @ U (tf.linalg.lu; float or complex)."""
    from tfx_core.ops.math_ops import cast

    a = float_matrix(input, "lu", square=True, complex_ok=True)
    packed, _, p = lu_factor(a)
    if output_idx_type is not None and getattr(output_idx_type, "name", output_idx_type) \
            not in ("int32", "int64"):
        raise op_error("lu", f"output_idx_type must be int32 or int64, got {output_idx_type}",
                       TypeError)
    return packed, (p if output_idx_type is None else cast(p, output_idx_type))
