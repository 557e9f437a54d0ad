"""Specialize a graph traced with unknown (None) dims to concrete input shapes."""
from __future__ import annotations

from .ir.graph import Graph, GraphBuilder, Op, Value, walk
from .ir.types import TensorType


def specialize(g: Graph, input_types: tuple[TensorType, ...]) -> Graph:
    """Re-infer every op's types from concrete input types; the graph is otherwise unchanged."""
    if input_types == g.input_types:
        return g
    b = GraphBuilder(g.name)

    def apply(op: Op, inputs: list[Value]) -> tuple[Value, ...]:
        attrs = op.attrs
        if any(isinstance(a, (Graph, tuple)) for _, a in attrs):  # regions, case branches
            attrs = _specialize_regions(attrs, tuple(v.type for v in inputs))
        return b.add_op(op.opdef, inputs, attrs, op.loc)

    return b.build(walk(g, [b.add_input(t) for t in input_types], apply))


def _specialize_regions(attrs: tuple, types: tuple[TensorType, ...]) -> tuple:
    """Nested graphs (regions) take the op's LAST len(region.inputs) operands, by convention
    of every op holding regions (case: after the index; while, fusion: all of them)."""

    def one(a):
        if isinstance(a, Graph):
            return specialize(a, types[len(types) - len(a.inputs):])
        if isinstance(a, tuple):
            return tuple(one(x) for x in a)
        return a

    return tuple((k, one(a)) for k, a in attrs)
