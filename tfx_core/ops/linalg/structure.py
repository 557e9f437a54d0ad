"""Matrix structure helpers of tf.linalg, composed of existing ops: adjoint, matrix_transpose,
diag, set_diag, tensor_diag(_part), cross, normalize, global_norm, tridiagonal_matmul."""
from __future__ import annotations

from typing import Any

import numpy as np

from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as AO
from tfx_core.ops import math_ops as MO
from tfx_core.ops import reduction_ops as RO
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.linalg_ops import band_part, matmul, norm

TensorLike = Any
_ALIGNS = ("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT")


def matrix(x: TensorLike, name: str, square: bool = False) -> Tensor:
    """x as a tensor of matrices (rank >= 2, known last dims; square if asked)."""
    t = to_tensor(x, name)
    if t.ndim < 2 or None in t.shape[-2:]:
        raise op_error(name, f"expected matrices (rank >= 2, known last two dims), got {t.type}")
    if square and t.shape[-1] != t.shape[-2]:
        raise op_error(name, f"expected square matrices [..., n, n], got {t.type}")
    return t


def matrix_transpose(a: TensorLike, name: str | None = None, conjugate: bool = False) -> Tensor:
    """Swap the last two dims (tf.linalg.matrix_transpose)."""
    t = to_tensor(a, "matrix_transpose")
    if t.ndim < 2:
        raise op_error("matrix_transpose", f"expected rank >= 2, got {t.type}")
    r = t.ndim
    return AO.transpose(t, [*range(r - 2), r - 1, r - 2], conjugate=conjugate)


def adjoint(matrix: TensorLike, name: str | None = None) -> Tensor:
    """Conjugate transpose of the innermost matrices (tf.linalg.adjoint)."""
    return matrix_transpose(matrix, conjugate=True)


def _k_range(k: Any, name: str) -> tuple[int, int]:
    """(lowest, highest) diagonal of k: one int, or a pair [lo, hi] naming a band."""
    if isinstance(k, (list, tuple)) or isinstance(k, np.ndarray) and k.ndim:
        ks = [static_int(v, name, "k") for v in (np.asarray(k).tolist() if isinstance(
            k, np.ndarray) else k)]
        if len(ks) == 1:
            return ks[0], ks[0]
        if len(ks) != 2 or ks[0] > ks[1]:
            raise op_error(name, f"k must be an int or a pair [lo, hi] with lo <= hi, got {k!r}")
        return ks[0], ks[1]
    kk = static_int(k, name, "k")
    return kk, kk


def _aligned(row: Tensor, k: int, length: int, align: str) -> Tensor:
    """The `length` values of diagonal k in a band row: super-diagonals (k >= 0) follow the
    first half of `align`, sub-diagonals the second (RIGHT: the row is padded on the left)."""
    right = align.split("_")[0 if k >= 0 else 1] == "RIGHT"
    n = row.shape[-1]
    return row[..., n - length:] if right else row[..., :length]


def _diag_length(rows: int, cols: int, k: int) -> int:
    return min(rows + min(0, k), cols - max(0, k))


def _fit(d: Tensor, length: int, pad: Tensor) -> Tensor:
    """The last dim of d cut or padded (with `pad`) to `length`."""
    n = d.shape[-1]
    if n > length:
        return d[..., :length]
    if n < length:
        fill = MO.add(AO.zeros_like(d[..., :1]), AO.zeros((length - n,), d.dtype))
        return AO.concat([d, MO.add(fill, pad)], -1)
    return d


def _on_diagonal(m: int, n: int, k: int) -> Tensor:
    rows = AO.reshape(AO.range(m), (m, 1))
    cols = AO.reshape(AO.range(n), (1, n))
    return MO.equal(MO.subtract(cols, rows), k)


