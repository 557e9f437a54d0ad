"""`tx.cond`, `tx.switch_case`, `tx.while_loop`: Python control flow eagerly, regions in a trace.

Inside `@tx.function` each branch / the loop's cond and body is traced once into a nested graph
(a region). Tensors a region uses from the enclosing trace, closed-over tensors and Variables
become extra operands of the `case` / `while` op; loop-invariant ones are carried unchanged.
Eagerly (no trace) the Python functions simply run, as in TensorFlow.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jax import tree_util

from compiler.interpreters import bind, trace_scope
from compiler.ir.graph import Graph, Value
from compiler.ir.types import BOOL, I32, TensorType
from compiler.ops.control_flow import case_op, while_op
from compiler.tracing import user_location
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import active_trace
from tfx_core.ops.tensor_array import loop_carried, needs_loop_preparation
from tfx_core.polymorphic_function.tracer import (
    RegionTracer,
    TraceInterpreter,
    get_static_value,
    slot_key,
    trace_callable,
)

__all__ = ["cond", "foldl", "map_fn", "scan", "switch_case", "while_loop"]


def _trace(fn: Callable, args: Sequence[Any], in_types: Sequence[TensorType], name: str,
           parent: TraceInterpreter, what: str) -> tuple[Graph, list[Tensor], Any, list]:
    """Trace fn(*args-structured inputs) into a region: (graph, captured tensors, out tree,
    assigned variables as (variable, slot key)); the graph's outputs are fn's results followed
    by the assigned variables' final values."""
    sub = RegionTracer(name, parent)
    tree = tree_util.tree_structure(args)
    inputs = [sub.new_input(t) for t in in_types]
    call_args = tree_util.tree_unflatten(tree, inputs) if args is not None else ()
    values, out_tree = trace_callable(sub, fn, call_args, {}, lambda x: _region_output(x, what))
    assigned = [(var, key) for var, _, key in sub.assigned.values()]
    values += [t._value for _, t, _ in sub.assigned.values()]
    graph = sub.trace.builder.build(values)
    return graph, [p for p, _ in sub.trace.captures], out_tree, assigned


def _region_output(x: Any, what: str) -> Tensor:
    try:
        return convert_to_tensor(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} returned {type(x).__name__} {x!r}; it must return "
                        "tensors (or nested tuples/lists/dicts of them)") from e


def _with_operands(g: Graph, own: list[Tensor], n_explicit: int, union: dict[tuple, Tensor],
                   n_results: int, assigned: list, carried: Sequence[tuple]) -> Graph:
    """`g` taking the explicit inputs plus every operand in `union` (unused ones unused), and
    returning its first `n_results` outputs plus one per key in `carried`: the region's
    assigned value for that slot, else the operand unchanged (loop invariants, variables
    another branch assigns)."""
    mine = {slot_key(t): v for t, v in zip(own, g.inputs[n_explicit:])}
    extra = {k: mine.get(k) or Value(t._type) for k, t in union.items()}
    set_here = {key: g.outputs[n_results + i] for i, (_, key) in enumerate(assigned)}
    outputs = g.outputs[:n_results] + tuple(set_here.get(k, extra[k]) for k in carried)
    return Graph(g.inputs[:n_explicit] + tuple(extra.values()), g.ops, outputs, g.name)


def _assigned_union(*assigned_lists: list) -> dict[tuple, Any]:
    """slot key -> variable, for every variable some region assigns (first-seen order)."""
    out: dict[tuple, Any] = {}
    for assigned in assigned_lists:
        for var, key in assigned:
            out.setdefault(key, var)
    return out


def _union(*capture_lists: list[Tensor]) -> dict[tuple, Tensor]:
    union: dict[tuple, Tensor] = {}
    for caps in capture_lists:
        for t in caps:
            union.setdefault(slot_key(t), t)
    return union


def _check_same(a: Any, b: Any, ta: list, tb: list, what_a: str, what_b: str, op: str) -> None:
    if a != b:
        raise TypeError(f"{op}: {what_a} returns structure {a}, but {what_b} returns {b} "
                        f"({user_location()})")
    for i, (x, y) in enumerate(zip(ta, tb)):
        if x != y:
            raise TypeError(f"{op}: output {i} is {x} in {what_a} but {y} in {what_b}; both "
                            f"must have the same dtype and shape ({user_location()})")


