"""Argument rules shared by the op families: errors that name the public op and the user's line,
and shape/axis arguments that must be known at trace time (Python ints, arrays, eager tensors)."""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from compiler.tracing import op_location
from runtime.errors import OpError, invalid_argument
from tfx_core.framework.tensor import Tensor


def op_error(name: str, msg: str, cls: type = ValueError) -> Exception:
    """An exception of `cls` naming the public op `name` and the user's file:line (TF's
    `tx.errors` classes take the message as their third argument, as TF's do)."""
    loc = op_location()  # the user's file:line, and the tx.name_scope path inside one
    text = f"{name}: {msg}" + (f" ({loc})" if loc else "")
    if cls in (ValueError, IndexError):  # bad values and indices: InvalidArgumentError, as TF
        cls = invalid_argument(cls)
    return cls(None, None, text) if issubclass(cls, OpError) else cls(text)


def concrete_value(v: Tensor, name: str, what: str) -> np.ndarray:
    """The value of `v`, which must be known at trace time (eager, or a constant in a trace)."""
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    a = get_static_value(v)
    if a is None:
        raise op_error(
            name,
            f"{what} must be known at trace time, got a symbolic tensor ({v.type}) whose value "
            "depends on the function's inputs; pass Python ints (e.g. from x.shape, with -1 "
            "for reshape)",
            TypeError,
        )
    return a


def static_int(v: Any, name: str, what: str) -> int:
    """One int argument: a Python/numpy int or an integer scalar tensor known at trace time."""
    if isinstance(v, Tensor):
        a = concrete_value(v, name, what)
        if a.dtype.kind not in "iu" or a.size != 1:
            raise op_error(name, f"{what} must be an integer scalar, got {v.type}", TypeError)
        return int(a.reshape(()))
    if v is None:
        raise op_error(
            name, f"{what} contains an unknown (None) dim; use -1 (reshape) or the *_like ops",
            TypeError,
        )
    if isinstance(v, (bool, np.bool_)):
        raise op_error(name, f"{what} must contain ints, got {v!r}", TypeError)
    try:
        return operator.index(v)
    except TypeError:
        raise op_error(name, f"{what} must contain ints, got {v!r}", TypeError) from None


def static_ints(v: Any, name: str, what: str) -> tuple[int, ...]:
    """A shape/axes argument as Python ints: list, tuple, TensorShape, array or eager Tensor."""
    if isinstance(v, Tensor):
        v = concrete_value(v, name, what)
    if isinstance(v, np.ndarray):
        if v.ndim > 1 or (v.dtype.kind not in "iu" and v.size):
            raise op_error(name, f"{what} must be a 1-D list of ints, got {v!r}", TypeError)
        return tuple(int(d) for d in v.reshape(-1))
    if isinstance(v, (list, tuple)):
        return tuple(static_int(d, name, what) for d in v)
    return (static_int(v, name, what),)


def axis_values(name: str, axis: Any) -> list:
    """An axis argument as a list of values (ints, numpy ints, or values of a known tensor)."""
    if isinstance(axis, Tensor):
        from tfx_core.polymorphic_function.tracer import get_static_value

        value = get_static_value(axis)
        if value is None:
            raise op_error(name, f"axis must be known at trace time, got a symbolic {axis.type} "
                           "that depends on the function's inputs", TypeError)
        axis = value
    if isinstance(axis, np.ndarray):
        axis = axis.tolist()
    if isinstance(axis, (list, tuple)):
        return list(axis)
    return [axis]
