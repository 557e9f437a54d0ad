# ruff: noqa: E501
"""Algebraic simplification: text in -> text out goldens (what changes and what must not),
and the fixed-point driver's cap."""
from __future__ import annotations

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
