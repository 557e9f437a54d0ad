# ruff: noqa: E501
"""Fusion: regions as nested graphs (goldens, what must stay outside), their lowering to private
functions, the verifier on regions, and results unchanged by fusing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
import tfx_core as tx
from compiler.ir.graph import Graph, Op, Value
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from compiler.ir.verify import VerificationError, verify_graph
from compiler.lowering.options import LoweringOptions
from compiler.lowering.stablehlo import lower_graph
from compiler.passes import PassManager
from tests.golden import Case, read_golden

# A dense layer with relu, a softmax-like row sum, and an elementwise tail, and its fused form:
# goldens/fusion/<case>.in.tfx -> <case>.out.tfx (`pytest --update-goldens` rewrites the .out file)
DENSE = Case(Path(__file__).parent / "goldens" / "fusion" / "dense-relu-rowsum-tail.in.tfx")
BEFORE = DENSE.text()

# Not fused: %2 has a user outside any region it could join (the graph output), %4 is used by
# two consumers that end up in different regions, and a single elementwise op is no region.
KEPT = """\
func @g(%0: f32[8], %1: f32[8]) -> (f32[8], f32[8], f32[], f32[8]) {
  %2: f32[8] = exp %0
  %3: f32[8] = negate %2
  %4: f32[8] = sin %1
  %5: f32[] = reduce_max %4 {axes=(0,), keepdims=false}
  %6: f32[8] = cos %4
  %7: f32[8] = transpose %6 {perm=(0,)}
  return %2, %3, %5, %7
}"""


def _run(passes, text):
    return PassManager(passes, verify=True).run(parse_graph(text))


def test_golden_regions(golden):
    out, records = _run(["fusion"], BEFORE)
    golden.check(DENSE.expected, print_graph(out))
    assert records[0].changed == "fused 8 ops (matmul 3, reduction 3, elementwise 2)"


def test_printed_regions_parse_back():
    after = read_golden(DENSE.expected)
    assert print_graph(parse_graph(after)) == after


def test_what_must_stay_outside():
    out, _ = _run(["fusion"], KEPT)
    assert print_graph(out) == KEPT


def test_fused_graph_lowers_regions_to_private_functions_called_once_each():
    out, _ = _run(["fusion"], BEFORE)
    text = lower_graph(out, LoweringOptions("cpu")).text
    for name in ("matmul_0", "reduction_1", "elementwise_2"):
        assert f"func.func private @{name}(" in text
        assert text.count(f"call @{name}(") == 1


def test_identical_region_bodies_share_one_function():
    layer = "\n".join(
        f"  %{4 + 2 * i}: f32[2,3] = tanh %{3 + 2 * i}\n  %{5 + 2 * i}: f32[2,3] = multiply %{4 + 2 * i}, %{2 - i}"
        for i in range(2))
    text = f"""func @g(%0: f32[2,3], %1: f32[2,3], %2: f32[2,3]) -> (f32[2,3], f32[2,3]) {{
  %3: f32[2,3] = add %0, %1
{layer}
  %8: f32[2,3] = exp %3
  %9: f32[2,3] = negate %8
  %10: f32[2,3] = exp %5
  %11: f32[2,3] = negate %10
  return %9, %11
}}"""
    out, _ = _run(["fusion"], text)
    hist = out.op_histogram()
    assert hist["fusion"] == 4, print_graph(out)
    lowered = lower_graph(out, LoweringOptions("cpu")).text
    # tanh+multiply and exp+negate appear twice each with the same body: two functions
    assert lowered.count("func.func private") == 2, lowered


def test_verifier_rejects_a_region_that_reads_an_outer_value():
    good = _run(["fusion"], BEFORE)[0]
    fused = good.ops[0]
    body: Graph = fused.attr_dict["body"]
    outer = good.inputs[0]
    bad_op = body.ops[0].replace(inputs=(outer, body.inputs[1]))  # not a body value
    bad_body = Graph(body.inputs, (bad_op, *body.ops[1:]), body.outputs, body.name)
    bad = Graph(good.inputs, (fused.replace(attrs=(("body", bad_body),)), *good.ops[1:]),
                good.outputs, good.name)
    with pytest.raises(VerificationError, match=r"in body @matmul_0: op #0 dot_general: input 0"):
        verify_graph(bad)


def test_fusion_op_checks_its_operand_types():
    good = _run(["fusion"], BEFORE)[0]
    fused = good.ops[0]
    bad = Op(fused.opdef, (good.inputs[1], good.inputs[0], good.inputs[2]), fused.attrs,
             (Value(fused.outputs[0].type),))
    with pytest.raises(Exception, match=r"fusion @matmul_0 takes \['f32\[4,3\]', 'f32\[3,5\]'"):
        bad.opdef.infer_types(tuple(v.type for v in bad.inputs), dict(bad.attrs))


def _mlp(x, w1, b1, w2, b2):
    h = tx.nn.relu(tx.matmul(x, w1) + b1)
    logits = tx.matmul(h, w2) + b2
    return tx.nn.softmax(logits), tx.reduce_sum(tx.tanh(h) * 0.5, axis=1)


def test_compiled_results_are_bit_identical_with_fusion():
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s).astype(np.float32)
            for s in [(16, 8), (8, 32), (32,), (32, 10), (10,)]]
    base = tx.function(_mlp, experimental_passes=["constant_folding", "simplify", "cse", "dce"])
    fused = tx.function(_mlp, experimental_passes=["constant_folding", "simplify", "cse", "dce",
                                                   "fusion"])
    for a, b in zip(base(*args), fused(*args)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    ir = fused.experimental_get_compiler_ir(*args)(stage="ir_optimized")
    assert "fusion" in ir and "@matmul_" in ir and "@reduction_" in ir


def test_gradient_through_a_fusion_op_matches_the_unfused_ops():
    from compiler.interpreters import bind
    from compiler.ops.fusion import fusion_op

    region = _run(["fusion"], BEFORE)[0].ops[0].attr_dict["body"]
    rng = np.random.default_rng(1)
    x, w, b = (tx.constant(rng.standard_normal(t.shape).astype(np.float32))
               for t in region.input_types)
    with tx.GradientTape(persistent=True) as tape:
        tape.watch([x, w, b])
        fused = bind(fusion_op, x, w, b, body=region)[0]
        plain = tx.nn.relu(tx.matmul(x, w) + b)
    for got, want in zip(tape.gradient(fused, [x, w, b]), tape.gradient(plain, [x, w, b])):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_tfx_dump_ir_writes_each_stage_and_regions_parse_back(tmp_path, monkeypatch):
    monkeypatch.setenv("TFX_DUMP_IR", str(tmp_path))
    f = tx.function(lambda x: tx.tanh(tx.reduce_sum(tx.exp(x) * 2.0, axis=0)) + 1.0,
                    experimental_passes=["constant_folding", "cse", "dce", "fusion"])
    f(np.ones((3, 4), np.float32))
    names = sorted(p.name.split(".", 1)[1] for p in tmp_path.iterdir())
    assert names == ["00_input.tfx", "01_constant_folding.tfx", "02_cse.tfx", "03_dce.tfx",
                     "04_fusion.tfx"]
    fused = next(tmp_path.glob("*.04_fusion.tfx")).read_text()
    assert "@reduction_0(" in fused and "@elementwise_1(" in fused
    assert print_graph(parse_graph(fused)).count("fusion") == 2  # locations are comments
