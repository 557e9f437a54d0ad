# ruff: noqa: E501
"""Algebraic simplification: text in -> text out goldens (what changes and what must not),
and the fixed-point driver's cap."""
from __future__ import annotations

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.ir.graph import Op
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from compiler.passes import PassError, PassManager
from compiler.passes.simplify import RULES

# Rewritten: x + (-0.0), int x * 0, a transpose chain, --x, x / 4, a reshape chain, x * 1.
# Kept: x + 0.0 (-0.0 + 0.0 is +0.0), x / 3 (1/3 is inexact), the broadcasting add.
BEFORE = """\
func @g(%0: f32[2,3], %1: i32[2,3], %2: f32[3]) -> (f32[2,3], f32[2,3], i32[2,3], f32[3,2], f32[2,3], f32[2,3], f32[6], f32[2,3], f32[2,3]) {
  %3: f32[] = constant {value=dense<f32[] [0.0]>}
  %4: f32[] = constant {value=dense<f32[] [-0.0]>}
  %5: f32[2,3] = add %0, %3
  %6: f32[2,3] = add %0, %4
  %7: i32[] = constant {value=dense<i32[] [0]>}
  %8: i32[2,3] = multiply %1, %7
  %9: f32[3,2] = transpose %0 {perm=(1, 0)}
  %10: f32[2,3] = transpose %9 {perm=(1, 0)}
  %11: f32[3,2] = transpose %10 {perm=(1, 0)}
  %12: f32[2,3] = negate %0
  %13: f32[2,3] = negate %12
  %14: f32[] = constant {value=dense<f32[] [4.0]>}
  %15: f32[2,3] = divide %0, %14
  %16: f32[3,2] = reshape %0 {shape=(3, 2)}
  %17: f32[6] = reshape %16 {shape=(6,)}
  %18: f32[] = constant {value=dense<f32[] [3.0]>}
  %19: f32[2,3] = divide %0, %18
  %20: f32[] = constant {value=dense<f32[] [1.0]>}
  %21: f32[3] = multiply %2, %20
  %22: f32[2,3] = add %21, %0
  return %5, %6, %8, %11, %13, %15, %17, %19, %22
}"""

AFTER = """\
func @g(%0: f32[2,3], %1: i32[2,3], %2: f32[3]) -> (f32[2,3], f32[2,3], i32[2,3], f32[3,2], f32[2,3], f32[2,3], f32[6], f32[2,3], f32[2,3]) {
  %3: f32[] = constant {value=dense<f32[] [0.0]>}
  %4: f32[2,3] = add %0, %3
  %5: i32[2,3] = constant {value=dense<i32[2,3] [0, 0, 0, 0, 0, 0]>}
  %6: f32[3,2] = transpose %0 {perm=(1, 0)}
  %7: f32[] = constant {value=dense<f32[] [0.25]>}
  %8: f32[2,3] = multiply %0, %7
  %9: f32[6] = reshape %0 {shape=(6,)}
  %10: f32[] = constant {value=dense<f32[] [3.0]>}
  %11: f32[2,3] = divide %0, %10
  %12: f32[2,3] = add %2, %0
  return %4, %0, %5, %6, %0, %8, %9, %11, %12
}"""


def test_golden():
    out, _ = PassManager(["simplify", "dce"], verify=True).run(parse_graph(BEFORE))
    assert print_graph(out) == AFTER


@pytest.mark.parametrize("text", [
    # float x * 0 is not 0 for NaN/inf/-x; x - (-0.0) is not x for x = -0.0
    """\
func @g(%0: f32[2]) -> (f32[2], f32[2]) {
  %1: f32[] = constant {value=dense<f32[] [0.0]>}
  %2: f32[2] = multiply %0, %1
  %3: f32[] = constant {value=dense<f32[] [-0.0]>}
  %4: f32[2] = subtract %0, %3
  return %2, %4
}""",
    # a broadcasting identity: x + (-0.0) with x f32[] and the constant f32[3] changes the shape
    """\
func @g(%0: f32[]) -> (f32[3]) {
  %1: f32[3] = constant {value=dense<f32[3] [-0.0, -0.0, -0.0]>}
  %2: f32[3] = add %0, %1
  return %2
}""",
])
def test_not_rewritten(text):
    g = parse_graph(text)
    out, _ = PassManager(["simplify"], verify=True).run(g)
    assert out is g


