# ruff: noqa: E501
"""Algebraic simplification: text in -> text out goldens (goldens/simplify/: what changes and
what must not), results on XLA unchanged, and the fixed-point driver's cap."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
from compiler.ir.graph import Op
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from compiler.passes import PassError, PassManager
from compiler.passes.simplify import RULES
from tests.golden import golden_cases

GOLDENS = Path(__file__).parent / "goldens" / "simplify"


# goldens/simplify/<case>.in.tfx -> <case>.out.tfx (what changes and what must not, said in the
# .in file's comments); `pytest --update-goldens` rewrites the .out files
@pytest.mark.parametrize("case", golden_cases(GOLDENS))
def test_golden(case, golden):
    out, _ = PassManager(["simplify", "dce"], verify=True).run(parse_graph(case.text()))
    golden.check(case.expected, print_graph(out))


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


def test_reduce_of_broadcast_numerics():
    before = parse_graph((GOLDENS / "reduce-of-broadcast.in.tfx").read_text())
    out, _ = PassManager(["simplify", "dce"], verify=True).run(before)
    rng = np.random.default_rng(0)
    args = [np.array([[2**30], [-7], [3]], np.int32),  # 20 * 2**30 wraps, as the sum does
            np.array([[-0.0], [np.nan], [1.5]], np.float32),
            rng.standard_normal(3).astype(np.float32)]
    _assert_same_on_xla(before, out, args)


def _assert_same_on_xla(before, after, args):
    """Both graphs give bit-identical results on XLA (NaN payload aside; zero signs kept)."""
    import runtime
    from compiler.lowering.options import LoweringOptions
    from compiler.lowering.stablehlo import lower_graph

    results = []
    for g in (before, after):
        exe, _ = runtime.compile_stablehlo(
            lower_graph(g, LoweringOptions("cpu")).bytecode, [(t.shape, t.dtype.np_dtype) for t in g.output_types])
        results.append([np.asarray(o) for o in exe([runtime.device_put(a) for a in args])])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
        if a.dtype.kind == "f":
            assert np.array_equal(np.signbit(a), np.signbit(b))


def test_unary_and_cast_chains_numerics():
    before = parse_graph((GOLDENS / "unary-and-cast-chains.in.tfx").read_text())
    out, _ = PassManager(["simplify", "dce"], verify=True).run(before)
    specials = np.array([np.nan, -np.nan, -0.0, 0.0, -2.5, 2.5, np.inf, 1e-3], np.float32)
    args = [specials, np.array([-128, 127, -1, 0, 1, 5, -5, 100], np.int8),
            np.array([65504, -0.0, 1e-7, np.nan, 3.14159, -1, 2049, 0.1], np.float16),
            np.array([True, False] * 4), specials[::-1].copy()]
    _assert_same_on_xla(before, out, args)
