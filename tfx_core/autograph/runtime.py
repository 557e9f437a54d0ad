"""AutoGraph's runtime: the helpers converted code calls as `__ag__.<name>` (if_stmt, while_stmt,
for_stmt, for_range, flags and returns; comp_iter, comp_range, comp_if and assert_stmt come
from listcomp_assert). Each decides at trace time: a symbolic tensor condition or iterable builds
tx.cond / tx.while_loop, anything else runs the Python statement."""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from jax import tree_util

from compiler.tracing import user_location
from tfx_core.autograph.jumps import FLAG_PREFIXES, RETVAL
from tfx_core.autograph.listcomp_assert import (  # noqa: F401 (called as __ag__.<name>)
    assert_stmt,
    comp_if,
    comp_iter,
    comp_range,
)


class _Undefined:
    def __repr__(self) -> str:
        return "<undefined>"


UNDEFINED = _Undefined()  # a name not bound (yet) where a converted statement starts


# ---------------------------------------------------------------- runtime: values
def vars_of(local: dict, names: tuple) -> tuple:
    return tuple(local.get(n, UNDEFINED) for n in names)


def _symbolic(x: Any) -> bool:
    from tfx_core.framework.tensor import Tensor

    return isinstance(x, Tensor) and x._buf is None


def _what(name: str) -> str:
    return "the return value" if name == RETVAL else f"'{name}'"


def _tensors(values: Any, names: Any, what: str) -> tuple:
    """The values as tensors (leaves of nested tuples/lists/dicts converted one by one)."""
    from tfx_core.framework.convert import convert_to_tensor

    out = []
    for n, v in zip(names, values):
        if v is UNDEFINED:
            raise ValueError(f"{what}: '{n}' must be defined before the statement, because "
                             f"its condition is a tensor ({user_location()})")
        try:
            out.append(tree_util.tree_map(convert_to_tensor, v))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what}: {_what(n)} is a {type(v).__name__}; variables a tensor-"
                            f"dependent statement changes must be tensors ({user_location()})"
                            ) from e
    return tuple(out)


def _types(v: Any) -> Any:
    """v's structure with each (tensor) leaf replaced by its TensorType."""
    return tree_util.tree_map(lambda t: t._type, v)


def _same_types(a: Any, b: Any) -> bool:
    """Same structure and leaf types (compared flat: pytree nodes such as tx.TensorArray need
    not define ==)."""
    return tree_util.tree_structure(a) == tree_util.tree_structure(b) and \
        tree_util.tree_leaves(a) == tree_util.tree_leaves(b)


def _describe(types: Any) -> str:
    leaves, tree = tree_util.tree_flatten(types)
    if tree_util.treedef_is_leaf(tree):
        return str(leaves[0]) if leaves else "None"
    return f"{type(types).__name__} of [{', '.join(str(t) for t in leaves)}]"


def _zeros(types: Any) -> Any:
    from tfx_core.ops.array_ops import zeros

    return tree_util.tree_map(lambda t: zeros(t.shape, t.dtype), types)


def _probe(fn: Callable, args: tuple) -> list:
    """Run fn(*args) in a throw-away region trace: its outputs' types (UNDEFINED stays). How a
    return value first set inside a tensor `if` / loop gets the type of its placeholder."""
    from compiler.interpreters import trace_scope
    from tfx_core.framework.convert import convert_to_tensor
    from tfx_core.framework.variables import active_trace
    from tfx_core.polymorphic_function.tracer import RegionTracer

    probe = RegionTracer("autograph_probe", active_trace())
    with trace_scope(probe), _returns_run(keep=False):
        return [v if v is UNDEFINED else
                _types(tree_util.tree_map(convert_to_tensor, v)) for v in fn(*args)]


# ---------------------------------------------------------------- runtime: flags and returns
def not_any(*flags: Any) -> Any:
    """True while no flag is set: a Python bool, or a bool tensor if a flag is symbolic."""
    symbolic = []
    for f in flags:
        if _symbolic(f):
            symbolic.append(f)
        elif f:
            return False
    if not symbolic:
        return True
    from tfx_core.ops.math_ops import logical_not, logical_or

    return logical_not(functools.reduce(logical_or, symbolic))


