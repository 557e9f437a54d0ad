"""Linear algebra (tf.linalg): matmul (one `dot_general`, batch dims broadcast), einsum,
tensordot, norm, matvec, diag_part, band_part, trace — composed of existing IR ops, so
gradients come with them.

einsum lowers to: diagonals (a repeated index in one operand: `select` against an iota-equality
mask, then `reduce_sum`; no gather, and no NaN leaking from off-diagonal inf), sums over indices
that only one operand has, then one `dot_general` per further operand (shared indices that are
still needed become batch dims, the rest are contracted), and a final `transpose`.
"""
from __future__ import annotations

import numbers
import string
from typing import Any

import numpy as np

from compiler.ir.types import I32, broadcast_shapes, dims_compatible
from compiler.ops import constant as C
from compiler.ops import elementwise as E
from compiler.ops import linalg as L
from compiler.ops import reduction as R
from compiler.ops import shape as S
from tfx_core.framework.operands import Tensor, binary_operands, bind, nary_operands, to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int

TensorLike = Any
_LETTERS = frozenset(string.ascii_letters)


def _transpose(x: Tensor, perm: list[int]) -> Tensor:
    return x if perm == sorted(perm) else bind(S.transpose_op, x, perm=tuple(perm))


def _sum(x: Tensor, axes: list[int]) -> Tensor:
    if not axes:
        return x
    return bind(R.reduce_sum_op, x, axes=tuple(sorted(axes)), keepdims=False)


def _diagonal(x: Tensor, i: int, j: int, name: str) -> Tensor:
    """Dims i and j (equal sizes) become one dim, last: x[..., k, k] for each k."""
    n = x.shape[i]
    if n is None:
        raise op_error(name, f"taking a diagonal needs a known size, got dim {i} of {x.type}")
    others = [d for d in range(x.ndim) if d not in (i, j)]
    xt = _transpose(x, others + [i, j])
    eye = bind(E.compare_op, bind(C.iota_op, shape=(n, n), dimension=0, dtype=I32),
               bind(C.iota_op, shape=(n, n), dimension=1, dtype=I32), direction="EQ")
    zero = to_tensor(0, name, x.dtype)
    return _sum(bind(E.select_op, eye, xt, zero), [xt.ndim - 1])


# ---------------------------------------------------------------- einsum
def _parse_term(term: str, rank: int | None, equation: str) -> tuple[list, int]:
    """Labels of one subscript string and how many dims its ellipsis covers."""
    if term.count("...") > 1 or any(c not in _LETTERS for c in term.replace("...", "")):
        raise op_error("einsum", f"invalid subscripts {term!r} in {equation!r} (use letters and "
                    "at most one '...')")
    letters = term.replace("...", "")
    if rank is None:  # the output
        return list(term.replace("...", ".")), 0
    n_ell = rank - len(letters)
    if n_ell < 0 or ("..." not in term and n_ell):
        raise op_error("einsum", f"subscripts {term!r} of {equation!r} do not match an operand "
                    f"of rank {rank}")
    return list(term.replace("...", ".")), n_ell


