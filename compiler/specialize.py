"""Specialize a graph traced with unknown (None) dims to concrete input shapes."""
from __future__ import annotations

from .ir.graph import Graph, GraphBuilder, Value
from .ir.types import TensorType


def specialize(g: Graph, input_types: tuple[TensorType, ...]) -> Graph:
    """Re-infer every op's types from concrete input types; the graph is otherwise unchanged."""
    if input_types == g.input_types:
        return g
    b = GraphBuilder(g.name)
    env: dict[Value, Value] = {}
    for v, t in zip(g.inputs, input_types):
        env[v] = b.add_input(t)
    for op in g.ops:
        outs = b.add_op(op.opdef, [env[v] for v in op.inputs], op.attrs, op.loc)
        env.update(zip(op.outputs, outs))
    return b.build([env[v] for v in g.outputs])
