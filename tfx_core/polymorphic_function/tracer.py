"""Tracing Python into a graph: while a @tx.function body, a control-flow region or an AutoGraph
probe runs, ops become IR instead of running.

One tracer for all of them: `TraceInterpreter` (a compiler `GraphTracer` over tensors, with
captures, statically known values and Variables), `RegionTracer` for regions nested in another
trace, and `trace_callable`, the one way to run a Python callable under a tracer.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from jax import tree_util

from compiler.interpreters import recorders, trace_scope
from compiler.ir.graph import ConstArray
from compiler.ir.types import DType, TensorType
from compiler.ops.constant import MAX_CONSTANT_ELEMENTS, constant_op, shape_of_op
from compiler.registry import FINITE_PRESERVING, ORDER_INDEPENDENT, PURE, SHAPE_OP, OpDef
from compiler.tracing import GraphTracer
from runtime import client
from tfx_core.framework.tensor import Tensor


class _Effects:
    """Stands for the effect token in the variable machinery: prints and assertions read and
    assign it like a Variable, so regions take and return it in program order (see
    compiler/ops/debug.py) without a buffer of its own."""

    def __repr__(self) -> str:
        return "<effects>"


EFFECTS = _Effects()
# enable_check_numerics: every floating result of a traced op is checked (set by tx.debugging)
CHECK_NUMERICS = {"on": False}
# ops that make a NaN/Inf only from one in an input: checking their inputs is enough
_PASSES_VALUES_ON = frozenset({SHAPE_OP, ORDER_INDEPENDENT, FINITE_PRESERVING})

# Tensors up to MAX_CONSTANT_ELEMENTS are baked into the module as constants; larger ones are
# passed as implicit arguments: XLA's compile time grows with the size of a literal, while an
# argument costs nothing to compile.


class TraceInterpreter(GraphTracer):
    """Binds ops into a compiler `Trace`; outside tensors become constants or captures."""

    def __init__(self, name: str):
        super().__init__(name)
        self._const_cache: dict[int, Any] = {}
        # Values known while tracing (TF's constant_value): constants, static shapes, and small
        # pure ops on them, so `tx.reshape(x, [tx.shape(x)[0], -1])` works inside a trace.
        self.known: dict[Any, np.ndarray] = {}
        # shape values known in part (object arrays, None where a dim is unknown)
        self.partial: dict[Any, np.ndarray] = {}
        # Variables this trace touched: id -> [variable, current symbolic value, assigned?]
        self.var_state: dict[int, list] = {}
        self.allow_variable_creation = True  # only on a Function's first trace (as TF)
        # Why this graph's own ops don't give its gradient (e.g. a tx.custom_gradient inside)
        self.opaque_gradients: list[str] = []
        # Eager tensors from outside baked in as constants (a tape watching one needs the
        # body's ops: the program has no input for it)
        self.baked: list[Tensor] = []
        self._token: Tensor | None = None  # the effect token, once an effect needs it
        # enable_check_numerics: (value, "op at file:line") of each floating result to check
        self.numerics: list[tuple[Any, str]] = []

    def new_input(self, type: TensorType) -> Tensor:
        return Tensor(None, type, self.trace.add_input(type), self)

    def wrap(self, v: Any) -> Tensor:
        return Tensor(None, v.type, v, self)

    def emitted(self, opdef: OpDef, values: list, attrs: dict, outs: tuple) -> None:
        """Propagate statically known values through small pure ops."""
        if CHECK_NUMERICS["on"] and PURE in opdef.traits and opdef is not constant_op \
                and not opdef.traits & _PASSES_VALUES_ON:
            self._note_numerics(opdef, outs)
        if opdef is shape_of_op:
            if values[0].type.is_static:
                self.known[outs[0]] = np.array(values[0].type.shape, np.int32)
            else:  # the dims that are known: tx.shape(x)[1] is static when only dim 0 is None
                self.partial[outs[0]] = np.array(values[0].type.shape, object)
            return
        if PURE not in opdef.traits:
            return
        if not all(v in self.known for v in values):
            if SHAPE_OP in opdef.traits and any(v in self.partial for v in values):
                self._move_partial(opdef, values, attrs, outs)
            return
        if any((v.type.num_elements or 0) > MAX_CONSTANT_ELEMENTS for v in outs):
            return
        try:
            res = opdef.reference(*[self.known[v] for v in values], **attrs)
        except Exception:  # an unusual input the reference can't take: just don't know it
            return
        res = res if opdef.multiple_results else (res,)
        for v, r in zip(outs, res):
            self.known[v] = np.asarray(r)

    def _move_partial(self, opdef: OpDef, values: list, attrs: dict, outs: tuple) -> None:
        """A shape op (slice, reshape, concat...) on partly known shape values: move the known
        entries along (None marks the unknown ones); an all-known result becomes known."""
        if len(outs) != 1 or any(v not in self.known and v not in self.partial for v in values):
            return
        try:
            res = np.asarray(opdef.reference(
                *[self.partial[v] if v in self.partial else self.known[v].astype(object)
                  for v in values], **attrs), object)
        except Exception:  # not a pure move of elements: don't know it
            return
        if res.shape != tuple(outs[0].type.shape):
            return
        if any(x is None for x in res.flat):
            self.partial[outs[0]] = res
        else:
            self.known[outs[0]] = res.astype(outs[0].type.dtype.np_dtype)

    def _note_numerics(self, opdef: OpDef, outs: tuple) -> None:
        from compiler.tracing import user_location

        floats = [v for v in outs if v.type.dtype.is_floating]
        if floats:
            loc = user_location()
            self.numerics += [(v, f"{opdef.name}" + (f" at {loc}" if loc else ""))
                              for v in floats]

    # ------------------------------------------------------------ effects
    def effect_token(self) -> Tensor:
        """The current effect token (prints and assertions take it and return the next)."""
        return self.read_variable(EFFECTS)

    def set_effect_token(self, t: Tensor) -> None:
        self.assign_variable(EFFECTS, t)

    def finish_effects(self, outputs: Any = (), region: bool = False) -> None:
        """End of the traced code (`outputs`: the values it returns): check the numerics noted
        (enable_check_numerics), and at the top level consume the last token, which keeps
        every effect alive and ordered."""
        if self.numerics:
            from tfx_core.debugging.numerics import check_noted

            noted, self.numerics = self.numerics, []
            escaping = list(outputs) + self.escaping_assignments()
            check_noted(self, noted, escaping)
        if not region and self._token is not None:
            from compiler.ops.debug import effect_sink_op

            self.trace.emit(effect_sink_op, (self._token._value,), {})

    # ------------------------------------------------------------ variables
    def read_variable(self, var: Any) -> Tensor:
        """The variable's value in this trace: an implicit input captured by reference (its
        buffer is read at call time, never baked in), or the last value assigned here."""
        if var is EFFECTS:
            if self._token is None:
                from compiler.ops.debug import effect_token_op

                (v,) = self.trace.emit(effect_token_op, (), {})
                self._token = Tensor(None, v.type, v, self)
            return self._token
        st = self.var_state.get(id(var))
        if st is None:
            v = self.trace.capture(("variable", id(var)), var, var._vtype)
            st = self.var_state[id(var)] = [var, Tensor(None, var._vtype, v, self), False]
        elif st[1] is None:  # assigned-only so far can't happen: assignment sets the value
            raise AssertionError("variable state without a value")
        elif st[2]:
            self.note_read_after_assign(var)
        return st[1]

    def note_read_after_assign(self, var: Any) -> None:
        """A tape differentiates each read of a Variable on its own (an assignment cuts the
        chain); this graph would differentiate through the assigned value: calls under a
        tape must run op by op."""
        self.opaque_gradients.append(f"it reads Variable {var.name!r} after assigning it")

    def assign_variable(self, var: Any, t: Tensor) -> None:
        """Record `var = t`; the final value becomes an implicit output written back."""
        # A fresh wrapper: later reads are new tape sources, not the assigned computation.
        t = Tensor(None, t._type, self.to_value(t), self)
        if var is EFFECTS:
            self._token = t
            return
        st = self.var_state.get(id(var))
        if st is None:
            st = self.var_state[id(var)] = [var, None, False]
        st[1], st[2] = t, True

    def variable_updates(self) -> list[tuple[Any, Tensor]]:
        return [(st[0], st[1]) for st in self.var_state.values() if st[2]]

    def escaping_assignments(self) -> list[Any]:
        """Values assigned to Variables here (outputs of the trace besides its results)."""
        return [t._value for _, t in self.variable_updates()]

    def to_value(self, a: Any, opdef: OpDef | None = None):
        if isinstance(a, Tensor):
            if a._trace is self:
                return a._value
            if a._buf is not None:
                return self._capture_tensor(a)
            raise TypeError(
                f"{opdef.name if opdef else 'op'}: a symbolic tensor from another trace was used "
                "here; tensors created inside one @tx.function cannot leak into another "
                "(return them instead)"
            )
        op = opdef.name if opdef else "op"
        raise TypeError(f"{op}: expected tensors, got {type(a).__name__}")

    def _capture_tensor(self, t: Tensor):
        n = t._type.num_elements
        if n is not None and n <= MAX_CONSTANT_ELEMENTS:
            v = self._const_cache.get(id(t))
            if v is None:
                v = self._emit_constant(t.numpy())
                self._const_cache[id(t)] = (v, t)  # keep t alive so its id stays unique
                trace: Any = self
                while trace is not None:  # the function's own trace reports them
                    trace.baked.append(t)
                    trace = getattr(trace, "parent", None)
                return v
            return v[0]
        # NOTE: payload is the Tensor itself (its buffer is read at call time).
        return self.trace.capture(id(t), t, t._type)

    def _emit_constant(self, a: np.ndarray):
        (v,) = self.trace.emit(constant_op, (), {"value": ConstArray(a)})
        self.known[v] = a
        return v

    def constant(self, a: np.ndarray) -> Tensor:
        """A Python/numpy value used inside the trace: a constant, or a capture if large."""
        if a.size <= MAX_CONSTANT_ELEMENTS:
            v = self._emit_constant(a)
        else:
            t = Tensor(client.device_put(a), TensorType(DType.from_numpy(a.dtype), a.shape))
            v = self.trace.capture(id(t), t, t._type)
            # still known while tracing (tf.get_static_value of a big constant, segment ids);
            # results above MAX_CONSTANT_ELEMENTS are never computed from it (emitted)
            self.known[v] = a
        return Tensor(None, v.type, v, self)


class RegionTracer(TraceInterpreter):
    """Traces one region; tensors of enclosing traces become captured operands."""

    def __init__(self, name: str, parent: TraceInterpreter):
        super().__init__(name)
        self.parent = parent
        self.allow_variable_creation = False
        # Variables assigned in this region: id -> (variable, current value, key of its slot)
        self.assigned: dict[int, tuple[Any, Tensor, tuple]] = {}

    def _encloses(self, trace: Any) -> bool:
        p = self.parent
        while p is not None:
            if p is trace:
                return True
            p = getattr(p, "parent", None)
        return False

    def to_value(self, a: Any, opdef: Any = None):
        if isinstance(a, Tensor) and a._trace is not self and a._buf is None \
                and self._encloses(a._trace):
            return self.trace.capture(("outer", id(a._value)), a, a._type)
        return super().to_value(a, opdef)

    def escaping_assignments(self) -> list[Any]:
        return [t._value for _, t, _ in self.assigned.values()]

    def read_variable(self, var: Any) -> Tensor:
        mine = self.assigned.get(id(var))
        if mine is not None:
            trace: Any = self if var is not EFFECTS else None
            while trace is not None:  # the function's own trace decides how it is called
                trace.note_read_after_assign(var)
                trace = getattr(trace, "parent", None)
            return mine[1]
        outer = self.parent.read_variable(var)  # the enclosing trace's current value
        if var is not EFFECTS:
            for tape in recorders():  # tapes see the read where the op's operand is
                tape._variable_read(var, outer)
        return Tensor(None, outer._type, self.to_value(outer), self)

    def assign_variable(self, var: Any, t: Tensor) -> None:
        """Record `var = t` in this region: later reads here see t, and the op gets an extra
        result (a loop-carried value for while) that the enclosing trace assigns afterwards."""
        key = self.assigned[id(var)][2] if id(var) in self.assigned else \
            slot_key(self.parent.read_variable(var))
        if id(var) not in self.assigned:
            self.read_variable(var)  # the variable's value before the region is a captured slot
        # A fresh wrapper: later reads are new tape sources, not the assigned computation.
        self.assigned[id(var)] = (var, Tensor(None, t._type, self.to_value(t), self), key)


def slot_key(t: Tensor) -> tuple:
    """What identifies a value a region reads or assigns: its symbolic value, or its tensor."""
    return ("value", id(t._value)) if t._buf is None else ("tensor", id(t))


def trace_callable(tracer: TraceInterpreter, fn: Callable, args: Any, kwargs: dict,
                   as_output: Callable[[Any], Tensor]) -> tuple[list[Any], Any]:
    """Run `fn(*args, **kwargs)` (symbolic inputs made by `tracer.new_input`) under `tracer`:
    the result's leaves as values of the trace (each converted by `as_output`, which raises a
    clear error for a non-tensor), and the result's structure."""
    with trace_scope(tracer):
        result = fn(*args, **kwargs)
        leaves, tree = tree_util.tree_flatten(result)
        values = [tracer.to_value(as_output(x)) for x in leaves]
        tracer.finish_effects(values, region=isinstance(tracer, RegionTracer))
    return values, tree