def diag(diagonal: TensorLike, name: str | None = None, k: Any = 0, num_rows: Any = -1,
         num_cols: Any = -1, padding_value: Any = 0, align: str = "RIGHT_LEFT") -> Tensor:
    """Matrices with `diagonal` on their k-th diagonal (k = [lo, hi]: a band, one row of
    `diagonal` per diagonal from hi down to lo, placed by `align`), padding_value elsewhere
    (tf.linalg.diag)."""
    d = to_tensor(diagonal, "diag")
    if d.ndim < 1 or d.shape[-1] is None:
        raise op_error("diag", f"diagonal must have rank >= 1 and a known last dim, got {d.type}")
    if align not in _ALIGNS:
        raise op_error("diag", f"align must be one of {_ALIGNS}, got {align!r}")
    lo, hi = _k_range(k, "diag")
    if lo != hi and (d.ndim < 2 or d.shape[-2] != hi - lo + 1):
        raise op_error("diag", f"a band k=[{lo}, {hi}] needs diagonal [..., {hi - lo + 1}, "
                       f"max_len], got {d.type}")
    n_d = d.shape[-1]
    rows = static_int(num_rows, "diag", "num_rows")
    cols = static_int(num_cols, "diag", "num_cols")
    min_rows, min_cols = n_d - min(hi, 0), n_d + max(lo, 0)
    shown = f"k={k!r}"
    if 0 <= rows < min_rows or 0 <= cols < min_cols:
        raise op_error("diag", f"num_rows={rows}, num_cols={cols} are too small for a diagonal "
                       f"of {n_d} at {shown}")
    if rows < 0 and cols < 0:
        rows = cols = max(min_rows, min_cols)
    elif rows < 0:
        rows = min_rows
    elif cols < 0:
        cols = min_cols
    if rows != min_rows and cols != min_cols:
        raise op_error("diag", f"num_rows={rows}, num_cols={cols} do not fit a diagonal of "
                       f"{n_d} at {shown} (one of them must be the least that fits)")
    pad = to_tensor(padding_value, "diag", d.dtype)
    zero = to_tensor(0, "diag", d.dtype)
    total = None
    for kk in range(lo, hi + 1):
        length = _diag_length(rows, cols, kk)
        if length <= 0:
            continue
        vals = d if lo == hi else _aligned(d[..., hi - kk, :], kk, length, align)
        part = _place(vals, kk, rows, cols, zero)
        total = part if total is None else MO.add(total, part)
    if total is None:
        total = MO.add(AO.zeros_like(d[..., :1]), AO.zeros((rows, cols), d.dtype))
    rr = np.arange(rows)[:, None]
    cc = np.arange(cols)[None, :]
    band = (cc - rr >= lo) & (cc - rr <= hi)
    return MO.where(band, total, MO.add(AO.zeros_like(total), pad))


def _place(vals: Tensor, k: int, rows: int, cols: int, zero: Tensor) -> Tensor:
    """[..., rows, cols]: vals on diagonal k (row i holds vals[i] above the main diagonal,
    column j holds vals[j] below it), zero elsewhere."""
    if k >= 0:
        v = AO.expand_dims(_fit(vals, rows, zero), -1)
    else:
        v = AO.expand_dims(_fit(vals, cols, zero), -2)
    full = MO.add(v, AO.zeros((rows, cols), vals.dtype))
    return MO.where(_on_diagonal(rows, cols, k), full, AO.zeros_like(full))


def set_diag(input: TensorLike, diagonal: TensorLike, name: str | None = None,  # noqa: A002
             k: Any = 0, align: str = "RIGHT_LEFT") -> Tensor:
    """`input` with its k-th diagonal replaced by `diagonal` (k = [lo, hi]: a band, one row of
    `diagonal` per diagonal from hi down to lo, placed by `align`) (tf.linalg.set_diag)."""
    x = matrix(input, "set_diag")
    d = to_tensor(diagonal, "set_diag", x.dtype)
    if align not in _ALIGNS:
        raise op_error("set_diag", f"align must be one of {_ALIGNS}, got {align!r}")
    lo, hi = _k_range(k, "set_diag")
    m, n = x.shape[-2:]
    if m and n and not -m < lo <= hi < n:
        raise op_error("set_diag", f"k={k!r} must be in ({-m}, {n}) for {x.type}")
    length = _diag_length(m, n, hi) if lo == hi else min(m + min(hi, 0), n - max(lo, 0))
    want = [*x.shape[:-2], length] if lo == hi else [*x.shape[:-2], hi - lo + 1, length]
    if list(d.shape) != want:
        raise op_error("set_diag", f"diagonal must be {want} for {x.type} and k={k!r}, got "
                       f"{d.type}")
    zero = to_tensor(0, "set_diag", x.dtype)
    out = x
    for kk in range(lo, hi + 1):
        size = _diag_length(m, n, kk)
        vals = d if lo == hi else _aligned(d[..., hi - kk, :], kk, size, align)
        v = AO.expand_dims(_fit(vals, m, zero), -1) if kk >= 0 else \
            AO.expand_dims(_fit(vals, n, zero), -2)
        out = MO.where(_on_diagonal(m, n, kk), MO.add(v, AO.zeros_like(x)), out)
    return out


def tensor_diag(diagonal: TensorLike, name: str | None = None) -> Tensor:
    """out[i1..ik, i1..ik] = diagonal[i1..ik], zero elsewhere (tf.linalg.tensor_diag)."""
    d = to_tensor(diagonal, "tensor_diag")
    if None in d.shape:
        raise op_error("tensor_diag", f"needs a known shape, got {d.type}")
    n = int(np.prod(d.shape, dtype=np.int64))
    flat = diag(AO.reshape(d, (n,)))
    return AO.reshape(flat, (*d.shape, *d.shape))