# ---------------------------------------------------------------- cond / switch_case
def switch_case(branch_index: Any, branch_fns: Sequence[Callable[[], Any]] | dict,
                default: Callable[[], Any] | None = None, name: str | None = None) -> Any:
    """Run branch_fns[branch_index]() (tf.switch_case); out of range runs `default` or the
    last branch."""
    fns = [branch_fns[k] for k in sorted(branch_fns)] if isinstance(branch_fns, dict) \
        else list(branch_fns)
    if default is not None:
        fns.append(default)
    if not fns:
        raise ValueError("tx.switch_case: branch_fns is empty")
    trace = active_trace()
    static = get_static_value(branch_index) if trace is not None else None
    if trace is None or static is not None:
        k = int(static if static is not None else convert_to_tensor(branch_index).numpy())
        return fns[k if 0 <= k < len(fns) else len(fns) - 1]()
    index = convert_to_tensor(branch_index)
    if index.dtype is not I32 or index.shape.rank != 0:
        raise TypeError(f"tx.switch_case: branch_index must be an int32 scalar, got "
                        f"{index._type} ({user_location()})")
    return _case(index, fns, trace, "switch_case", [f"branch {k}" for k in range(len(fns))])


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any],
         name: str | None = None) -> Any:
    """Return true_fn() if pred else false_fn() (tf.cond); in a trace, both become regions."""
    trace = active_trace()
    static = get_static_value(pred) if trace is not None else None
    if trace is None or static is not None:
        flag = static if static is not None else convert_to_tensor(pred).numpy()
        return true_fn() if bool(flag) else false_fn()
    p = convert_to_tensor(pred)
    if p.dtype is not BOOL or p.shape.rank != 0:
        raise TypeError(f"tx.cond: pred must be a bool scalar, got {p._type} "
                        f"({user_location()})")
    index = bind(_cast_op(), p, dtype=I32)
    return _case(index, [false_fn, true_fn], trace, "cond", ["false_fn", "true_fn"])


def _cast_op():
    from compiler.ops.cast import convert_op

    return convert_op


def _case(index: Tensor, fns: list, trace: Any, op: str, names: list[str]) -> Any:
    traced = [_trace(f, None, (), f"{op}_{n.replace(' ', '_')}", trace, f"{op} {n}")
              for f, n in zip(fns, names)]
    n_res = [len(g.outputs) - len(a) for g, _, _, a in traced]
    g0, _, tree0, _ = traced[0]
    for (g, _, tree, _), n, k in zip(traced[1:], names[1:], n_res[1:]):
        _check_same(tree0, tree, list(g0.output_types[:n_res[0]]), list(g.output_types[:k]),
                    names[0], n, op)
    union = _union(*(caps for _, caps, _, _ in traced))
    variables = _assigned_union(*(a for _, _, _, a in traced))
    branches = tuple(_with_operands(g, caps, 0, union, k, a, list(variables))
                     for (g, caps, _, a), k in zip(traced, n_res))
    outs = bind(case_op, index, *union.values(), branches=branches)
    for var, value in zip(variables.values(), outs[n_res[0]:]):
        trace.assign_variable(var, value)
    return tree_util.tree_unflatten(tree0, list(outs[:n_res[0]]))