def get_static_value(tensor: Any) -> np.ndarray | None:
    """The value of a tensor if it is known now (tf.get_static_value): eager tensors, and
    symbolic ones computed only from constants and static shapes; otherwise None."""
    if not isinstance(tensor, Tensor):
        return np.asarray(tensor)
    if tensor._buf is not None:
        return tensor.numpy()
    trace = tensor._trace
    if isinstance(trace, TraceInterpreter):
        return trace.known.get(tensor._value)
    return None


def static_difference(a: Any, b: Any) -> int | None:
    """`a - b` for integer scalars when it is known at trace time although `a` and `b` may not
    be: both known, or both one run-time value plus known offsets (`t + 3` and `t`, `t` and
    `t - w`: the bounds of `x[t:t + 3]`, `x[t - w:t]`); otherwise None."""
    ka, kb = get_static_value(a), get_static_value(b)
    if ka is not None and kb is not None:
        if ka.shape or kb.shape or ka.dtype.kind not in "iu" or kb.dtype.kind not in "iu":
            return None
        return int(ka) - int(kb)
    if ka is not None or kb is not None:  # one known, one not: the gap depends on the run
        return None
    da, db = _root_and_offset(a), _root_and_offset(b)
    if da is None or db is None or da[0] != db[0]:
        return None
    return da[1] - db[1]


