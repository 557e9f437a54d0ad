"""Reductions (tf.math.reduce_*), reduce_logsumexp and argmax/argmin."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import I32, I64, DType
from compiler.ops import cast as CA
from compiler.ops import constant as C
from compiler.ops import elementwise as E
from compiler.ops import reduction as R
from tfx_core.framework.operands import Tensor, bind, to_tensor
from tfx_core.ops.arguments import axis_values, op_error
from tfx_core.polymorphic_function.eager_composite import composite

TensorLike = Any


def normalize_axes(name: str, x: Tensor, axis: Any) -> tuple[int, ...]:
    """axis int / list / None / negative -> a sorted tuple of distinct non-negative ints."""
    if axis is None:
        return tuple(range(x.ndim))
    out = set()
    for a in axis_values(name, axis):
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise op_error(name, f"axis must be an int or a list of ints, got {axis!r}", TypeError)
        a = int(a)
        if not -x.ndim <= a < x.ndim:
            raise op_error(name, f"axis {a} is out of range for {x.type} (rank {x.ndim})")
        a %= x.ndim
        if a in out:
            raise op_error(name, f"axis {a} is repeated in {axis!r} for {x.type}")
        out.add(a)
    return tuple(sorted(out))


def _check(name: str, x: Tensor, kinds: str, what: str) -> None:
    if x.dtype.kind not in kinds:
        raise op_error(name, f"expected {what} tensor, got {x.type}", TypeError)


def _reduce(opdef, opname: str, kinds: str, what: str, doc: str):
    def fn(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
           name: str | None = None) -> Tensor:
        x = to_tensor(input_tensor, opname)
        _check(opname, x, kinds, what)
        return bind(opdef, x, axes=normalize_axes(opname, x, axis), keepdims=bool(keepdims))

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


reduce_sum = _reduce(R.reduce_sum_op, "reduce_sum", "fiuc", "a numeric",
                     "Sum of elements across `axis` (tf.math.reduce_sum).")
reduce_prod = _reduce(R.reduce_prod_op, "reduce_prod", "fiuc", "a numeric",
                      "Product of elements across `axis` (tf.math.reduce_prod).")
reduce_max = _reduce(R.reduce_max_op, "reduce_max", "fiu", "a numeric",
                     "Maximum across `axis`; NaN propagates (tf.math.reduce_max).")
reduce_min = _reduce(R.reduce_min_op, "reduce_min", "fiu", "a numeric",
                     "Minimum across `axis`; NaN propagates (tf.math.reduce_min).")
reduce_all = _reduce(R.reduce_and_op, "reduce_all", "b", "a bool",
                     "Logical AND across `axis` (tf.math.reduce_all).")
reduce_any = _reduce(R.reduce_or_op, "reduce_any", "b", "a bool",
                     "Logical OR across `axis` (tf.math.reduce_any).")


def _count(x: Tensor, axes: tuple[int, ...], dtype: DType) -> Tensor:
    """The number of reduced elements as a `dtype` scalar (traced if some dims are unknown)."""
    dims = [x.shape[a] for a in axes]
    if None not in dims:
        return to_tensor(int(np.prod(dims, dtype=np.int64)), "reduce_mean", dtype)
    mask = to_tensor(np.array([i in axes for i in range(x.ndim)]), "reduce_mean")
    shape = bind(C.shape_of_op, x)
    sizes = bind(E.select_op, mask, shape, to_tensor(1, "reduce_mean", I32))
    n = bind(R.reduce_prod_op, sizes, axes=(0,), keepdims=False)
    return n if dtype is I32 else bind(CA.convert_op, n, dtype=dtype)


def reduce_mean(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
                name: str | None = None) -> Tensor:
    """Mean across `axis`; integer tensors use truncating division as TF (tf.math.reduce_mean)."""
    x = to_tensor(input_tensor, "reduce_mean")
    _check("reduce_mean", x, "fiuc", "a numeric")
    axes = normalize_axes("reduce_mean", x, axis)
    if x.dtype.is_inexact:
        return _float_mean(x, axes=axes, keepdims=bool(keepdims))
    # Integers accumulate in int64 as TF does (int8 [100, 100, -7] has mean 64, not a wrapped
    # sum); an empty reduction is 0, as in TF, not XLA's x / 0 = -1.
    # (uint64 accumulates in uint64: its values do not fit int64)
    acc = x.dtype if x.dtype.bits == 64 else I64
    wide = x if x.dtype is acc else bind(CA.convert_op, x, dtype=acc)
    total = bind(R.reduce_sum_op, wide, axes=axes, keepdims=bool(keepdims))
    count = bind(E.max_op, _count(x, axes, acc), to_tensor(1, "reduce_mean", acc))
    mean = bind(E.div_op, total, count)
    return mean if x.dtype is acc else bind(CA.convert_op, mean, dtype=x.dtype)


@composite("reduce_mean")
def _float_mean(x: Tensor, axes: tuple, keepdims: bool) -> Tensor:
    total = bind(R.reduce_sum_op, x, axes=axes, keepdims=keepdims)
    return bind(E.div_op, total, _count(x, axes, x.dtype))


def reduce_logsumexp(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
                     name: str | None = None) -> Tensor:
    """log(sum(exp(x))) across `axis`, computed stably (tf.math.reduce_logsumexp)."""
    x = to_tensor(input_tensor, "reduce_logsumexp")
    _check("reduce_logsumexp", x, "f", "a floating")
    axes = normalize_axes("reduce_logsumexp", x, axis)
    zero = to_tensor(0, "reduce_logsumexp", x.dtype)

    def safe_max(keep: bool) -> Tensor:  # a non-finite max (all -inf, inf, NaN) shifts by 0
        m = bind(R.reduce_max_op, x, axes=axes, keepdims=keep)
        return bind(E.select_op, bind(E.is_finite_op, m), m, zero)

    shifted = bind(E.exp_op, bind(E.sub_op, x, safe_max(True)))
    total = bind(R.reduce_sum_op, shifted, axes=axes, keepdims=bool(keepdims))
    return bind(E.add_op, bind(E.log_op, total), safe_max(bool(keepdims)))


def _arg(opdef, opname: str, doc: str):
    def fn(input: TensorLike, axis: Any = None, output_type: Any = I64,  # noqa: A002
           name: str | None = None) -> Tensor:
        x = to_tensor(input, opname)
        _check(opname, x, "fiu", "a numeric")
        out = DType.from_any(output_type)
        if out not in (I32, I64):
            raise op_error(opname, f"output_type must be int32 or int64, got {out.name}", TypeError)
        if x.ndim == 0:
            raise op_error(opname, f"expected a tensor of rank >= 1, got {x.type}")
        axes = axis_values(opname, 0 if axis is None else axis)
        if len(axes) != 1:
            raise op_error(
                opname, f"axis must be a single int, got {axis!r} for {x.type}", TypeError)
        (ax,) = normalize_axes(opname, x, axes[0])
        if x.shape[ax] == 0:
            raise op_error(opname, f"reduction axis {ax} is empty in {x.type}")
        return bind(opdef, x, axis=ax, output_type=out)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


argmax = _arg(R.argmax_op, "argmax",
              "Index of the largest value across `axis` (first on ties; NaN counts as largest).")
argmin = _arg(R.argmin_op, "argmin",
              "Index of the smallest value across `axis` (first on ties; NaN counts as smallest).")

def _floating(name: str, x: Tensor) -> None:
    if x.dtype.kind not in "f":
        raise op_error(name, f"expected a floating tensor, got {x.type}", TypeError)


# ---------------------------------------------------------------- moments
def reduce_variance(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
                    name: str | None = None) -> Tensor:
    """Population variance across `axis` (tf.math.reduce_variance); floating tensors, and
    complex ones, whose variance is the real mean of |x - mean|**2 (as TF)."""
    x = to_tensor(input_tensor, "reduce_variance")
    if not x.dtype.is_complex:
        _floating("reduce_variance", x)
    axes = normalize_axes("reduce_variance", x, axis)
    mean = reduce_mean(x, axes, keepdims=True)
    d = bind(E.sub_op, x, mean)
    if x.dtype.is_complex:
        sq = bind(E.real_op, bind(E.mul_op, d, bind(E.conj_op, d)))
    else:
        sq = bind(E.mul_op, d, d)
    return reduce_mean(sq, axes, keepdims=bool(keepdims))


def reduce_std(input_tensor: TensorLike, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """Population standard deviation across `axis` (tf.math.reduce_std)."""
    x = to_tensor(input_tensor, "reduce_std")
    if not x.dtype.is_complex:  # (complex: the real root of the real variance, as TF)
        _floating("reduce_std", x)
    return bind(E.sqrt_op, reduce_variance(x, axis, keepdims))


__all__ = [
    "argmax", "argmin", "reduce_all", "reduce_any", "reduce_logsumexp", "reduce_max",
    "reduce_mean", "reduce_min", "reduce_prod", "reduce_sum",
]  # reduce_variance / reduce_std are tf.math only (not top-level names in TF): see tx.math
