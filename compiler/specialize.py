"""Specialize a graph traced with unknown (None) dims to concrete input shapes."""
from __future__ import annotations

import numpy as np

from . import dynamic_shape as D
from .ir.graph import Graph, GraphBuilder, Op, Value, walk
from .ir.types import TensorType
from .ops.constant import shape_of_op
from .tracing import infer_or_raise


def specialize(g: Graph, input_types: tuple[TensorType, ...],
               known_inputs: dict[int, np.ndarray] | None = None) -> Graph:
    """Re-infer every op's types from concrete input types. Shape operands computed at run time
    (the *_dynamic ops) are evaluated from the now-static shapes, and each such op becomes its
    static form; the graph is otherwise unchanged.

    Args:
        g: the traced graph.
        input_types: the concrete types of its inputs.
        known_inputs: values of some inputs known now (by position): a region's operands that
            an enclosing graph computed from shapes.

    Raises:
        DynamicShapeError: a shape operand depends on tensor values, not only on shapes.
    """
    dynamic = D.has_dynamic_ops(g)
    if input_types == g.input_types and not dynamic:
        return g
    b = GraphBuilder(g.name)
    inputs = [b.add_input(t) for t in input_types]
    # Shape values known now (only tracked when some op needs them: a static graph costs nothing).
    values: dict[Value, np.ndarray] = {}
    cone = _shape_cone(g) if dynamic else set()
    producers: dict[Value, Op] = {}
    for i, a in (known_inputs or {}).items():
        if g.inputs[i] in cone:
            values[inputs[i]] = a

    def apply(op: Op, ins: list[Value]) -> tuple[Value, ...]:
        attrs = op.attrs
        if any(isinstance(a, (Graph, tuple)) for _, a in attrs):  # regions, case branches
            attrs = _specialize_regions(op, attrs, ins, values)
        if op.opdef in D.STATIC_FORM:
            outs = _to_static(b, op, ins, values, producers, g)
        else:  # a misfit found only now (ensure_shape, reshape) names the op and the line
            types = infer_or_raise(op.opdef, tuple(v.type for v in ins), dict(attrs),
                                   op.loc or "")
            outs = b.add_op(op.opdef, ins, attrs, op.loc, types)
        if any(v in cone for v in op.outputs):
            producers.update((v, b.ops[-1]) for v in outs)
            got = D.evaluate(b.ops[-1], [values.get(v) for v in ins])
            if got is not None:
                values.update(zip(outs, got))
        return outs

    return b.build(walk(g, inputs, apply))


def _shape_cone(g: Graph) -> set[Value]:
    """The values dynamic ops' shape operands are computed from (and the small integer
    operands of ops whose regions hold dynamic ops: a region may compute its shape from one)."""
    producers = g.producers()
    stack = []
    for op in g.ops:
        if op.opdef in D.STATIC_FORM:
            stack.append(op.inputs[-1])  # the shape operand comes last
        elif any(D.has_dynamic_ops(r) for r in D.regions(op)):
            stack.extend(v for v in op.inputs
                         if v.type.dtype.is_integer and D.is_shape_sized(v.type))
    cone: set[Value] = set()
    while stack:
        v = stack.pop()
        if v in cone:
            continue
        cone.add(v)
        op = producers.get(v)
        if op is not None and op.opdef is not shape_of_op:  # shape_of reads no values
            stack.extend(op.inputs)
    return cone


def _to_static(b: GraphBuilder, op: Op, ins: list[Value], values: dict, producers: dict,
               g: Graph) -> tuple[Value, ...]:
    """The static form of a dynamic op, now that its shape operand has a value (or the error
    saying why it has none)."""
    shape = values.get(ins[-1])
    if shape is None:
        def leaf(v: Value, reader: Op | None) -> str:
            k = b.inputs.index(v)
            return (f"the value of input {k} ({v.type}) of graph {g.name!r}"
                    f"{D.reader_phrase(reader)}")

        raise D.not_static_error(op, D.value_dependence(ins[-1], producers.get, leaf))
    static, attrs = D.static_form(op, shape)
    out_types = infer_or_raise(static, tuple(v.type for v in ins[:-1]), attrs, op.loc)
    return b.add_op(static, ins[:-1], attrs, op.loc, out_types)


def _specialize_regions(op: Op, attrs: tuple, ins: list[Value], values: dict) -> tuple:
    """Nested graphs (regions) take the op's LAST len(region.inputs) operands, by convention
    of every op holding regions (case: after the index; while, fusion: all of them). Operand
    values known here are known in the region too, except a while's carried values that its
    body changes."""
    types = tuple(v.type for v in ins)
    body = dict(attrs).get("body") if op.name == "while" else None

    def known_for(r: Graph) -> dict[int, np.ndarray]:
        first = len(ins) - len(r.inputs)
        out = {}
        for j in range(len(r.inputs)):
            if (a := values.get(ins[first + j])) is None:
                continue
            if body is not None and body.outputs[j] is not body.inputs[j]:
                continue  # carried and changed by the loop: not the value on entry
            out[j] = a
        return out

    def one(a):
        if isinstance(a, Graph):
            return specialize(a, types[len(types) - len(a.inputs):], known_for(a))
        if isinstance(a, tuple):
            return tuple(one(x) for x in a)
        return a

    return tuple((k, one(a)) for k, a in attrs)
