"""TF's nan-safe arithmetic (xlogy, divide_no_nan, ...), C-style integer division
(truncatediv, truncatemod), realdiv, rint, log_sigmoid, add_n and accumulate_n."""
from __future__ import annotations

from typing import Any

from compiler.interpreters import is_tracing
from compiler.ir.types import F32, F64
from compiler.ops import elementwise as E
from compiler.ops.special import binary as SB
from runtime.errors import InternalError, NotFoundError
from tfx_core.framework.operands import Tensor, binary_operands, bind, to_tensor
from tfx_core.ops.arguments import op_error
from tfx_core.ops.math_ops import (
    cast,
    ceil,
    exp,
    floor,
    less,
    log1p,
    negative,
    round,
    subtract,
    where,
)

TensorLike = Any


def _float_pair(opdef, opname: str, doc: str):
    def fn(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
        a, b = binary_operands(opname, x, y)
        for t in (a, b):
            if not t.dtype.is_inexact:
                raise op_error(opname, f"expected floating or complex tensors, got {a.type} and "
                               f"{b.type}", TypeError)
        return bind(opdef, a, b)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


xlogy = _float_pair(SB.xlogy_op, "xlogy", "x * log(y), and 0 where x == 0 even if y is 0 or NaN.")
xlog1py = _float_pair(SB.xlog1py_op, "xlog1py",
                      "x * log1p(y), and 0 where x == 0 even if y is -1 or NaN.")
xdivy = _float_pair(SB.xdivy_op, "xdivy", "x / y, and 0 where x == 0 even if y is 0 or NaN.")
_divide_no_nan = _float_pair(SB.div_no_nan_op, "divide_no_nan", "")


def divide_no_nan(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x / y, and 0 where y == 0 even if x is NaN or inf (tf.math.divide_no_nan). Integer
    tensors divide in floating point as tf.math.truediv does (8/16-bit -> float32, else
    float64)."""
    a, b = binary_operands("divide_no_nan", x, y)
    if a.dtype is b.dtype and a.dtype.is_integer:
        target = F64 if a.dtype.bits >= 32 else F32
        a, b = cast(a, target), cast(b, target)
    return _divide_no_nan(a, b)
multiply_no_nan = _float_pair(SB.mul_no_nan_op, "multiply_no_nan",
                              "x * y, and 0 where y == 0 even if x is NaN or inf.")


def reciprocal_no_nan(x: TensorLike, name: str | None = None) -> Tensor:
    """1 / x, and 0 where x == 0 (tf.math.reciprocal_no_nan)."""
    x = to_tensor(x, "reciprocal_no_nan")
    if not x.dtype.is_inexact:  # (no integer promotion here, unlike divide_no_nan: TF's kernel)
        raise op_error("reciprocal_no_nan", f"expected a floating or complex tensor, got {x.type}",
                       TypeError)
    return _divide_no_nan(to_tensor(1, "reciprocal_no_nan", x.dtype), x)


def _zero_divisor(opname: str, y: Tensor) -> None:
    """Eagerly, an integer divisor holding 0 raises TF's error (InternalError, as TF 2.21);
    compiled, XLA's rule applies (x / 0 = -1, x % 0 = x)."""
    if y._buf is None or is_tracing() or not y.dtype.is_integer:
        return
    if not y.numpy().all():
        raise op_error(opname, f"integer division by zero ({y.type} divisor holds 0)",
                       InternalError)


def truncatediv(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x / y rounded toward zero (C's integer division; floats: trunc(x / y)), tf.truncatediv.

    Raises:
        tx.errors.InternalError: eagerly, an integer divisor holding 0 (TF's class).
    """
    a, b = binary_operands("truncatediv", x, y)
    if a.dtype.is_bool:
        raise op_error("truncatediv", f"expected numeric tensors, got {a.type}", TypeError)
    _zero_divisor("truncatediv", b)
    q = bind(E.div_op, a, b)
    if not q.dtype.is_floating:
        return q
    return where(less(q, to_tensor(0, "truncatediv", q.dtype)), ceil(q), floor(q))


def truncatemod(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """The remainder of truncatediv, with the dividend's sign (C's fmod), tf.truncatemod.

    Raises:
        tx.errors.InternalError: eagerly, an integer divisor holding 0 (TF's class).
    """
    a, b = binary_operands("truncatemod", x, y)
    if a.dtype.is_bool:
        raise op_error("truncatemod", f"expected numeric tensors, got {a.type}", TypeError)
    _zero_divisor("truncatemod", b)
    return bind(E.rem_op, a, b)


def realdiv(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x / y for floating tensors (tf.realdiv; TF has no integer kernel: NotFoundError)."""
    a, b = binary_operands("realdiv", x, y)
    if not a.dtype.is_floating:
        raise op_error("realdiv", f"no kernel for {a.type} (floating tensors only; use "
                       "truncatediv or floordiv for integers)", NotFoundError)
    return bind(E.div_op, a, b)


def rint(x: TensorLike, name: str | None = None) -> Tensor:
    """Round to the nearest integer, halves to even (tf.math.rint); floating tensors only."""
    x = to_tensor(x, "rint")
    if not x.dtype.is_floating:
        raise op_error("rint", f"expected a floating tensor, got {x.type}", TypeError)
    return round(x)


def log_sigmoid(x: TensorLike, name: str | None = None) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), without overflow (tf.math.log_sigmoid); its gradient is
    sigmoid(-x) everywhere, 0.5 at 0."""
    x = to_tensor(x, "log_sigmoid")
    if not x.dtype.is_floating:
        raise op_error("log_sigmoid", f"expected a floating tensor, got {x.type}", TypeError)
    zero = to_tensor(0, "log_sigmoid", x.dtype)
    # two smooth branches, each fed only its own side (so neither overflows where unused):
    # x < 0: x - log1p(exp(x)); x >= 0: -log1p(exp(-x))
    neg = less(x, zero)
    lo, hi = where(neg, x, zero), where(neg, zero, x)
    return where(neg, subtract(lo, log1p(exp(lo))), negative(log1p(exp(negative(hi)))))


def add_n(inputs: Any, name: str | None = None) -> Tensor:
    """The elementwise sum of a list of tensors of one dtype and shape (tf.math.add_n)."""
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)) or not inputs:
        raise op_error("add_n", "inputs must be a list of at least one tensor with the same "
                       f"dtype and shape, got {inputs!r:.80}")
    ts = [to_tensor(t, "add_n") for t in inputs]
    first = ts[0]
    for t in ts[1:]:
        if t.dtype is not first.dtype:
            raise op_error("add_n", f"inputs must have one dtype, got {first.type} and {t.type}",
                           TypeError)
        if t.shape.as_list() != first.shape.as_list() and t.shape.is_fully_defined() \
                and first.shape.is_fully_defined():
            raise op_error("add_n", f"inputs must have the same shape, got {first.type} and "
                           f"{t.type}")
    out = first
    for t in ts[1:]:
        out = bind(E.add_op, out, t)
    return out


def accumulate_n(inputs: Any, shape: Any = None, tensor_dtype: Any = None,
                 name: str | None = None) -> Tensor:
    """The elementwise sum of a list of tensors (tf.math.accumulate_n: add_n, with optional
    checks of the expected shape and dtype)."""
    out = add_n(inputs)
    if tensor_dtype is not None and out.dtype.name != getattr(tensor_dtype, "name", tensor_dtype):
        raise op_error("accumulate_n", f"tensor_dtype is {tensor_dtype}, inputs are {out.type}",
                       TypeError)
    if shape is not None and list(shape) != out.shape.as_list():
        raise op_error("accumulate_n", f"shape {list(shape)} does not match the inputs' "
                       f"{out.type}")
    return out


__all__ = [
    "accumulate_n", "add_n", "divide_no_nan", "log_sigmoid", "multiply_no_nan", "realdiv",
    "reciprocal_no_nan", "rint", "truncatediv", "truncatemod", "xdivy",
    "xlog1py", "xlogy",
]
