"""`tx.debugging.assert_*` and `tx.debugging.Assert`: value checks at run time, also compiled.

Values are checked at run time (inside compiled code the check is a conditional that calls the
host only when it fails) and raise tx.errors.InvalidArgumentError with the user's message, the
offending values (summarized) and the user's file:line. Static facts (ranks, shapes, dtypes)
are checked while tracing, as TensorFlow does.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from compiler.tracing import user_location
from runtime import errors
from tfx_core.debugging.effects import emit_assert
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.dtypes import DType
from tfx_core.framework.tensor import Tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R


def _where() -> str:
    return user_location() or ""


def _summarize(summarize: int | None) -> int:
    return 3 if summarize is None else int(summarize)


def _desc(name: str, t: Tensor) -> str:
    shape = tuple(d if d is not None else None for d in t.shape.as_list()) \
        if t.shape.rank is not None else None
    return f"{name} (shape={shape} dtype={t.dtype.name}) = \n"


def Assert(condition: Any, data: Sequence[Any], summarize: int | None = None,  # noqa: N802
           name: str | None = None) -> None:
    """Raise InvalidArgumentError showing `data` when `condition` (a bool scalar) is false."""
    pred = convert_to_tensor(condition)
    if not pred.dtype.is_bool or pred.shape.rank != 0:
        raise errors.InvalidArgumentError(None, None, f"Assert: condition must be a bool scalar, "
                                          f"got {pred._type} ({_where()})")
    items: list[Any] = ["assertion failed: "]
    for i, d in enumerate(data):  # TF's text: each item in brackets, a tensor's own count
        t = d if isinstance(d, str) else convert_to_tensor(d)
        bare = isinstance(t, str) or t.shape.rank == 0
        items += [" " if i else ""] + (["[", t, "]"] if bare else [t])
    emit_assert(pred, items, summarize=_summarize(summarize), where=_where())


def _comparison(symbol: str, fn: Callable) -> Callable:
    def check(x: Any, y: Any, message: str | None = None, summarize: int | None = None,
              name: str | None = None) -> None:
        x = convert_to_tensor(x)
        y = convert_to_tensor(y) if isinstance(y, Tensor) else convert_to_tensor(y, x.dtype)
        if x.dtype != y.dtype:
            raise TypeError(f"assert x {symbol} y: x is {x.dtype.name} but y is {y.dtype.name}; "
                            f"both must have the same dtype ({_where()})")
        holds = R.reduce_all(fn(x, y))
        emit_assert(holds, [f"Condition x {symbol} y did not hold element-wise:\n",
                            _desc("x", x), x, "\n", _desc("y", y), y],
                    message=message or "", summarize=_summarize(summarize), where=_where())

    check.__name__ = {"==": "assert_equal", "!=": "assert_none_equal", "<": "assert_less",
                      "<=": "assert_less_equal", ">": "assert_greater",
                      ">=": "assert_greater_equal"}[symbol]
    check.__doc__ = f"Raise InvalidArgumentError unless x {symbol} y holds element-wise."
    return check


assert_equal = _comparison("==", M.equal)
assert_none_equal = _comparison("!=", M.not_equal)
assert_less = _comparison("<", M.less)
assert_less_equal = _comparison("<=", M.less_equal)
assert_greater = _comparison(">", M.greater)
assert_greater_equal = _comparison(">=", M.greater_equal)


def _sign_check(symbol: str, fn: Callable, doc: str) -> Callable:
    def check(x: Any, message: str | None = None, summarize: int | None = None,
              name: str | None = None) -> None:
        x = convert_to_tensor(x)
        holds = R.reduce_all(fn(x, convert_to_tensor(0, x.dtype)))
        emit_assert(holds, [f"Condition x {symbol} 0 did not hold element-wise:\n",
                            _desc("x", x), x], message=message or "",
                    summarize=_summarize(summarize), where=_where())

    check.__doc__ = doc
    return check


assert_non_negative = _sign_check(">=", M.greater_equal, "Raise unless every x >= 0.")
assert_positive = _sign_check(">", M.greater, "Raise unless every x > 0.")
assert_negative = _sign_check("<", M.less, "Raise unless every x < 0.")
assert_non_positive = _sign_check("<=", M.less_equal, "Raise unless every x <= 0.")


def assert_near(x: Any, y: Any, rtol: Any = None, atol: Any = None, message: str | None = None,
                summarize: int | None = None, name: str | None = None) -> None:
    """Raise unless |x - y| <= atol + rtol * |y| element-wise (defaults: 10 * eps of the
    dtype, as TF)."""
    x = convert_to_tensor(x)
    y = convert_to_tensor(y, x.dtype) if not isinstance(y, Tensor) else y
    if x.dtype != y.dtype or not x.dtype.is_floating:
        raise TypeError(f"assert_near: x and y must be floating tensors of one dtype, got "
                        f"{x.dtype.name} and {y.dtype.name} ({_where()})")
    eps = float(np.finfo(x.dtype.np_dtype).eps)
    rtol = 10 * eps if rtol is None else rtol
    atol = 10 * eps if atol is None else atol
    tol = M.add(convert_to_tensor(atol, x.dtype),
                M.multiply(convert_to_tensor(rtol, x.dtype), M.abs(y)))
    holds = R.reduce_all(M.less_equal(M.abs(M.subtract(x, y)), tol))
    emit_assert(holds, [f"x and y not equal to tolerance rtol = {rtol}, atol = {atol}\n",
                        _desc("x", x), x, "\n", _desc("y", y), y], message=message or "",
                summarize=_summarize(summarize), where=_where())


# ---------------------------------------------------------------- static facts
def _static_fail(message: str | None, text: str, cls: type = ValueError) -> Exception:
    full = "\n".join(s for s in (message, text) if s) + f" ({_where()})"
    if cls is ValueError:
        return errors.InvalidArgumentError(None, None, full)
    return cls(full)


def assert_rank(x: Any, rank: int, message: str | None = None, name: str | None = None) -> None:
    """Raise (now: ranks are known while tracing) unless x has rank `rank`."""
    x = convert_to_tensor(x)
    if x.shape.rank != int(rank):
        raise _static_fail(message, f"Tensor x must have rank {int(rank)}. Received rank "
                           f"{x.shape.rank}, shape {x.shape}")


def assert_rank_at_least(x: Any, rank: int, message: str | None = None,
                         name: str | None = None) -> None:
    """Raise unless x has rank >= `rank`."""
    x = convert_to_tensor(x)
    if x.shape.rank < int(rank):
        raise _static_fail(message, f"Tensor x must have rank at least {int(rank)}. Received "
                           f"rank {x.shape.rank}, shape {x.shape}")


def assert_type(tensor: Any, tf_type: Any, message: str | None = None,
                name: str | None = None) -> None:
    """Raise TypeError unless the tensor's dtype is `tf_type`."""
    t = convert_to_tensor(tensor)
    want = DType.from_any(tf_type)
    if t.dtype != want:
        raise _static_fail(message, f"tensor must be of type {want.name}, got {t.dtype.name}",
                           TypeError)