# ---------------------------------------------------------------- while_loop
def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               shape_invariants: Any = None, maximum_iterations: Any = None,
               name: str | None = None) -> Any:
    """Repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` (tf.while_loop).

    Differentiable in a trace: with a static `maximum_iterations` the gradient saves each
    iteration's residuals (what the body's backward reads); without one (or with a run-time
    one) it counts the trips and recomputes states from checkpoints
    (compiler/ops/control_flow.py), so shapes stay static and one trace serves every trip
    count. Eagerly the loop runs in Python and the tape records its ops."""
    single = not isinstance(loop_vars, (tuple, list))
    state = (loop_vars,) if single else tuple(loop_vars)
    trace = active_trace()
    if trace is None:
        i = 0
        while (maximum_iterations is None or i < int(maximum_iterations)) and \
                bool(convert_to_tensor(cond(*state)).numpy()):
            out = body(*state)
            state = (out,) if len(state) == 1 and not isinstance(out, (tuple, list)) \
                else tuple(out)
            i += 1
        return state[0] if single else type(loop_vars)(state)
    if needs_loop_preparation(state):  # TensorArrays: element shapes, dynamic_size capacity
        bound = None if maximum_iterations is None else \
            get_static_value(convert_to_tensor(maximum_iterations))
        ready = tree_util.tree_map(convert_to_tensor, state)
        with loop_carried(ready, lambda s: body(*s), None if bound is None else
                          max(int(bound), 0), "tx.while_loop") as ready:
            return while_loop(cond, body, ready[0] if single else type(loop_vars)(ready),
                              shape_invariants, maximum_iterations, name)
    max_trip = None
    if maximum_iterations is not None:
        limit = convert_to_tensor(maximum_iterations)
        static = get_static_value(limit)
        max_trip = max(int(static), 0) if static is not None else None  # for gradients
        user_cond, user_body = cond, body

        def cond(i, *s):  # noqa: F811
            from tfx_core.ops.math_ops import less, logical_and

            return logical_and(less(i, limit), user_cond(*s))

        def body(i, *s):  # noqa: F811
            out = user_body(*s)
            return (i + 1, *((out,) if single else tuple(out)))

        state = (convert_to_tensor(0), *state)
    flat, tree = tree_util.tree_flatten(state)
    flat = [convert_to_tensor(x) for x in flat]
    types = [t._type for t in flat]
    structured = tree_util.tree_unflatten(tree, flat)
    cg, ccaps, _, cassigned = _trace(cond, structured, types, "while_cond", trace,
                                     "while_loop cond")
    if cassigned:
        from tfx_core.polymorphic_function.tracer import EFFECTS

        what = "prints or asserts" if any(v is EFFECTS for v, _ in cassigned) else \
            "assigns a tx.Variable"
        raise TypeError(f"tx.while_loop: cond {what}; do that in the body instead "
                        f"({user_location()})")
    if cg.output_types != (TensorType(BOOL, ()),):
        raise TypeError(f"tx.while_loop: cond must return a bool scalar, got "
                        f"{[str(t) for t in cg.output_types]} ({user_location()})")

    def body_tuple(*s):
        out = body(*s)
        # one loop variable: a bare result is that variable (as TF)
        return (out,) if len(s) == 1 and not isinstance(out, (tuple, list)) else tuple(out)

    bg, bcaps, btree, bassigned = _trace(body_tuple, structured, types, "while_body", trace,
                                         "while_loop body")
    if btree != tree:
        raise TypeError(f"tx.while_loop: body returns structure {btree}, but loop_vars are "
                        f"{tree} ({user_location()})")
    for i, (t_in, t_out) in enumerate(zip(types, bg.output_types)):
        if t_in != t_out:
            raise TypeError(f"tx.while_loop: loop variable {i} enters as {t_in} but the body "
                            f"returns {t_out}; loop variables must keep their dtype and shape "
                            f"({user_location()})")
    union = _union(ccaps, bcaps)
    n = len(flat)
    cgraph = _with_operands(cg, ccaps, n, union, 1, [], ())
    # every captured operand is carried; a variable the body assigns carries its new value
    bgraph = _with_operands(bg, bcaps, n, union, n, bassigned, list(union))
    attrs = {"max_trip": max_trip} if max_trip is not None else {}
    outs = bind(while_op, *flat, *union.values(), cond=cgraph, body=bgraph, **attrs)
    slot = {k: i for i, k in enumerate(union)}
    for var, key in bassigned:
        trace.assign_variable(var, outs[n + slot[key]])
    result = tree_util.tree_unflatten(tree, list(outs[:n]))
    if maximum_iterations is not None:
        result = result[1:]
        return result[0] if single else type(loop_vars)(result)
    return result[0] if single else type(loop_vars)(result)


# ---------------------------------------------------------------- map_fn / scan / foldl
def _rows(elems: Any, what: str) -> tuple[list, Any, int]:
    leaves, tree = tree_util.tree_flatten(elems)
    leaves = [convert_to_tensor(x) for x in leaves]
    ns = {t.shape[0] if t.shape.rank else None for t in leaves}
    if not leaves or len(ns) != 1 or None in ns:
        raise ValueError(f"tx.{what}: elems must be tensors with the same static leading "
                         f"dimension, got {[str(t._type) for t in leaves]} ({user_location()})")
    return leaves, tree, ns.pop()


def take_row(x: Tensor, i: Any) -> Tensor:
    """x[i] along axis 0 for a scalar int32 tensor i (XLA clamps out-of-range i)."""
    from compiler.ops.dynamic_slice import dynamic_slice_op
    from tfx_core.ops.array_ops import reshape

    zero = convert_to_tensor(0)
    s = bind(dynamic_slice_op, x, i, *([zero] * (x.shape.rank - 1)),
             sizes=(1, *x._type.shape[1:]))
    return reshape(s, x._type.shape[1:])


def _put_row(buf: Tensor, i: Any, v: Tensor) -> Tensor:
    from compiler.ops.dynamic_slice import dynamic_update_slice_op
    from tfx_core.ops.array_ops import expand_dims

    zero = convert_to_tensor(0)
    return bind(dynamic_update_slice_op, buf, expand_dims(convert_to_tensor(v), 0), i,
                *([zero] * (buf.shape.rank - 1)))