def _parse(equation: str, ranks: list[int]) -> tuple[list[list], list]:
    """Per-operand label lists and the output labels; ellipsis dims get int labels."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise op_error("einsum", f"{equation!r} has more than one '->'")
    lhs, out = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise op_error("einsum", f"{equation!r} names {len(terms)} operands but {len(ranks)} "
                    "were given")
    parsed = [_parse_term(t, r, equation) for t, r in zip(terms, ranks)]
    n_ell = max((n for _, n in parsed), default=0)

    def expand(labels: list, n: int) -> list:
        if "." not in labels:
            return labels
        k = labels.index(".")
        return labels[:k] + list(range(n_ell - n, n_ell)) + labels[k + 1:]

    ins = [expand(labels, n) for labels, n in parsed]
    if out is None:  # implicit: broadcast dims, then letters used exactly once, sorted
        counts: dict = {}
        for labels in ins:
            for lab in labels:
                counts[lab] = counts.get(lab, 0) + 1
        outs = list(range(n_ell)) + sorted(k for k, c in counts.items()
                                           if isinstance(k, str) and c == 1)
        return ins, outs
    out_labels, _ = _parse_term(out, None, equation)
    outs = expand(out_labels, n_ell)
    used = {lab for labels in ins for lab in labels}
    if "." not in out_labels and n_ell:
        raise op_error("einsum", f"the inputs of {equation!r} have broadcast ('...') dims but the "
                    "output has no '...'")
    for lab in outs:
        if outs.count(lab) > 1 or lab not in used:
            raise op_error("einsum", f"output subscript {lab!r} of {equation!r} is repeated or "
                        "appears in no input")
    return ins, outs


def _sizes(xs: list[Tensor], ins: list[list], equation: str) -> dict:
    """Every label's size; broadcast ('...') dims may be 1 in some operands."""
    sizes: dict = {}
    for x, labels in zip(xs, ins):
        for lab, n in zip(labels, x.shape):
            m = sizes.setdefault(lab, n)
            if n is None or m == n:
                continue
            if m is None or isinstance(lab, int) and 1 in (m, n):
                sizes[lab] = n if m is None or m == 1 else m
                continue
            shown = ", ".join(str(t.type) for t in xs)
            what = repr(lab) if isinstance(lab, str) else "'...'"
            raise op_error("einsum", f"index {what} has sizes {m} and {n} in {equation!r} "
                        f"({shown})")
    return sizes


def einsum(equation: str, *inputs: TensorLike, **kwargs: Any) -> Tensor:
    """Einstein summation over the operands (tf.einsum).

    Explicit ('ij,jk->ik') or implicit ('ij,jk') output, '...' broadcasting, a repeated index
    in one operand (a diagonal) and sums over indices absent from the output.
    """
    if not isinstance(equation, str):
        raise op_error("einsum", f"equation must be a string, got {equation!r}", TypeError)
    if not inputs:
        raise op_error("einsum", "needs at least one operand")
    xs = nary_operands("einsum", *inputs)
    if any(x.dtype is not xs[0].dtype for x in xs):
        raise op_error("einsum", "dtypes differ: " + ", ".join(str(x.type) for x in xs) +
                    " (use tx.cast)", TypeError)
    ins, outs = _parse(equation, [x.ndim for x in xs])
    sizes = _sizes(xs, ins, equation)
    ops: list[tuple[Tensor, list]] = []
    for x, labels in zip(xs, ins):
        labels = list(labels)
        for lab in list(dict.fromkeys(labels)):  # repeated index: take the diagonal
            while labels.count(lab) > 1:
                i = labels.index(lab)
                j = labels.index(lab, i + 1)
                x = _diagonal(x, i, j, "einsum")
                labels = [v for k, v in enumerate(labels) if k not in (i, j)] + [lab]
        ones = [k for k, lab in enumerate(labels)  # broadcast dims of size 1 against > 1
                if isinstance(lab, int) and x.shape[k] == 1 and sizes[lab] != 1]
        if ones:
            x = bind(S.squeeze_op, x, axes=tuple(ones))
            labels = [lab for k, lab in enumerate(labels) if k not in ones]
        ops.append((x, labels))
    for k, (x, labels) in enumerate(ops):  # sum indices no other operand or the output has
        keep = set(outs).union(*(set(lb) for m, (_, lb) in enumerate(ops) if m != k))
        drop = [d for d, lab in enumerate(labels) if lab not in keep]
        ops[k] = (_sum(x, drop), [lab for lab in labels if lab in keep])
    acc, la = ops[0]
    for k in range(1, len(ops)):
        b, lb = ops[k]
        later = set(outs).union(*(set(lab) for _, lab in ops[k + 1:]))
        common = [lab for lab in la if lab in lb]
        batch = [lab for lab in common if lab in later]
        contract = [lab for lab in common if lab not in later]
        acc = bind(L.dot_general_op, acc, b, lhs_batch=tuple(la.index(v) for v in batch),
                   rhs_batch=tuple(lb.index(v) for v in batch),
                   lhs_contract=tuple(la.index(v) for v in contract),
                   rhs_contract=tuple(lb.index(v) for v in contract))
        la = batch + [v for v in la if v not in common] + [v for v in lb if v not in common]
    return _transpose(acc, [la.index(lab) for lab in outs])


