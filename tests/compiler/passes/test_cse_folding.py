"""CSE and constant folding: text in -> text out goldens, cases that must not change, and
compiled results with and without the passes."""
from __future__ import annotations

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
import tfx_core as tx
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from compiler.passes import DEFAULT_PIPELINE, PIPELINE_ORDER, PassManager

GOLDENS = [
    pytest.param(["cse", "dce"], """\
func @g(%0: f32[2,3], %1: f32[2,3]) -> (f32[2,3], f32[2,3]) {
  %2: f32[2,3] = exp %0
  %3: f32[2,3] = exp %0
  %4: f32[2,3] = add %2, %1
  %5: f32[2,3] = add %1, %3
  %6: f32[2,3] = subtract %2, %1
  %7: f32[2,3] = subtract %1, %3
  return %4, %5
}""", """\
func @g(%0: f32[2,3], %1: f32[2,3]) -> (f32[2,3], f32[2,3]) {
  %2: f32[2,3] = exp %0
  %3: f32[2,3] = add %2, %1
  return %3, %3
}""", id="cse-merges-duplicates-and-commuted-operands"),
    pytest.param(["cse", "dce"], """\
func @g(%0: f32[2]) -> (f32[2], f32[2], f32[2]) {
  %1: f32[] = constant {value=dense<f32[] [0.0]>}
  %2: f32[] = constant {value=dense<f32[] [-0.0]>}
  %3: f32[] = constant {value=dense<f32[] [0.0]>}
  %4: f32[2] = add %0, %1
  %5: f32[2] = add %0, %2
  %6: f32[2] = add %0, %3
  return %4, %5, %6
}""", """\
func @g(%0: f32[2]) -> (f32[2], f32[2], f32[2]) {
  %1: f32[] = constant {value=dense<f32[] [0.0]>}
  %2: f32[] = constant {value=dense<f32[] [-0.0]>}
  %3: f32[2] = add %0, %1
  %4: f32[2] = add %0, %2
  return %3, %4, %3
}""", id="cse-keeps-signed-zeros-apart"),
    pytest.param(list(DEFAULT_PIPELINE), """\
func @g(%0: f32[3]) -> (f32[3], i32[1]) {
  %1: f32[] = constant {value=dense<f32[] [2.0]>}
  %2: f32[] = exp %1
  %3: f32[] = multiply %2, %1
  %4: f32[3] = add %0, %3
  %5: i32[1] = shape_of %0
  return %4, %5
}""", """\
func @g(%0: f32[3]) -> (f32[3], i32[1]) {
  %1: f32[] = constant {value=dense<f32[] [14.778111457824707]>}
  %2: f32[3] = add %0, %1
  %3: i32[1] = constant {value=dense<i32[1] [3]>}
  return %2, %3
}""", id="fold-constant-chains-and-shapes"),
    pytest.param(list(DEFAULT_PIPELINE), """\
func @g(%0: f32[3]) -> (f32[2000], i32[], f32[]) {
  %1: f32[] = constant {value=dense<f32[] [2.0]>}
  %2: f32[2000] = broadcast_to %1 {shape=(2000,)}
  %3: i32[] = constant {value=dense<i32[] [7]>}
  %4: i32[] = constant {value=dense<i32[] [0]>}
  %5: i32[] = divide %3, %4
  %6: f32[] = constant {value=dense<f32[] [0.0]>}
  %7: f32[] = divide %6, %6
  return %2, %5, %7
}""", """\
func @g(%0: f32[3]) -> (f32[2000], i32[], f32[]) {
  %1: f32[] = constant {value=dense<f32[] [2.0]>}
  %2: f32[2000] = broadcast_to %1 {shape=(2000,)}
  %3: i32[] = constant {value=dense<i32[] [-1]>}
  %4: f32[] = constant {value=dense<f32[] [nan]>}
  return %2, %3, %4
}""", id="fold-keeps-big-splats-and-uses-xla-semantics"),
    pytest.param(list(DEFAULT_PIPELINE), """\
func @g(%0: f32[2,2]) -> (f32[2,2]) {
  %1: f32[] = reduce_sum %0 {axes=(0, 1), keepdims=false}
  %2: f32[] = constant {value=dense<f32[] [3.0]>}
  %3: f32[] = broadcast_like %2, %1
  %4: f32[2,2] = multiply %0, %3
  return %4
}""", """\
func @g(%0: f32[2,2]) -> (f32[2,2]) {
  %1: f32[] = constant {value=dense<f32[] [3.0]>}
  %2: f32[2,2] = multiply %0, %1
  return %2
}""", id="fold-shape-only-broadcast-drops-its-dependency"),
]


@pytest.mark.parametrize("passes,before,after", GOLDENS)
def test_golden(passes, before, after):
    out, _ = PassManager(passes, verify=True).run(parse_graph(before))
    assert print_graph(out) == after