def and_(a: Any, b: Callable[[], Any]) -> Any:
    """`a and b()`: Python's (b() not evaluated when a is false) unless a side is symbolic."""
    if not _symbolic(a):
        return b() if a else a
    other = b()
    if not _symbolic(other):
        return a if other else other
    from tfx_core.ops.math_ops import logical_and

    return logical_and(a, other)


def or_(a: Any, b: Callable[[], Any]) -> Any:
    """`a or b()`: Python's (b() not evaluated when a is true) unless a side is symbolic."""
    if not _symbolic(a):
        return a if a else b()
    other = b()
    if not _symbolic(other):
        return other if other else a
    from tfx_core.ops.math_ops import logical_or

    return logical_or(a, other)


def not_(a: Any) -> Any:
    """`not a`: tx.logical_not for a symbolic tensor."""
    if not _symbolic(a):
        return not a
    from tfx_core.ops.math_ops import logical_not

    return logical_not(a)


def if_exp(test: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """`a if test else b`: Python's (one side evaluated) unless test is a symbolic tensor, then
    tx.cond(test, true_fn, false_fn) (both sides traced, as TF's AutoGraph)."""
    if not _symbolic(test):
        return true_fn() if test else false_fn()
    from tfx_core.ops.control_flow_ops import cond

    return cond(test, true_fn, false_fn)


def py_cond(test: Any, why: str) -> Any:
    """The test of a statement left as Python: itself, or a clear error if it is a tensor."""
    if _symbolic(test):
        raise TypeError(f"{why} ({user_location()})")
    return test


_RETURNS: list[list[str]] = []  # per tensor-`if` branch being traced: the returns it ran


@contextlib.contextmanager
def _returns_run(keep: bool = True) -> Iterator[list[str]]:
    """Collect the lines of the returns run inside (kept for the enclosing branch too)."""
    seen: list[str] = []
    _RETURNS.append(seen)
    try:
        yield seen
    finally:
        _RETURNS.pop()
        if _RETURNS and keep:
            _RETURNS[-1].extend(seen)


def ret(value: Any) -> Any:
    """A lowered `return value`: the value (noting the line, for errors about branches)."""
    if _RETURNS:
        _RETURNS[-1].append(user_location() or "?")
    return value


def retval(do_return: Any, value: Any, always: bool, where: str) -> Any:
    """The function's result at its end: the returned value, or None if none was returned."""
    if value is UNDEFINED:
        return None
    if _symbolic(do_return) and not always and tree_util.tree_leaves(value):
        raise ValueError(
            f"{where}: depending on a tensor condition, some paths return a value and others "
            "reach the end of the function (returning None), which a traced function cannot "
            "do; end the function with a `return` giving the same structure, dtype and shape "
            f"({user_location()})")
    return value


# ---------------------------------------------------------------- runtime: if
def if_stmt(test: Any, true_fn: Callable, false_fn: Callable, values: tuple, names: tuple,
            guard: bool = False) -> tuple:
    """`if test:` over the branch functions of `names` (`guard`: AutoGraph's `if not jumped:`
    around the statements after a jump, whose else is the path that jumped)."""
    if _symbolic(test):
        from tfx_core.polymorphic_function.tracer import get_static_value

        static = get_static_value(test)
        if static is None:
            return _tensor_if(test, true_fn, false_fn, values, names, guard)
        test = bool(static)
    return true_fn(*values) if test else false_fn(*values)


def _tensor_if(test: Any, true_fn: Callable, false_fn: Callable, values: tuple, names: tuple,
               guard: bool) -> tuple:
    """tx.cond over the two branch functions. A name neither branch sets stays undefined. A
    name only one branch sets is an error, unless it is the return value or the other branch
    jumped (break / continue / return): then the value is never read on that path, and is
    zeros of the set value's type there. Flags both branches set to the same Python bool stay
    that bool."""
    from tfx_core.ops.control_flow_ops import cond

    seen: dict[str, list] = {}  # branch -> its values
    returns: dict[str, list[str]] = {}  # branch -> the returns it ran
    carried: dict[str, bool] = {}  # name -> a cond output? (decided by the 1st branch traced)
    types: dict[str, Any] = {}  # name -> the 1st traced branch's output types
    first: list[str] = []

    def jumped(which: str, out: list) -> bool:
        return (guard and which == "false") or any(
            n != RETVAL and n.startswith(FLAG_PREFIXES) and v is not False
            for n, v in zip(names, out))

    def fillable(n: str, which: str, out: list) -> bool:
        return n == RETVAL or jumped(which, out)

    def branch(which: str, fn: Callable, other: Callable) -> Callable:
        def run() -> tuple:
            with _returns_run() as rets:
                out = list(fn(*values))
            seen[which], returns[which] = out, rets
            if not first:
                first.append(which)
                theirs: list | None = None
                for k, (n, v) in enumerate(zip(names, out)):
                    carried[n] = v is not UNDEFINED
                    if v is UNDEFINED and fillable(n, which, out):
                        theirs = _probe(other, values) if theirs is None else theirs
                        if theirs[k] is not UNDEFINED:
                            carried[n], out[k] = True, _zeros(theirs[k])
            else:
                missing = [n for n, v in zip(names, out) if carried[n] and v is UNDEFINED
                           and not fillable(n, which, out)]
                extra = [n for n, v in zip(names, out) if not carried[n] and v is not UNDEFINED]
                if missing or extra:
                    side = which if missing else first[0]
                    raise ValueError(f"if on a tensor: {missing or extra} must be set in both "
                                     f"branches (the {side} branch leaves them undefined) "
                                     f"({user_location()})")
                out = [_zeros(types[n]) if carried[n] and v is UNDEFINED else v
                       for n, v in zip(names, out)]
            keep = [n for n in names if carried[n]]
            res = _tensors([v for n, v in zip(names, out) if carried[n]], keep, "if on a tensor")
            for n, v in zip(keep, res):
                if first[0] == which:
                    types[n] = _types(v)
                elif not _same_types(_types(v), types[n]):
                    raise TypeError(_branch_mismatch(n, first[0], types[n], which, _types(v),
                                                     returns))
            # NOTE: a cond with no outputs trips the passes: give it a dummy one
            return res or (False,)
        return run

    outs = iter(cond(test, branch("true", true_fn, false_fn),
                     branch("false", false_fn, true_fn)))
    result = []
    for k, n in enumerate(names):
        if not carried[n]:
            result.append(values[k])
            continue
        v, a, b = next(outs), seen["true"][k], seen["false"][k]
        same_flag = n != RETVAL and n.startswith(FLAG_PREFIXES) and \
            isinstance(a, bool) and isinstance(b, bool) and a == b
        result.append(a if same_flag else v)
    return tuple(result)


def _branch_mismatch(name: str, a: str, ta: Any, b: str, tb: Any,
                     returns: dict[str, list[str]]) -> str:
    if name != RETVAL:
        return (f"if on a tensor: '{name}' is {_describe(ta)} in the {a} branch but "
                f"{_describe(tb)} in the {b} branch; both branches must give it the same "
                f"structure, dtype and shape ({user_location()})")

    def origin(which: str) -> str:
        rets = returns[which]
        return f"`return` at {', '.join(rets)}" if rets else "set before this `if`"

    return (f"if on a tensor: the {a} branch returns {_describe(ta)} ({origin(a)}) but the {b} "
            f"branch returns {_describe(tb)} ({origin(b)}); every `return` under a tensor "
            f"condition must give the same structure, dtype and shape ({user_location()})")


# ---------------------------------------------------------------- runtime: loops
def _loop_state(values: list, names: tuple, what: str,
                probe_body: Callable) -> tuple[list[int], tuple]:
    """The indices of the names a tensor loop carries, and their initial tensors. A return
    value first set inside the loop starts as zeros of the type one (probe) trace of the body
    gives it; if the body sets nothing there, it is not carried."""
    for n, v in zip(names, values):
        if v is UNDEFINED and n != RETVAL:
            raise ValueError(f"{what}: {_what(n)} is set in the loop and read after it (or by "
                             f"a later iteration), so it must be defined before the loop, with "
                             f"the dtype and shape the loop gives it ({user_location()})")
    late = [k for k, (n, v) in enumerate(zip(names, values)) if n == RETVAL and v is UNDEFINED]
    keep = [k for k in range(len(names)) if k not in late]
    if late:
        entry = list(values)
        for k, t in zip(keep, _tensors([values[k] for k in keep], [names[k] for k in keep],
                                       what)):
            entry[k] = t
        probed = _probe(probe_body, tuple(entry))
        for k in late:
            if probed[k] is not UNDEFINED:
                values[k] = _zeros(probed[k])
                keep.append(k)
        keep.sort()
    return keep, _tensors([values[k] for k in keep], [names[k] for k in keep], what)


def _carry(values: list, names: tuple, keep: list[int], init: tuple,
           what: str) -> tuple[Callable, Callable]:
    """(full, carried): the names' tuple rebuilt around the carried tensors, and the carried
    tensors of an iteration's result (checked to keep each name's structure, dtype, shape)."""
    entry = [_types(v) for v in init]

    def full(c: tuple) -> tuple:
        out = list(values)
        for k, v in zip(keep, c):
            out[k] = v
        return tuple(out)

    def carried(out: tuple) -> tuple:
        for k, v in enumerate(out):
            if k not in keep and v is not values[k]:
                raise ValueError(f"{what}: {_what(names[k])} is first set inside the loop; "
                                 f"define it before the loop ({user_location()})")
        res = _tensors([out[k] for k in keep], [names[k] for k in keep], what)
        for k, v, t in zip(keep, res, entry):
            if not _same_types(_types(v), t):
                raise TypeError(f"{what}: {_what(names[k])} enters the loop as {_describe(t)} "
                                f"but an iteration makes it {_describe(_types(v))}; it must "
                                f"keep its structure, dtype and shape ({user_location()})")
        return res

    return full, carried


def while_stmt(cond_fn: Callable, body_fn: Callable, values: tuple, names: tuple) -> tuple:
    test = cond_fn(*values)
    while not _symbolic(test):
        if not test:
            return values
        values = tuple(body_fn(*values))
        test = cond_fn(*values)
    # NOTE: a test that became a tensor (e.g. `while True:` with a break on a tensor) runs
    # the remaining iterations as a while_loop from the current values
    from tfx_core.ops.control_flow_ops import while_loop

    what = "while on a tensor"
    from tfx_core.ops.tensor_array import loop_carried, needs_loop_preparation

    if needs_loop_preparation(values):  # TensorArrays: element shapes, dynamic_size capacity
        with loop_carried(values, lambda v: body_fn(*v), None, what) as ready:
            return while_stmt(cond_fn, body_fn, tuple(ready), names)
    vals = list(values)
    keep, init = _loop_state(vals, names, what, body_fn)
    full, carried = _carry(vals, names, keep, init, what)
    out = while_loop(lambda *c: cond_fn(*full(c)), lambda *c: carried(body_fn(*full(c))), init)
    return full(out)


def _python_stop(stop_fn: Callable | None, values: tuple) -> bool:
    if stop_fn is None:
        return False
    go = stop_fn(*values)
    if _symbolic(go):
        raise TypeError(f"for over a Python iterable: a `break` or `return` under a tensor "
                        f"condition cannot stop a Python loop; loop over `tx.range(n)` or a "
                        f"tensor to make it a tx.while_loop ({user_location()})")
    return not go


def for_stmt(iterable: Any, body_fn: Callable, stop_fn: Callable | None, values: tuple,
             names: tuple, target: bool = False) -> tuple:
    """`for x in iterable:` (`target`: names[0] is x): over a symbolic tensor, a while_loop
    over its rows; otherwise a Python loop. `stop_fn(*values)` false ends it (break/return)."""
    if not _symbolic(iterable):
        for item in iterable:
            values = tuple(body_fn(item, *values))
            if _python_stop(stop_fn, values):
                break
        return values
    from tfx_core.framework.convert import convert_to_tensor
    from tfx_core.ops.control_flow_ops import take_row

    n = iterable.shape[0] if iterable.shape.rank else None
    if n is None:
        raise TypeError(f"for over a tensor needs a static leading dimension, got "
                        f"{iterable._type} ({user_location()})")
    # the loop variable starts as row 0 (its value if the loop never runs is unused)
    vals = [take_row(iterable, convert_to_tensor(0)) if k == 0 and target and v is UNDEFINED
            else v for k, v in enumerate(values)]
    return _counted_loop(lambda i, *v: body_fn(take_row(iterable, i), *v), stop_fn, vals, names,
                         convert_to_tensor(0), n, 1, n, "for over a tensor")


def for_range(args: tuple, body_fn: Callable, stop_fn: Callable | None, values: tuple,
              names: tuple, target: bool = False) -> tuple:
    """`for i in tx.range(...)`: in a trace, a while_loop over an int32 counter (the bounds
    may be tensors); otherwise a Python range loop."""
    from tfx_core.framework.variables import active_trace

    if active_trace() is None:
        for item in range(*[int(a) for a in args]):
            values = tuple(body_fn(item, *values))
            if _python_stop(stop_fn, values):
                break
        return values
    from tfx_core.framework.convert import convert_to_tensor
    from tfx_core.polymorphic_function.tracer import get_static_value

    start, limit, delta = (0, args[0], 1) if len(args) == 1 else \
        (args[0], args[1], 1) if len(args) == 2 else args
    d = get_static_value(convert_to_tensor(delta)) if not isinstance(delta, int) else delta
    if d is None or int(d) == 0:
        raise ValueError(f"for over tx.range: the step must be a non-zero constant "
                         f"({user_location()})")
    d = int(d)
    start, limit = convert_to_tensor(start), convert_to_tensor(limit)
    s0, l0 = get_static_value(start), get_static_value(limit)
    trips = max(-(-(int(l0) - int(s0)) // d), 0) if s0 is not None and l0 is not None \
        else None
    vals = [start if k == 0 and target and v is UNDEFINED else v for k, v in enumerate(values)]
    return _counted_loop(body_fn, stop_fn, vals, names, start, limit, d, trips,
                         "for over tx.range")


def _counted_loop(body_fn: Callable, stop_fn: Callable | None, vals: list, names: tuple,
                  start: Any, limit: Any, d: int, trips: int | None, what: str) -> tuple:
    """A while_loop of body_fn(i, *values) for i = start, start + d, ... before `limit`,
    stopping early once stop_fn(*values) is false; `trips` (static) enables gradients."""
    from tfx_core.ops.control_flow_ops import while_loop
    from tfx_core.ops.math_ops import greater, less
    from tfx_core.ops.tensor_array import loop_carried, needs_loop_preparation

    if needs_loop_preparation(vals):  # TensorArrays: element shapes, dynamic_size capacity
        with loop_carried((start, *vals), lambda v: body_fn(*v), trips, what) as ready:
            return _counted_loop(body_fn, stop_fn, list(ready[1:]), names, start, limit, d,
                                 trips, what)
    keep, init = _loop_state(vals, names, what, lambda *v: body_fn(start, *v))
    full, carried = _carry(vals, names, keep, init, what)

    def more(i: Any, *c: Any) -> Any:
        go = less(i, limit) if d > 0 else greater(i, limit)
        return go if stop_fn is None else and_(go, lambda: stop_fn(*full(c)))

    def body(i: Any, *c: Any) -> tuple:
        return (i + d, *carried(body_fn(i, *full(c))))

    out = while_loop(more, body, (start, *init), maximum_iterations=trips)
    return full(out[1:])