# ---------------------------------------------------------------- tensordot
def _axes_list(v: Any, name: str) -> list[int]:
    if isinstance(v, Tensor):
        from tfx_core.polymorphic_function.tracer import get_static_value

        a = get_static_value(v)
        if a is None:
            raise op_error(name, "axes must be known at trace time", TypeError)
        v = a
    v = np.asarray(v).tolist() if isinstance(v, np.ndarray) else v
    v = list(v) if isinstance(v, (list, tuple)) else [v]
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in v):
        raise op_error(name, f"axes must be ints, got {v!r}", TypeError)
    return [int(d) for d in v]


def tensordot(a: TensorLike, b: TensorLike, axes: Any, name: str | None = None) -> Tensor:
    """Sum of products over `axes` of a and b; the free dims of a, then of b (tf.tensordot)."""
    x, y = nary_operands("tensordot", a, b)
    if x.dtype is not y.dtype:
        raise op_error(
            "tensordot", f"dtypes differ: {x.type} and {y.type} (use tx.cast)", TypeError)
    if isinstance(axes, Tensor) and axes.ndim == 0 or isinstance(axes, (int, np.integer)):
        n = _axes_list(axes, "tensordot")[0]
        if not 0 <= n <= min(x.ndim, y.ndim):
            raise op_error("tensordot", f"axes={n} must be in [0, {min(x.ndim, y.ndim)}] for "
                        f"{x.type} and {y.type}")
        ax, ay = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        pair = axes.tolist() if isinstance(axes, np.ndarray) else axes
        if isinstance(pair, Tensor) or not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise op_error(
                "tensordot", f"axes must be an int or a pair of axis lists, got {axes!r}")
        ax, ay = _axes_list(pair[0], "tensordot"), _axes_list(pair[1], "tensordot")
    if len(ax) != len(ay):
        raise op_error("tensordot", f"axes {ax} and {ay} have different lengths")
    for lst, t in ((ax, x), (ay, y)):
        for k, d in enumerate(lst):
            if not -t.ndim <= d < t.ndim:
                raise op_error("tensordot", f"axis {d} is out of range for {t.type}")
            lst[k] = d % t.ndim
        if len(set(lst)) != len(lst):
            raise op_error("tensordot", f"axes {lst} repeat for {t.type}")
    for i, j in zip(ax, ay):
        if not dims_compatible(x.shape[i], y.shape[j]):
            raise op_error("tensordot", f"dim {i} of {x.type} and dim {j} of {y.type} differ")
    return bind(L.dot_general_op, x, y, lhs_batch=(), rhs_batch=(), lhs_contract=tuple(ax),
                rhs_contract=tuple(ay))


# ---------------------------------------------------------------- tf.linalg helpers
def matvec(a: TensorLike, b: TensorLike, transpose_a: bool = False, adjoint_a: bool = False,
           a_is_sparse: bool = False, b_is_sparse: bool = False,
           name: str | None = None) -> Tensor:
    """Matrix times vector over the last dims, batch dims broadcast (tf.linalg.matvec)."""
    from tfx_core.ops.array_ops import expand_dims, squeeze
    from tfx_core.ops.linalg_ops import matmul

    x, v = nary_operands("matvec", a, b)
    if v.ndim < 1:
        raise op_error("matvec", f"b must have rank >= 1, got {v.type}")
    return squeeze(matmul(x, expand_dims(v, -1), transpose_a=transpose_a, adjoint_a=adjoint_a),
                   -1)


def _matrix(x: TensorLike, name: str) -> Tensor:
    t = to_tensor(x, name)
    if t.ndim < 2 or None in t.shape[-2:]:
        raise op_error(name, f"expected a matrix (rank >= 2, known last two dims), got {t.type}")
    return t


