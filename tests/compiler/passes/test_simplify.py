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


# Reductions over only the copies a broadcast made, and over no axes (XLA returns the operand).
# Kept: a float sum (n additions round differently from one multiply) and reducing zero copies
# (that is the identity value, not x).
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
    before = parse_graph(REDUCE_BROADCAST)
    out, _ = PassManager(["simplify", "dce"], verify=True).run(before)
    assert print_graph(out) == REDUCE_BROADCAST_AFTER
    rng = np.random.default_rng(0)
    args = [np.array([[2**30], [-7], [3]], np.int32),  # 20 * 2**30 wraps, as the sum does
            np.array([[-0.0], [np.nan], [1.5]], np.float32),
            rng.standard_normal(3).astype(np.float32)]
    _assert_same_on_xla(before, out, args)


def _assert_same_on_xla(before, after, args):
    """Both graphs give bit-identical results on XLA (NaN payload aside; zero signs kept)."""
    import runtime
    from compiler.lowering.stablehlo import lower_graph

    results = []
    for g in (before, after):
        exe, _ = runtime.compile_stablehlo(
            lower_graph(g).bytecode, [(t.shape, t.dtype.np_dtype) for t in g.output_types])
        results.append([np.asarray(o) for o in exe([runtime.device_put(a) for a in args])])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
        if a.dtype.kind == "f":
            assert np.array_equal(np.signbit(a), np.signbit(b))


# Idempotent unary chains and exact cast chains. Kept: f32 -> f16 -> f32 (rounds), f16 -> bf16
# -> f16 (bf16 can't hold every f16), a single floor/abs/sign.
UNARY_CHAINS = """\
func @g(%0: f32[8], %1: i8[8], %2: f16[8], %3: bool[8], %4: f32[8]) -> (f32[8], f32[8], f32[8], i32[8], f32[8], f16[8], bool[8], i8[8], f32[8], f16[8], f32[8]) {
  %5: f32[8] = abs %0
  %6: f32[8] = abs %5
  %7: f32[8] = floor %0
  %8: f32[8] = ceil %7
  %9: f32[8] = negate %0
  %10: f32[8] = abs %9
  %11: f32[8] = convert %1 {dtype=f32}
  %12: i32[8] = convert %11 {dtype=i32}
  %13: f64[8] = convert %0 {dtype=f64}
  %14: f32[8] = convert %13 {dtype=f32}
  %15: f32[8] = convert %2 {dtype=f32}
  %16: f16[8] = convert %15 {dtype=f16}
  %17: bool[8] = not %3
  %18: bool[8] = not %17
  %19: i32[8] = convert %1 {dtype=i32}
  %20: i8[8] = convert %19 {dtype=i8}
  %21: f16[8] = convert %4 {dtype=f16}
  %22: f32[8] = convert %21 {dtype=f32}
  %23: bf16[8] = convert %2 {dtype=bf16}
  %24: f16[8] = convert %23 {dtype=f16}
  %25: f32[8] = sign %0
  %26: f32[8] = sign %25
  return %6, %8, %10, %12, %14, %16, %18, %20, %22, %24, %26
}"""

UNARY_CHAINS_AFTER = """\
func @g(%0: f32[8], %1: i8[8], %2: f16[8], %3: bool[8], %4: f32[8]) -> (f32[8], f32[8], f32[8], i32[8], f32[8], f16[8], bool[8], i8[8], f32[8], f16[8], f32[8]) {
  %5: f32[8] = abs %0
  %6: f32[8] = floor %0
  %7: f32[8] = abs %0
  %8: i32[8] = convert %1 {dtype=i32}
  %9: f16[8] = convert %4 {dtype=f16}
  %10: f32[8] = convert %9 {dtype=f32}
  %11: bf16[8] = convert %2 {dtype=bf16}
  %12: f16[8] = convert %11 {dtype=f16}
  %13: f32[8] = sign %0
  return %5, %6, %7, %8, %0, %2, %3, %1, %10, %12, %13
}"""


def test_unary_and_cast_chains_golden_and_numerics():
    before = parse_graph(UNARY_CHAINS)
    out, _ = PassManager(["simplify", "dce"], verify=True).run(before)
    assert print_graph(out) == UNARY_CHAINS_AFTER
    specials = np.array([np.nan, -np.nan, -0.0, 0.0, -2.5, 2.5, np.inf, 1e-3], np.float32)
    args = [specials, np.array([-128, 127, -1, 0, 1, 5, -5, 100], np.int8),
            np.array([65504, -0.0, 1e-7, np.nan, 3.14159, -1, 2049, 0.1], np.float16),
            np.array([True, False] * 4), specials[::-1].copy()]
    _assert_same_on_xla(before, out, args)
