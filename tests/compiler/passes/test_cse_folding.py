"""CSE and constant folding: text in -> text out goldens (goldens/cse/, goldens/fold/), cases
that must not change, and compiled results with and without the passes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import compiler.ops  # noqa: F401  (registers every OpDef)
import tfx_core as tx
from compiler.ir.parser import parse_graph
from compiler.ir.printer import print_graph
from compiler.passes import DEFAULT_PIPELINE, PIPELINE_ORDER, PassManager
from tests.golden import golden_cases

GOLDENS = Path(__file__).parent / "goldens"
PIPELINES = {"cse": ["cse", "dce"], "fold": list(DEFAULT_PIPELINE)}  # per goldens/ folder


# goldens/{cse,fold}/<case>.in.tfx -> <case>.out.tfx; `pytest --update-goldens` rewrites the .out
# files
@pytest.mark.parametrize("case", [c for d in PIPELINES for c in golden_cases(GOLDENS / d)])
def test_golden(case, golden):
    passes = PIPELINES[case.source.parent.name]
    out, _ = PassManager(passes, verify=True).run(parse_graph(case.text()))
    golden.check(case.expected, print_graph(out))


def test_unchanged_graph_is_returned_as_is():
    g = parse_graph((GOLDENS / "cse" / "cse-merges-duplicates-and-commuted-operands.out.tfx")
                    .read_text())
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