def diag_part(input: TensorLike, name: str | None = None, k: Any = 0,  # noqa: A002
              padding_value: Any = 0, align: str = "RIGHT_LEFT") -> Tensor:
    """The k-th diagonal of the innermost matrices (tf.linalg.diag_part). `k=(lo, hi)`: the
    diagonals hi down to lo stacked on axis -2, each padded with `padding_value` to the
    longest; `align` ("RIGHT_LEFT" ...) says which side superdiagonals (the main one too) and
    subdiagonals are aligned to."""
    x = _matrix(input, "diag_part")
    if isinstance(k, (list, tuple)):
        if len(k) != 2:
            raise op_error("diag_part", f"k must be an int or a pair (lo, hi), got {k!r}")
        lo, hi = (static_int(v, "diag_part", "k") for v in k)
        if lo != hi:
            return _diag_band(x, lo, hi, padding_value, align)
        k = lo
    k = static_int(k, "diag_part", "k")
    m, n = x.shape[-2:]
    if m and n and not -m < k < n:
        raise op_error("diag_part", f"k={k} must be in ({-m}, {n}) for {x.type}")
    length = max(0, min(m, n - k) if k >= 0 else min(m + k, n))
    r0, c0 = max(-k, 0), max(k, 0)
    begin = (None,) * (x.ndim - 2) + (r0, c0)
    end = (None,) * (x.ndim - 2) + (r0 + length, c0 + length)
    sq = bind(S.slice_op, x, begin=begin, end=end, strides=(1,) * x.ndim)
    return _diagonal(sq, x.ndim - 2, x.ndim - 1, "diag_part")


def _diag_band(x: Tensor, lo: int, hi: int, padding_value: Any, align: str) -> Tensor:
    from tfx_core.ops.array_ops import pad, stack

    aligns = ("LEFT_LEFT", "LEFT_RIGHT", "RIGHT_LEFT", "RIGHT_RIGHT")
    if align not in aligns:
        raise op_error("diag_part", f"align must be one of {list(aligns)}, got {align!r}")
    m, n = x.shape[-2:]
    if not (-m < lo <= hi < n):
        raise op_error("diag_part", f"k=({lo}, {hi}) must satisfy {-m} < lo <= hi < {n} for "
                    f"{x.type}")
    lengths = {d: min(m, n - d) if d >= 0 else min(m + d, n) for d in range(lo, hi + 1)}
    width = max(lengths.values())
    rows = []
    for d in range(hi, lo - 1, -1):  # top row: the highest diagonal, as TF
        side = align.split("_")[0 if d >= 0 else 1]  # RIGHT: padded on the left
        gap = width - lengths[d]
        widths = [[0, 0]] * (x.ndim - 2) + [[gap, 0] if side == "RIGHT" else [0, gap]]
        rows.append(pad(diag_part(x, k=d), widths, constant_values=padding_value))
    return stack(rows, axis=-2)


def band_part(input: TensorLike, num_lower: Any, num_upper: Any,  # noqa: A002
              name: str | None = None) -> Tensor:
    """Zero everything outside a band of the innermost matrices (tf.linalg.band_part).

    A negative num_lower (num_upper) keeps the whole lower (upper) triangle.
    """
    x = _matrix(input, "band_part")
    lo = static_int(num_lower, "band_part", "num_lower")
    hi = static_int(num_upper, "band_part", "num_upper")
    m, n = x.shape[-2:]
    rows = bind(C.iota_op, shape=(m, n), dimension=0, dtype=I32)
    cols = bind(C.iota_op, shape=(m, n), dimension=1, dtype=I32)
    diff = M.subtract(rows, cols)  # row - col: > 0 below the diagonal
    keep = None
    if lo >= 0:
        keep = M.less_equal(diff, lo)
    if hi >= 0:
        up = M.greater_equal(diff, -hi)
        keep = up if keep is None else M.logical_and(keep, up)
    if keep is None:
        return x
    return bind(E.select_op, keep, x, to_tensor(np.zeros((), x.dtype.np_dtype), "band_part"))


