"""How traced loops carry `tx.TensorArray`s: a probe run of the body learns element shapes and
dynamic_size growth, then each array gets its buffer before the loop is traced.

`loop_carried` is what tx.while_loop and AutoGraph's loops call when `needs_loop_preparation`
says their state holds an array not ready to be a loop variable (eager, without a buffer, or
dynamic_size). `LOOPS` is the per-thread record the arrays' own writes update while a probe
runs (see tfx_core/ops/tensor_array.py for the semantics).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from jax import tree_util

from compiler.interpreters import trace_scope
from tfx_core.framework import tensor_array_shapes as TAS
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import active_trace
from tfx_core.ops.arguments import op_error
from tfx_core.polymorphic_function.tracer import RegionTracer

if TYPE_CHECKING:
    from tfx_core.ops.tensor_array import TensorArray

__all__ = ["LOOPS", "LoopState", "fully_known", "loop_carried", "merge_shapes",
           "needs_loop_preparation"]


class LoopState(threading.local):
    """What the loops being traced know of each array (by uid): "probe" while a loop body runs
    as a probe (writes to dynamic_size arrays are counted), "ready" while a loop that readied it
    (element shape known, capacity fixed from the trip count) is traced."""

    def __init__(self) -> None:
        self.mode: dict[int, str] = {}
        self.writes: dict[int, int] = {}  # run-time-index writes seen by the current probe
        self.need: dict[int, int] = {}  # largest constant index + 1 seen by the current probe
        self.learned: dict[int, tuple] = {}  # element shapes writes in probes found
        self.first: dict[int, tuple] = {}  # (value, axis) of the first probe write with None dims


LOOPS = LoopState()


def merge_shapes(a: tuple | None, b: tuple) -> tuple | None:
    """The element shapes a and b together (None dims filled), or None if they conflict."""
    if a is None:
        return tuple(b)
    if len(a) != len(b):
        return None
    out = []
    for x, y in zip(a, b):
        if x is not None and y is not None and x != y:
            return None
        out.append(x if x is not None else y)
    return tuple(out)


def fully_known(shape: tuple | None) -> bool:
    """Whether every dim of `shape` is known at trace time."""
    return shape is not None and None not in shape


def _arrays(tree: Any) -> list[TensorArray]:
    from tfx_core.ops.tensor_array import TensorArray

    leaves = tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, TensorArray))
    return [x for x in leaves if isinstance(x, TensorArray)]


def _unready(tree: Any) -> list[TensorArray]:
    """The arrays in `tree` a traced loop cannot carry as they are: eager ones, ones without a
    buffer yet, and dynamic_size ones whose capacity no enclosing loop has fixed."""
    if active_trace() is None:
        return []
    return [ta for ta in _arrays(tree) if LOOPS.mode.get(ta._uid) != "ready" and (
        not ta._traced or ta._buf is None or ta._dynamic)]


def needs_loop_preparation(state: Any) -> bool:
    """Whether a traced loop over `state` must first pass it through `loop_carried`."""
    return bool(_unready(state))


@contextlib.contextmanager
def loop_carried(state: Any, run_body: Callable[[Any], Any], max_trip: int | None,
                 what: str) -> Iterator[Any]:
    """Ready the TensorArrays in a loop's `state` to be loop-carried while the loop is traced
    (inside the `with`): `run_body(state)` runs once as a throw-away probe to learn element
    shapes not known yet and how many writes an iteration makes to each dynamic_size array;
    those get a buffer of entry capacity + `max_trip` x writes (a clear error when that is
    needed and `max_trip` is None). Yields the state with the readied arrays."""
    trace = active_trace()
    todo = {ta._uid: ta._in_trace() for ta in _unready(state)}
    if not todo:
        yield state
        return
    state = _replace(state, todo)
    while True:
        try:
            probed, out, writes, need, first = _probe(state, todo, run_body, trace)
            break
        except Exception:
            # a write records its element shape before e.g. a tx.cond whose other branch
            # does not write fails on the difference: learn it, probe again
            learned = {u: LOOPS.learned[u] for u, ta in todo.items()
                       if u in LOOPS.learned and ta._buf is None}
            if not learned:
                raise
            todo = {u: ta._allocated(learned[u], what) if u in learned else ta
                    for u, ta in todo.items()}
            state = _replace(state, todo)
    dims = {}
    for u, (v, axis, probe, leaves) in first.items():
        if u in todo and todo[u]._buf is None:
            like = TAS.element_like(v, probe, leaves, what)
            dims[u] = TAS.dims_of(like, axis)
            if LOOPS.mode.get(u) == "probe":  # an enclosing loop's probe: it learns it too
                LOOPS.first.setdefault(u, (like, axis))
    ready = {u: _readied(ta, probed[u]._capacity(), [o for o in out if o._uid == u],
                         writes.get(u, 0), need.get(u, 0), max_trip, what, dims.get(u))
             for u, ta in todo.items()}
    before = dict(LOOPS.mode)
    LOOPS.mode.update({u: "ready" for u in ready})
    try:
        yield _replace(state, ready)
    finally:
        LOOPS.mode = before


def _probe(state: Any, todo: dict[int, TensorArray], run_body: Callable[[Any], Any],
           trace: Any) -> tuple[dict, list, dict, dict, dict]:
    """Run the loop body once in a throw-away region: (the arrays it started from, the arrays
    in its result, run-time-index writes and constant-index extents per dynamic array, and
    per array first written with None dims: (the value, its element axis, the probe tracer,
    the state leaves its inputs stand for))."""
    saved = (dict(LOOPS.mode), LOOPS.writes, LOOPS.need, LOOPS.learned, LOOPS.first)
    LOOPS.writes, LOOPS.need, LOOPS.learned, LOOPS.first = {}, {}, {}, {}
    LOOPS.mode.update({u: "probe" for u in todo})
    try:
        probe = RegionTracer("tensor_array_probe", trace)
        with trace_scope(probe):
            # an empty dynamic array gets one row in the probe, so writes there fit
            probed = {u: ta._probe_copy() for u, ta in todo.items()}
            # fresh inputs, as in the loop (a counter's entry value is not its value there)
            entry, tree = tree_util.tree_flatten(_replace(state, probed))
            leaves = [probe.new_input(x._type) if isinstance(x, Tensor) else x for x in entry]
            out = _arrays(run_body(tree_util.tree_unflatten(tree, leaves)))
        first = {u: (v, axis, probe, entry) for u, (v, axis) in LOOPS.first.items()}
        return probed, out, LOOPS.writes, LOOPS.need, first
    finally:
        learned = LOOPS.learned
        LOOPS.mode, LOOPS.writes, LOOPS.need, LOOPS.learned, LOOPS.first = saved
        LOOPS.learned.update(learned)  # seen by the caller (and enclosing probes)


def _replace(state: Any, arrays: dict[int, TensorArray]) -> Any:
    from tfx_core.ops.tensor_array import TensorArray

    return tree_util.tree_map(
        lambda x: arrays.get(x._uid, x) if isinstance(x, TensorArray) else x, state,
        is_leaf=lambda x: isinstance(x, TensorArray))


def _readied(ta: TensorArray, probe_cap: int, after: list[TensorArray], writes: int,
             need: int, max_trip: int | None, what: str, dims: list | None) -> TensorArray:
    """`ta` with the element shape the probe's results `after` learned, and for dynamic_size
    room for `max_trip` iterations of `writes` run-time writes (and constant indices < need);
    the probe started at `probe_cap` rows. `dims`: the element's dims (ints or i32 scalars
    of this trace) when some are unknown at trace time."""
    shape = ta._shape
    for o in after:
        shape = merge_shapes(shape, o._shape) if o._shape is not None else shape
    new = ta._copy(_shape=shape)
    if new._buf is None and fully_known(shape):
        new._buf = TAS.zeros_of((new._n(), *shape), new._dtype)
    elif new._buf is None and dims is not None and shape is not None:
        known = [d if d is not None else x for d, x in zip(shape, dims)]
        new._buf = TAS.zeros_of((new._n(), *known), new._dtype)
    if ta._dynamic and new._buf is not None:
        cap = new._buf.shape[0]
        # nested loops grew the probe's copy: that growth is per iteration too
        grown = max([o._capacity() for o in after] + [probe_cap]) - probe_cap + writes
        if grown and max_trip is None:
            raise op_error(what, "a dynamic_size TensorArray is written in a loop without a "
                           "static trip count, so its size has no bound at trace time (XLA "
                           "buffers cannot grow); use `for i in tx.range(n)` with a constant "
                           "n, pass maximum_iterations= to tx.while_loop, or give the "
                           "TensorArray a fixed size", ValueError)
        new._grown(max(cap + grown * (max_trip or 0), need))
    return new