def assert_shapes(shapes: Any, data: Any = None, summarize: int | None = None,
                  message: str | None = None, name: str | None = None) -> None:
    """Check shapes (tf.debugging.assert_shapes): a list of (tensor, shape) pairs (or a dict
    tensor -> shape); a shape entry is an int, a symbol (a str naming a dim that must agree
    across tensors) or None / '.' (any), and a leading '...' / '*' allows any leading dims."""
    pairs = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    dims: dict[str, tuple[int, str]] = {}
    for k, (x, spec) in enumerate(pairs):
        t = convert_to_tensor(x)
        spec = list(spec) if not isinstance(spec, str) else list(spec.replace(" ", ""))
        actual = t.shape.as_list()
        any_prefix = bool(spec) and spec[0] in ("...", "*")
        spec = spec[1:] if any_prefix else spec
        if (len(actual) < len(spec)) if any_prefix else (len(actual) != len(spec)):
            raise _static_fail(message, f"tensor {k} must have rank {len(spec)}"
                               f"{' or more' if any_prefix else ''}; received shape "
                               f"{tuple(actual)}")
        for d, want in zip(actual[len(actual) - len(spec):], spec):
            if want is None or want == "." or d is None:
                continue
            if isinstance(want, str) and not want.lstrip("-").isdigit():
                seen = dims.setdefault(want, (d, f"tensor {k}"))
                if seen[0] != d:
                    shapes_seen = [tuple(convert_to_tensor(p[0]).shape.as_list()) for p in pairs]
                    raise _static_fail(message, f"dimension {want!r} is {d} in tensor {k} but "
                                       f"{seen[0]} in {seen[1]}; received shapes {shapes_seen}")
            elif int(want) != d:
                raise _static_fail(message, f"tensor {k} must have size {int(want)} in a "
                                   f"dimension where it has {d}; received shape {tuple(actual)}")


def assert_scalar(tensor: Any, message: str | None = None, name: str | None = None) -> None:
    """Raise unless the tensor is a scalar (rank 0)."""
    assert_rank(tensor, 0, message)


def assert_all_finite(t: Any, message: str, name: str | None = None, x: Any = None) -> Tensor:
    """Raise unless every element is finite; returns the tensor (tf.debugging.assert_all_finite)."""
    from tfx_core.debugging.numerics import check_numerics

    return check_numerics(t if x is None else x, message)