def _loop_over_rows(step: Callable, elems: Any, carry0: Any, start: int, collect: bool,
                    what: str, first_out: Any = None) -> tuple[Any, Any]:
    """Run `carry, out = step(carry, row_i)` for i in [start, n) in one while_loop; with
    `collect`, stack the outs (row i of the result; rows before `start` come from first_out)."""
    from tfx_core.ops.array_ops import stack, zeros

    leaves, tree, n = _rows(elems, what)
    rows = lambda i: tree_util.tree_unflatten(tree, [take_row(x, i) for x in leaves])  # noqa: E731
    trace = active_trace()
    if trace is None:  # eagerly: a Python loop
        carry, outs = carry0, ([first_out] if first_out is not None else [])
        for i in range(start, n):
            carry, out = step(carry, tree_util.tree_unflatten(tree, [x[i] for x in leaves]))
            outs.append(out)
        if not collect:
            return carry, None
        stacked = tree_util.tree_map(lambda *xs: stack(list(xs)), *outs) if outs else None
        return carry, stacked
    # the output structure and types: trace the step once on row `start`
    probe_carry = tree_util.tree_map(convert_to_tensor, carry0)
    probe = RegionTracer(f"{what}_probe", trace)
    with trace_scope(probe):
        _, out = step(probe_carry, rows(convert_to_tensor(start)))
        out_leaves, out_tree = tree_util.tree_flatten(out)
        out_types = [convert_to_tensor(o)._type for o in out_leaves]
    bufs = [zeros([n, *t.shape], t.dtype) for t in out_types] if collect else []
    if collect and first_out is not None:
        bufs = [_put_row(b, convert_to_tensor(0), o)
                for b, o in zip(bufs, tree_util.tree_leaves(first_out))]

    def body(i, carry, bufs):
        carry, out = step(carry, rows(i))
        if collect:
            bufs = [_put_row(b, i, o) for b, o in zip(bufs, tree_util.tree_leaves(out))]
        return i + 1, carry, bufs

    _, carry, bufs = while_loop(lambda i, c, b: i < n, body,
                                (convert_to_tensor(start), carry0, bufs),
                                maximum_iterations=n - start)  # static: gradients work
    return carry, (tree_util.tree_unflatten(out_tree, list(bufs)) if collect else None)


def map_fn(fn: Callable[[Any], Any], elems: Any, dtype: Any = None, parallel_iterations: Any = None,
           back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True,
           name: str | None = None, fn_output_signature: Any = None) -> Any:
    """Apply fn to each row of elems (axis 0) and stack the results (tf.map_fn)."""
    _, out = _loop_over_rows(lambda c, row: (c, fn(row)), elems, (), 0, True, "map_fn")
    return out


def scan(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None,
         parallel_iterations: Any = None, back_prop: bool = True, swap_memory: bool = False,
         infer_shape: bool = True, reverse: bool = False, name: str | None = None) -> Any:
    """acc = fn(acc, row) over the rows of elems; returns every acc stacked (tf.scan)."""
    if reverse:  # last row first, results in elems' order: scan the flipped rows, flip back
        from tfx_core.ops.array_ops import reverse as flip

        leaves, tree, _ = _rows(elems, "scan")
        flipped = tree_util.tree_unflatten(tree, [flip(x, [0]) for x in leaves])
        out = scan(fn, flipped, initializer)
        return tree_util.tree_map(lambda x: flip(x, [0]), out)
    if initializer is None:
        leaves, tree, _ = _rows(elems, "scan")
        first = tree_util.tree_unflatten(tree, [x[0] for x in leaves])
        _, out = _loop_over_rows(lambda c, row: (fn(c, row),) * 2, elems, first, 1, True,
                                 "scan", first_out=first)
        return out
    _, out = _loop_over_rows(lambda c, row: (fn(c, row),) * 2, elems, initializer, 0, True,
                             "scan")
    return out


def foldl(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None,
          parallel_iterations: Any = None, back_prop: bool = True, swap_memory: bool = False,
          name: str | None = None) -> Any:
    """acc = fn(acc, row) over the rows of elems; returns the final acc (tf.foldl)."""
    start, acc0 = 0, initializer
    if initializer is None:
        leaves, tree, _ = _rows(elems, "foldl")
        start, acc0 = 1, tree_util.tree_unflatten(tree, [x[0] for x in leaves])
    acc, _ = _loop_over_rows(lambda c, row: (fn(c, row), ()), elems, acc0, start, False,
                             "foldl")
    return acc