def tensor_diag_part(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """out[i1..ik] = input[i1..ik, i1..ik] (tf.linalg.tensor_diag_part)."""
    from tfx_core.ops.linalg_ops import diag_part

    x = to_tensor(input, "tensor_diag_part")
    r = x.ndim // 2
    if x.ndim % 2 or None in x.shape or x.shape[:r] != x.shape[r:]:
        raise op_error("tensor_diag_part", f"needs a known shape D + D (even rank), got {x.type}")
    n = int(np.prod(x.shape[:r], dtype=np.int64))
    return AO.reshape(diag_part(AO.reshape(x, (n, n))), x.shape[:r])


def cross(a: TensorLike, b: TensorLike, name: str | None = None) -> Tensor:
    """Pairwise cross product of 3-vectors in the last dim (tf.linalg.cross)."""
    from tfx_core.framework.operands import binary_operands

    x, y = binary_operands("cross", a, b)
    if x.dtype is not y.dtype:
        raise op_error("cross", f"dtypes differ: {x.type} and {y.type}", TypeError)
    if x.ndim < 1 or x.shape[-1] != 3 or y.ndim < 1 or y.shape[-1] != 3:
        raise op_error("cross", f"the last dim must be 3, got {x.type} and {y.type}")
    x0, x1, x2 = (x[..., i] for i in range(3))
    y0, y1, y2 = (y[..., i] for i in range(3))
    sub, mul = MO.subtract, MO.multiply
    return AO.stack([sub(mul(x1, y2), mul(x2, y1)), sub(mul(x2, y0), mul(x0, y2)),
                     sub(mul(x0, y1), mul(x1, y0))], -1)


def normalize(tensor: TensorLike, ord: Any = "euclidean", axis: Any = None,  # noqa: A002
              name: str | None = None) -> tuple[Tensor, Tensor]:
    """(tensor / its norm, the norm kept as broadcastable dims) (tf.linalg.normalize)."""
    t = to_tensor(tensor, "normalize")
    n = norm(t, ord=ord, axis=axis, keepdims=True)
    return MO.divide(t, n), n


def global_norm(t_list: Any, name: str | None = None) -> Tensor:
    """sqrt(sum of every tensor's squared L2 norm); None entries are skipped
    (tf.linalg.global_norm)."""
    if isinstance(t_list, (Tensor, np.ndarray)) or not hasattr(t_list, "__iter__"):
        raise op_error("global_norm", f"t_list must be a sequence of tensors, got "
                       f"{type(t_list).__name__}", TypeError)
    ts = [to_tensor(t, "global_norm") for t in t_list if t is not None]
    if not ts:
        return to_tensor(0.0, "global_norm")
    sq = [RO.reduce_sum(MO.multiply(t, t)) for t in ts]
    total = sq[0]
    for s in sq[1:]:
        total = MO.add(total, s)
    return MO.sqrt(total)


def tridiagonal_matmul(diagonals: Any, rhs: TensorLike, diagonals_format: str = "compact",
                       name: str | None = None) -> Tensor:
    """A tridiagonal matrix times rhs [..., M, N] (tf.linalg.tridiagonal_matmul); diagonals
    as 'compact' [..., 3, M] (super, main, sub), 'sequence' (3 tensors) or 'matrix'."""
    b = matrix(rhs, "tridiagonal_matmul")
    if diagonals_format == "matrix":
        return matmul(band_part(matrix(diagonals, "tridiagonal_matmul", True), 1, 1), b)
    if diagonals_format == "sequence":
        sup, main, sub = (to_tensor(v, "tridiagonal_matmul", b.dtype) for v in diagonals)
    elif diagonals_format == "compact":
        d = to_tensor(diagonals, "tridiagonal_matmul", b.dtype)
        if d.ndim < 2 or d.shape[-2] != 3:
            raise op_error("tridiagonal_matmul", f"compact diagonals must be [..., 3, M], got "
                           f"{d.type}")
        sup, main, sub = d[..., 0, :], d[..., 1, :], d[..., 2, :]
    else:
        raise op_error("tridiagonal_matmul", "diagonals_format must be 'compact', 'sequence' or "
                       f"'matrix', got {diagonals_format!r}")
    m = b.shape[-2]
    if main.shape[-1] != m:
        raise op_error("tridiagonal_matmul", f"diagonals of length {main.shape[-1]} do not fit "
                       f"rhs {b.type}")
    zero = AO.zeros_like(b[..., :1, :])
    up = AO.concat([b[..., 1:, :], zero], -2)  # row i+1
    down = AO.concat([zero, b[..., :-1, :]], -2)  # row i-1
    col = lambda v: AO.expand_dims(v, -1)  # noqa: E731
    return MO.add(MO.add(MO.multiply(col(sup), up), MO.multiply(col(main), b)),
                  MO.multiply(col(sub), down))
