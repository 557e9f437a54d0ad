"""`walk`: the one graph walker (environment Value -> T, inputs looked up, outputs bound)."""
from __future__ import annotations

import numpy as np

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.ir.graph import GraphBuilder, walk
from compiler.ir.types import F32, TensorType
from compiler.ops import elementwise as E


def test_walk_binds_outputs_and_returns_the_graph_outputs():
    b = GraphBuilder()
    x, y = b.add_input(TensorType(F32, (2,))), b.add_input(TensorType(F32, (2,)))
    (s,) = b.add_op(E.add_op, [x, y])
    (p,) = b.add_op(E.mul_op, [s, x])
    g = b.build([p, y, s])  # an input and an intermediate value returned too
    seen = []

    def apply(op, ins):
        seen.append((op.name, ins))
        return [op.opdef.reference(*ins)]

    a1, a2 = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
    out = walk(g, [a1, a2], apply)
    assert [name for name, _ in seen] == ["add", "multiply"]
    np.testing.assert_array_equal(seen[1][1][0], a1 + a2)  # the add's result, looked up
    np.testing.assert_array_equal(out[0], (a1 + a2) * a1)
    assert out[1] is a2
    np.testing.assert_array_equal(out[2], a1 + a2)


def test_walk_maps_values_to_anything():
    b = GraphBuilder()
    x = b.add_input(TensorType(F32, ()))
    (n,) = b.add_op(E.neg_op, [x])
    assert walk(b.build([n]), ["x"], lambda op, ins: [f"{op.name}({ins[0]})"]) == ["negate(x)"]
