"""Common-subexpression elimination: pure ops with the same op, attrs and inputs run once."""
from __future__ import annotations

from ..ir.graph import Graph, Value
from ..registry import COMMUTATIVE, PURE
from .manager import graph_pass, record_change


@graph_pass("cse")
def cse(g: Graph) -> Graph:
    """Merge duplicate pure ops (commutative ops match in either operand order).

    Constants merge only when bit-identical (ConstArray equality): 0.0 and -0.0 stay apart.
    """
    env: dict[Value, Value] = {}  # a merged op's output -> the surviving op's output
    seen: dict[tuple, tuple[Value, ...]] = {}
    ops = []
    for op in g.ops:
        inputs = tuple(env.get(v, v) for v in op.inputs)
        if PURE in op.opdef.traits:
            operands = tuple(sorted(inputs, key=id)) if COMMUTATIVE in op.opdef.traits \
                else inputs
            key = (op.opdef, op.attrs, operands)
            prev = seen.get(key)
            if prev is not None:
                env.update(zip(op.outputs, prev))
                record_change(f"merged {op.name}")
                continue
            seen[key] = op.outputs
        ops.append(op if inputs == op.inputs else op.replace(inputs=inputs))
    if len(ops) == len(g.ops):
        return g
    return Graph(g.inputs, tuple(ops), tuple(env.get(v, v) for v in g.outputs), g.name)