def test_a_rule_that_never_settles_is_a_clear_error(monkeypatch):
    def flip(op: Op, ctx):  # always "changes": rebuilds the same negate
        return [op.replace()]

    monkeypatch.setitem(RULES, "negate", flip)
    g = parse_graph("""\
func @g(%0: f32[2]) -> (f32[2]) {
  %1: f32[2] = negate %0
  return %1
}""")
    with pytest.raises(PassError, match="simplify.*did not settle after 8 rounds"):
        PassManager(["simplify"], verify=True).run(g)


# Reductions over only the copies a broadcast made. Kept: a float sum (n additions round
# differently from one multiply), a float sum over no axes (XLA adds +0.0 to -0.0), and
# reducing zero copies (that is the identity value, not x).
REDUCE_BROADCAST = """\
func @g(%0: i32[3,1], %1: f32[3,1], %2: f32[3]) -> (i32[3], f32[2,3,1], f32[4,3], i32[1,3,1], f32[3], f32[0,3], f32[3], f32[4]) {
  %3: i32[4,3,5] = broadcast_to %0 {shape=(4, 3, 5)}
  %4: i32[3] = reduce_sum %3 {axes=(0, 2), keepdims=false}
  %5: f32[2,3,4] = broadcast_to %1 {shape=(2, 3, 4)}
  %6: f32[2,3,1] = reduce_max %5 {axes=(2,), keepdims=true}
  %7: f32[4,3] = broadcast_to %2 {shape=(4, 3)}
  %8: f32[4,3] = reduce_min %7 {axes=(), keepdims=false}
  %9: i32[1,3,1] = reduce_sum %3 {axes=(0, 2), keepdims=true}
  %10: f32[3] = reduce_sum %7 {axes=(0,), keepdims=false}
  %11: f32[0,3] = broadcast_to %2 {shape=(0, 3)}
  %12: f32[3] = reduce_max %11 {axes=(0,), keepdims=false}
  %13: f32[4] = reduce_sum %7 {axes=(1,), keepdims=false}
  return %4, %6, %8, %9, %10, %11, %12, %13
}"""

REDUCE_BROADCAST_AFTER = """\
func @g(%0: i32[3,1], %1: f32[3,1], %2: f32[3]) -> (i32[3], f32[2,3,1], f32[4,3], i32[1,3,1], f32[3], f32[0,3], f32[3], f32[4]) {
  %3: i32[3] = reshape %0 {shape=(3,)}
  %4: i32[] = constant {value=dense<i32[] [20]>}
  %5: i32[3] = multiply %3, %4
  %6: f32[2,3,1] = broadcast_to %1 {shape=(2, 3, 1)}
  %7: f32[4,3] = broadcast_to %2 {shape=(4, 3)}
  %8: i32[1,3,1] = reshape %0 {shape=(1, 3, 1)}
  %9: i32[] = constant {value=dense<i32[] [20]>}
  %10: i32[1,3,1] = multiply %8, %9
  %11: f32[3] = reduce_sum %7 {axes=(0,), keepdims=false}
  %12: f32[0,3] = broadcast_to %2 {shape=(0, 3)}
  %13: f32[3] = reduce_max %12 {axes=(0,), keepdims=false}
  %14: f32[4] = reduce_sum %7 {axes=(1,), keepdims=false}
  return %5, %6, %7, %10, %11, %12, %13, %14
}"""


def test_reduce_of_broadcast_golden_and_numerics():
    import runtime
    from compiler.lowering.stablehlo import lower_graph

    before = parse_graph(REDUCE_BROADCAST)
    out, _ = PassManager(["simplify", "dce"], verify=True).run(before)
    assert print_graph(out) == REDUCE_BROADCAST_AFTER
    rng = np.random.default_rng(0)
    args = [np.array([[2**30], [-7], [3]], np.int32),  # 20 * 2**30 wraps, as the sum does
            np.array([[-0.0], [np.nan], [1.5]], np.float32),
            rng.standard_normal(3).astype(np.float32)]
    results = []
    for g in (before, out):
        exe, _ = runtime.compile_stablehlo(
            lower_graph(g).bytecode, [(t.shape, t.dtype.np_dtype) for t in g.output_types])
        results.append([np.asarray(o) for o in exe([runtime.device_put(a) for a in args])])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
        assert np.array_equal(np.signbit(a), np.signbit(b))