def trace(x: TensorLike, name: str | None = None) -> Tensor:
    """Sum of the main diagonal of the innermost matrices (tf.linalg.trace)."""
    d = diag_part(x)
    return _sum(d, [d.ndim - 1])


def _norm_axes(axis: Any, t: Tensor) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if len(axes) not in (1, 2) or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes
    ):
        raise op_error("norm", f"axis must be None, an int or a pair of ints, got {axis!r}")
    out = []
    for a in axes:
        if not -t.ndim <= a < t.ndim:
            raise op_error("norm", f"axis {a} is out of range for {t.type}")
        out.append(int(a) % t.ndim)
    if len(set(out)) != len(out):
        raise op_error("norm", f"axis {axis!r} repeats an axis of {t.type}")
    return tuple(out)


def _spectral_norm(t: Tensor, axes: tuple, keepdims: bool | None) -> Tensor:
    """The matrix 2-norm: the largest singular value over the pair of `axes`."""
    from tfx_core.ops.array_ops import expand_dims
    from tfx_core.ops.linalg.decompositions import svd
    from tfx_core.ops.reduction_ops import reduce_max

    a0, a1 = (a % t.ndim for a in axes)
    rest = [d for d in range(t.ndim) if d not in (a0, a1)]
    m = bind(S.transpose_op, t, perm=(*rest, a0, a1))
    out = reduce_max(svd(m, compute_uv=False), -1)  # the rest's dims, in order
    if keepdims:
        for a in sorted((a0, a1)):
            out = expand_dims(out, a)
    return out


def norm(tensor: TensorLike, ord: Any = "euclidean", axis: Any = None,  # noqa: A002
         keepdims: bool | None = None, name: str | None = None) -> Tensor:
    """Vector or matrix norm (tf.norm, tf.linalg.norm).

    Vector norms ('euclidean', 1, 2, inf, any p > 0) over all elements (axis=None) or one
    axis; matrix norms ('euclidean'/'fro', 1, inf) over a pair of axes.
    """
    from tfx_core.ops.reduction_ops import reduce_max, reduce_sum

    t = to_tensor(tensor, "norm")
    complex_in = t.dtype if t.dtype.is_complex else None
    if complex_in is not None:  # the norm of the magnitudes, as TF
        from tfx_core.ops.math_ops import abs as _magnitude

        t = _magnitude(t)
    if not t.dtype.is_floating:
        raise op_error("norm", f"expected a floating tensor, got {t.type}", TypeError)
    axes = _norm_axes(axis, t)
    matrix = axes is not None and len(axes) == 2
    is_num = isinstance(ord, numbers.Real) and not isinstance(ord, bool)
    if matrix:
        if ord == 2 and is_num:
            return _spectral_norm(t, axes, keepdims)
        if ord not in ("euclidean", "fro") and not (is_num and ord in (1, np.inf)):
            raise op_error("norm", f"ord must be a matrix norm in ['euclidean', 'fro', 1, inf], "
                        f"got {ord!r}")
    elif not (ord == "euclidean" or is_num and ord > 0):
        raise op_error("norm", f"ord must be a vector norm ('euclidean', 1, 2, inf or any p > 0), "
                    f"got {ord!r}")
    red = list(range(t.ndim)) if axes is None else list(axes)
    if ord in ("euclidean", "fro") or ord == 2:
        out = M.sqrt(reduce_sum(M.multiply(t, t), red, keepdims=True))
        if complex_in is not None:  # TF 2.21 returns these (only) in the complex dtype
            out = M.cast(out, complex_in)
    else:
        a = M.abs(t)
        if ord == 1:
            out = reduce_sum(a, red[:1] if matrix else red, keepdims=True)
            out = reduce_max(out, red[-1], keepdims=True) if matrix else out
        elif ord == np.inf:
            a = reduce_sum(a, red[1], keepdims=True) if matrix else a
            out = reduce_max(a, red[:1] if matrix else red, keepdims=True)
        else:
            p, inv = (to_tensor(v, "norm", t.dtype) for v in (float(ord), 1.0 / float(ord)))
            out = M.pow(reduce_sum(M.pow(a, p), red, keepdims=True), inv)
    if keepdims:
        return out
    return bind(S.squeeze_op, out, axes=tuple(red))