def test_unchanged_graph_is_returned_as_is():
    g = parse_graph(GOLDENS[0].values[2])
    for name in ("cse", "constant_folding"):
        out, _ = PassManager([name], verify=True).run(g)
        assert out is g


def _model(x, w, b):
    h = tx.nn.relu(tx.matmul(x, w) + b)
    s = tx.reduce_sum(h * 2.0) + tx.reduce_sum(h * 2.0)  # a duplicated subexpression
    k = tx.exp(tx.constant(1.5)) * tx.cast(tx.shape(x)[0], tx.float32)  # foldable
    return tx.nn.softmax(h * k) + s


def test_compiled_results_do_not_depend_on_the_passes():
    rng = np.random.default_rng(0)
    args = [tx.constant(rng.standard_normal(s).astype(np.float32)) for s in ((4, 5), (5, 3), (3,))]
    with_passes = tx.function(_model)
    without = tx.function(_model, experimental_passes=[])
    np.testing.assert_allclose(with_passes(*args).numpy(), without(*args).numpy(),
                               rtol=1e-6, atol=1e-6)
    records = with_passes.get_concrete_function(*args).pass_records
    assert [r.name for r in records] == list(DEFAULT_PIPELINE)
    assert records[-1].ops_after < records[0].ops_before


def test_config_optimizer_options_choose_the_pipeline():
    assert tx.config.optimizer.get_experimental_options() == {
        p: p in DEFAULT_PIPELINE for p in PIPELINE_ORDER}
    x = tx.constant([1.0, 2.0])
    try:
        tx.config.optimizer.set_experimental_options({"constant_folding": False})
        assert tx.config.optimizer.get_experimental_options()["constant_folding"] is False
        f = tx.function(lambda v: v * tx.exp(tx.constant(1.0)))
        np.testing.assert_allclose(f(x).numpy(), [np.e, 2 * np.e], rtol=1e-6)
        names = [r.name for r in f.get_concrete_function(x).pass_records]
        assert names == [p for p in DEFAULT_PIPELINE if p != "constant_folding"]
        assert "exp" in f.experimental_get_compiler_ir(x)("ir_optimized")
    finally:
        tx.config.optimizer.set_experimental_options({"constant_folding": True})
    g = tx.function(lambda v: v * tx.exp(tx.constant(1.0)))
    g(x)
    assert "exp" not in g.experimental_get_compiler_ir(x)("ir_optimized")
    try:  # the opt-in passes go to their place in the pipeline (TF's names work too)
        tx.config.optimizer.set_experimental_options({"remapping": True, "layout": True})
        assert tx.config.optimizer.pipeline() == (
            "constant_folding", "simplify", "layout", "cse", "dce", "fusion")
        h = tx.function(lambda v: tx.tanh(v) * 2.0 + 1.0)
        np.testing.assert_allclose(h(x).numpy(), np.tanh([1.0, 2.0]) * 2 + 1, rtol=1e-6)
        assert [r.name for r in h.get_concrete_function(x).pass_records][-1] == "fusion"
        assert "fusion" in h.experimental_get_compiler_ir(x)("ir_optimized")
    finally:
        tx.config.optimizer.set_experimental_options({"fusion": False, "layout": False})
    assert tx.config.optimizer.pipeline() == DEFAULT_PIPELINE
    with pytest.raises(ValueError, match="unknown option 'bogus'"):
        tx.config.optimizer.set_experimental_options({"bogus": False})
    with pytest.raises(TypeError, match="True or False"):
        tx.config.optimizer.set_experimental_options({"cse": "no"})


def test_experimental_passes_chooses_the_pipeline_per_function():
    x = tx.constant([1.0, 2.0])
    f = tx.function(lambda v: v + v * 0.0 + v * 0.0, experimental_passes=["cse"])
    f(x)
    assert [r.name for r in f.get_concrete_function(x).pass_records] == ["cse"]
    with pytest.raises(ValueError, match="unknown passes"):
        tx.function(lambda v: v, experimental_passes=["no_such_pass"])


def test_pass_records_say_what_changed():
    g = parse_graph("""\
func @g(%0: f32[3]) -> (f32[3]) {
  %1: f32[] = constant {value=dense<f32[] [2.0]>}
  %2: f32[] = constant {value=dense<f32[] [3.0]>}
  %3: f32[] = multiply %1, %2
  %4: f32[3] = exp %0
  %5: f32[3] = exp %0
  %6: f32[3] = add %4, %5
  %7: f32[3] = add %5, %4
  %8: f32[3] = multiply %6, %7
  %9: f32[3] = multiply %8, %3
  return %9
}""")
    _, records = PassManager(list(DEFAULT_PIPELINE), verify=True).run(g)
    changed = {r.name: r.changed for r in records}
    assert changed == {
        "constant_folding": "folded 1 op (multiply 1)",
        "simplify": "no change",
        "cse": "merged 2 ops (add 1, exp 1)",
        "dce": "dropped 2 ops (constant 2)",
    }
    assert records[2].summary.startswith("cse: merged 2 ops (add 1, exp 1) (")
