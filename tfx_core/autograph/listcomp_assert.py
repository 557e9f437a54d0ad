"""AutoGraph's runtime for comprehensions over tensors (unrolled at trace time) and `assert`.

Comprehensions. TF's AutoGraph does not convert comprehensions: inside a tf.function the
iterable of `[f(i) for i in tf.range(n)]` is a graph tensor, and iterating one raises
OperatorNotAllowedInGraphError ("Iterating over a symbolic `tf.Tensor` is not allowed"), even
for a constant n; eagerly the same line gives a Python list of scalar tensors (recorded from
TF 2.21 in tests/oracles/autograph.json). We keep the eager answer under @tx.function whenever
it exists at trace time: a symbolic iterable of static length is unrolled into that many
traced rows (a statically known value into constants), so compiled code gives the list eager
code gives. When the length is a run-time value (`tx.range(n)` with a tensor `n`, a leading
`None` dim) no Python list can hold the result, and the error says so and names the
alternatives (a `for` loop over `tx.range(n)`, which becomes a while_loop, or tx.map_fn).

Asserts. TF's AutoGraph turns `assert test, msg` into `ag__.assert_stmt(test, lambda: msg)`,
staging tf.debugging.Assert(test, [msg]) when `test` is a tensor and running Python's assert
otherwise; assert_stmt does the same with tx.debugging.Assert (checked at run time, compiled
too, raising tx.errors.InvalidArgumentError). As in TF, a tensor assert is kept under
`python -O`, where Python asserts are skipped.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compiler.tracing import user_location

__all__ = ["assert_stmt", "comp_if", "comp_iter", "comp_range"]

_ALTERNATIVES = ("a Python list needs its length while tracing. Loop with `for i in "
                 "tx.range(n):` (a tx.while_loop; collect rows in a tx.TensorArray or by "
                 "updating a preallocated tensor), or use tx.map_fn over a tensor")


def _symbolic(x: Any) -> bool:
    from tfx_core.framework.tensor import Tensor

    return isinstance(x, Tensor) and x._buf is None


def comp_range(fn: Callable, args: tuple) -> Any:
    """The iterable of `for i in <mod>.range(*args)` in a comprehension: `fn(*args)` through
    comp_iter, with a clear error first when it is tx.range and a bound is a run-time value."""
    from tfx_core.ops.array_ops import range as tx_range
    from tfx_core.polymorphic_function.tracer import get_static_value

    if fn is tx_range:
        dynamic = [a for a in args if _symbolic(a) and get_static_value(a) is None]
        if dynamic:
            raise TypeError(
                f"a comprehension over tx.range with a bound known only at run time "
                f"({', '.join(str(a._type) for a in dynamic)}) cannot be unrolled while "
                f"tracing: {_ALTERNATIVES} ({user_location()})")
    return comp_iter(fn(*args))


def comp_iter(iterable: Any) -> Any:
    """The iterable of a comprehension: itself, unless it is a symbolic tensor; then its rows
    (constants if its value is known at trace time), or a clear error if its length is not."""
    if not _symbolic(iterable):
        return iterable
    from tfx_core.framework.convert import convert_to_tensor
    from tfx_core.polymorphic_function.tracer import get_static_value

    shape = iterable._type.shape
    if not shape or shape[0] is None:
        what = "a 0-d tensor" if not shape else "a tensor whose first dimension is unknown " \
            "while tracing"
        raise TypeError(f"a comprehension iterates over {what} ({iterable._type}): "
                        f"{_ALTERNATIVES} ({user_location()})")
    static = get_static_value(iterable)
    if static is not None:
        return [convert_to_tensor(row) for row in static]
    return [iterable[k] for k in range(shape[0])]


def comp_if(test: Any) -> Any:
    """A comprehension's `if test`: itself, or a symbolic tensor's value when it is known at
    trace time (e.g. `i % 2 == 0` over the constant counters of a static tx.range)."""
    if not _symbolic(test):
        return test
    from tfx_core.polymorphic_function.tracer import get_static_value

    static = get_static_value(test)
    if static is None:
        raise TypeError(f"a comprehension's `if` depends on a run-time tensor ({test._type}), "
                        f"so the list's length is unknown while tracing; select with "
                        f"tx.where(cond, x, y), or tx.boolean_mask outside tx.function "
                        f"({user_location()})")
    return bool(static)


def assert_stmt(test: Any, msg: Callable[[], Any]) -> Any:
    """`assert test, msg()`: tx.debugging.Assert(test, [msg()]) for a tensor test (as TF's
    AutoGraph), Python's assert otherwise (msg evaluated only when it fails)."""
    from tfx_core.framework.tensor import Tensor

    if not isinstance(test, Tensor):
        if __debug__ and not test:
            m = msg()
            raise AssertionError() if m is None else AssertionError(m)
        return None
    from tfx_core import debugging

    check = getattr(debugging, "Assert", None)
    if check is None:  # NOTE: tx.debugging is being written alongside; say so, don't skip
        raise NotImplementedError(f"`assert` on a tensor needs tx.debugging.Assert, which this "
                                  f"build does not have yet ({user_location()})")
    data = msg()
    if data is None:
        data = ["Assertion error"]  # TF's default message for a bare `assert t`
    elif not isinstance(data, (list, tuple)):
        data = [data]
    return check(test, list(data))