# ---------------------------------------------------------------- matmul
def _flags(transpose_a: bool, transpose_b: bool) -> str:
    shown = [f"transpose_{n}=True" for n, t in (("a", transpose_a), ("b", transpose_b)) if t]
    return f" ({', '.join(shown)})" if shown else ""


def matmul(a: TensorLike, b: TensorLike, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, output_type: Any = None,
           name: str | None = None) -> Tensor:
    """Matrix product of the last two dims, batch dims broadcast like NumPy (tf.linalg.matmul)."""
    a, b = binary_operands("matmul", a, b)
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    if a.dtype is not b.dtype:
        raise op_error("matmul", f"dtypes differ: {a.type} @ {b.type} (use tx.cast)", TypeError)
    if a.dtype.is_complex:  # adjoint = conjugate transpose
        from tfx_core.ops.math_ops import conj

        a = conj(a) if adjoint_a else a
        b = conj(b) if adjoint_b else b
    if not (a.dtype.is_inexact or a.dtype.is_integer):
        raise op_error("matmul", f"expected numeric tensors, got {a.type} @ {b.type}", TypeError)
    if output_type is not None and output_type != a.dtype:
        raise op_error("matmul", f"output_type {output_type} differs from the input dtype in "
                    f"{a.type} @ {b.type}", TypeError)
    if a.ndim < 2 or b.ndim < 2:
        raise op_error("matmul", f"both operands need rank >= 2, got {a.type} @ {b.type}")
    ra, rb = a.ndim, b.ndim
    ka, ma = (ra - 2, ra - 1) if ta else (ra - 1, ra - 2)
    kb = rb - 1 if tb else rb - 2
    if not dims_compatible(a.shape[ka], b.shape[kb]):
        raise op_error("matmul", f"inner dimensions differ: {a.type} @ {b.type}{_flags(ta, tb)}")
    ba, bb = tuple(a.shape[:-2]), tuple(b.shape[:-2])
    if not bb:  # [..., M, K] @ [K, N]: contract directly, no broadcast needed
        return _dot(a, b, (), (), ka, kb)
    if not ba:  # [M, K] @ [..., K, N] gives [M, ..., N]: move M next to N
        from tfx_core.ops.array_ops import transpose

        out = _dot(a, b, (), (), ka, kb)
        n = len(bb)
        return transpose(out, (*range(1, n + 1), 0, n + 1))
    batch = broadcast_shapes(ba, bb)
    if batch is None:
        raise op_error("matmul", f"batch dimensions do not broadcast: {a.type} @ {b.type}")
    a = _broadcast_batch(a, ba, batch, b)
    b = _broadcast_batch(b, bb, batch, a)
    nb = len(batch)
    return _dot(a, b, tuple(range(nb)), tuple(range(nb)), ka - ra + nb + 2, kb - rb + nb + 2)


def _dot(a: Tensor, b: Tensor, lb: tuple, rb: tuple, ka: int, kb: int) -> Tensor:
    return bind(L.dot_general_op, a, b, lhs_batch=lb, rhs_batch=rb,
                lhs_contract=(ka,), rhs_contract=(kb,))


def _broadcast_batch(x: Tensor, bx: tuple, batch: tuple, other: Tensor) -> Tensor:
    """Broadcast x's batch dims `bx` to `batch` (unknown dims are taken as already equal)."""
    if len(bx) == len(batch) and all(d == e or e is None or d is None and e != 1
                                     for d, e in zip(bx, batch)):
        return x
    target = (*batch, *x.shape[-2:])
    if None in target:
        raise op_error(
            "matmul", f"cannot broadcast batch dims with unknown sizes: {x.type} to {batch} "
                    f"(with the other operand {other.type})")
    from tfx_core.ops.array_ops import broadcast_to

    return broadcast_to(x, target)


__all__ = ["einsum", "matmul", "norm", "tensordot"]