def _root_and_offset(t: Any) -> tuple[tuple[Any, Any], int] | None:
    """A symbolic integer scalar as (its root value, a known offset): walks back through adds
    and subtracts of known constants and integer casts, and from a region's captured value to
    the enclosing trace's (a loop body slicing at an outer `t`)."""
    from compiler.ops.cast import convert_op
    from compiler.ops.elementwise import add_op, sub_op

    if not isinstance(t, Tensor) or not isinstance(t._trace, TraceInterpreter):
        return None
    trace, v, offset = t._trace, t._value, 0
    for _ in range(32):  # a chain longer than this is not a slice bound worth following
        op = _producer(trace, v)
        if op is None:  # an input: a region's capture of an outer value continues outside
            outer = next((p for p, cv in trace.trace.captures if cv is v), None)
            if not (isinstance(outer, Tensor) and outer._buf is None
                    and isinstance(outer._trace, TraceInterpreter)):
                break
            trace, v = outer._trace, outer._value
            continue
        if op.opdef is convert_op and op.inputs[0].type.dtype.is_integer:
            v = op.inputs[0]
            continue
        if op.opdef not in (add_op, sub_op):
            break
        x, y = op.inputs
        kx, ky = trace.known.get(x), trace.known.get(y)
        if ky is not None and ky.shape == () and ky.dtype.kind in "iu":
            offset += int(ky) if op.opdef is add_op else -int(ky)
            v = x
        elif op.opdef is add_op and kx is not None and kx.shape == () and kx.dtype.kind in "iu":
            offset += int(kx)
            v = y
        else:
            break
    return (trace, v), offset


def _producer(trace: TraceInterpreter, v: Any) -> Any:
    """The op of `trace` that made `v`, or None for an input (searched from the newest op:
    slice bounds are usually computed just before the slice)."""
    builder = trace.trace.builder
    if any(i is v for i in builder.inputs):
        return None
    for op in reversed(builder.ops):
        if any(o is v for o in op.outputs):
            return op
    return None
