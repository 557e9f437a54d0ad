"""The verifier accepts well-formed graphs and names the op in every rejection."""
from __future__ import annotations

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.ir.graph import ConstArray, Graph, GraphBuilder, Op, Value
from compiler.ir.parser import parse_graph
from compiler.ir.types import BOOL, F32, F64, I32, TensorType
from compiler.ir.verify import VerificationError, verify_graph
from compiler.ops import cast
from compiler.ops import constant as C
from compiler.ops import elementwise as E


def T(dtype, *shape) -> TensorType:
    return TensorType(dtype, tuple(shape))


def good_graph() -> Graph:
    b = GraphBuilder("good")
    x = b.add_input(T(F32, 2, 3))
    y = b.add_input(T(F32, 3))
    (s,) = b.add_op(E.sin_op, [x])
    (a,) = b.add_op(E.add_op, [s, y])
    (k,) = b.add_op(C.constant_op, [], {"value": ConstArray(np.array(0.5, np.float32))})
    (c,) = b.add_op(E.compare_op, [a, k], {"direction": "LT"})
    (w,) = b.add_op(E.select_op, [c, a, x])
    (i,) = b.add_op(cast.convert_op, [w], {"dtype": I32})
    return b.build([w, c, i, x])


# ---------------------------------------------------------------- accepted
def test_accepts_built_graph():
    verify_graph(good_graph())


def test_accepts_parsed_graph():
    verify_graph(parse_graph(str(good_graph())))


def test_accepts_unknown_dims_and_scalars():
    b = GraphBuilder()
    x = b.add_input(T(F32, None, 3))
    y = b.add_input(T(F32))
    (a,) = b.add_op(E.mul_op, [x, y])
    verify_graph(b.build([a]))


def test_accepts_empty_graphs_and_passthrough():
    b = GraphBuilder()
    x = b.add_input(T(BOOL, 0))
    verify_graph(b.build([x, x]))
    verify_graph(GraphBuilder().build([]))


def test_accepts_value_used_many_times():
    b = GraphBuilder()
    x = b.add_input(T(F64, 4))
    (m,) = b.add_op(E.mul_op, [x, x])
    (n,) = b.add_op(E.mul_op, [m, x])
    verify_graph(b.build([n, m]))


# ---------------------------------------------------------------- rejected
def _reject(g: Graph, *fragments: str) -> str:
    with pytest.raises(VerificationError) as ei:
        verify_graph(g)
    msg = str(ei.value)
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"
    return msg


def test_rejects_use_before_def():
    g = good_graph()
    ops = list(g.ops)
    ops[0], ops[1] = ops[1], ops[0]  # add now reads sin's output before sin runs
    _reject(Graph(g.inputs, tuple(ops), g.outputs, g.name), "add", "before it is defined")


def test_rejects_use_of_foreign_value():
    b = GraphBuilder()
    x = b.add_input(T(F32, 2))
    stray = Value(T(F32, 2))  # defined nowhere in this graph
    b.add_op(E.add_op, [x, stray])
    g = b.build([])
    _reject(g, "add", "input 1", "before it is defined")


@pytest.mark.parametrize(
    "recorded",
    [T(F32, 3, 2), T(F64, 2, 3), T(F32, 2, 3, 1), T(F32, None, 3)],
    ids=["shape", "dtype", "rank", "unknown_dim"],
)
def test_rejects_recorded_type_not_matching_infer(recorded):
    b = GraphBuilder()
    x = b.add_input(T(F32, 2, 3))
    (y,) = b.add_op(E.tanh_op, [x], out_types=(recorded,))
    msg = _reject(b.build([y]), "tanh", "recorded types", "infer gives")
    assert str(recorded) in msg and "f32[2,3]" in msg


def test_rejects_wrong_type_in_parsed_text():
    g = parse_graph(
        "func @f(%0: f32[2,3]) -> (f32[3,2]) {\n"
        "  %1: f32[3,2] = sin %0\n"
        "  return %1\n"
        "}"
    )
    _reject(g, "sin", "f32[3,2]", "f32[2,3]")


def test_rejects_op_whose_inputs_do_not_type_check():
    b = GraphBuilder()
    x = b.add_input(T(F32, 2))
    y = b.add_input(T(F64, 2))
    (z,) = b.add_op(E.add_op, [x, y], out_types=(T(F32, 2),))
    _reject(b.build([z]), "add", "type inference failed", "f64")


def test_rejects_wrong_number_of_results():
    b = GraphBuilder()
    x = b.add_input(T(F32, 2))
    outs = b.add_op(E.exp_op, [x], out_types=(T(F32, 2), T(F32, 2)))
    _reject(b.build([outs[0]]), "exp", "recorded types")


def test_rejects_dangling_output():
    g = good_graph()
    stray = Value(T(F32, 2, 3))
    _reject(Graph(g.inputs, g.ops, (*g.outputs, stray), g.name), "output 4", "never defined")


def test_rejects_output_of_a_dropped_op():
    g = good_graph()
    # drop the convert op but keep returning its result
    _reject(Graph(g.inputs, g.ops[:-1], g.outputs, g.name), "output 2", "never defined")


def test_rejects_duplicate_definition():
    g = good_graph()
    sin = g.ops[0]
    _reject(Graph(g.inputs, (sin, *g.ops), g.outputs, g.name), "sin", "defined twice")


def test_rejects_op_redefining_a_graph_input():
    b = GraphBuilder()
    x = b.add_input(T(F32, 2))
    (y,) = b.add_op(E.exp_op, [x])
    bad = Op(E.exp_op, (y,), (), (x,))  # "defines" the graph input x again
    g = b.build([y])
    _reject(Graph(g.inputs, (*g.ops, bad), g.outputs), "exp", "defined twice")


def test_rejects_input_listed_twice():
    b = GraphBuilder()
    x = b.add_input(T(F32, 2))
    _reject(Graph((x, x), (), (x,)), "input", "twice")


def test_rejects_bad_attr_via_infer():
    b = GraphBuilder()
    x = b.add_input(T(F32, 2))
    (c,) = b.add_op(E.compare_op, [x, x], {"direction": "GT"})
    bad = b.ops[-1].replace(attrs=(("direction", "SIDEWAYS"),))
    g = Graph(tuple(b.inputs), (bad,), (c,))
    _reject(g, "compare", "SIDEWAYS")


def test_messages_give_the_op_position():
    g = good_graph()
    ops = list(g.ops)
    ops[2], ops[3] = ops[3], ops[2]  # constant <-> compare: compare reads k too early
    msg = _reject(Graph(g.inputs, tuple(ops), g.outputs), "compare")
    assert "#2" in msg


def test_ops_inside_case_branches_are_verified():
    """Branches are a tuple of graphs: a broken op there (found by the artifact fuzzer: a
    compare with direction "" reached MLIR, which aborted the process) must be refused."""
    text = """func @f(%0: i32[], %1: f32[3]) -> (bool[3]) {
  %2: bool[3] = case %0, %1 {branches=(func @b0(%0: f32[3]) -> (bool[3]) {
    %1: bool[3] = compare %0, %0 {direction=""}
    return %1
  }, func @b1(%0: f32[3]) -> (bool[3]) {
    %1: bool[3] = compare %0, %0 {direction="LT"}
    return %1
  })}
  return %2
}"""
    with pytest.raises(VerificationError, match=r"in branches @b0: op #0 compare: type "
                                                r"inference failed: unknown comparison"):
        verify_graph(parse_graph(text))
    verify_graph(parse_graph(text.replace('direction=""', 'direction="GT"')))
