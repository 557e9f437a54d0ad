"""tx.debugging.compare: each finding it reports, on a function built to produce it, and OK on
one that has none (numbers checked against numpy by compare itself; the tests check the report)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from compiler.divergence import closeness, mismatch_cause
from compiler.ir.graph import GraphBuilder, walk
from compiler.ir.types import F32, TensorType
from compiler.passes import PASSES, graph_pass
from compiler.registry import REGISTRY
from tfx_core.debugging import compare

X4 = np.arange(4, dtype=np.float32)


def line_of(marker: str) -> str:
    """The "test_compare.py:N" of the line holding `marker` (ops carry the user's line)."""
    lines = Path(__file__).read_text().splitlines()
    return f"{Path(__file__).name}:{next(i + 1 for i, s in enumerate(lines) if marker in s)}"


@tx.function
def index(x, i):
    return x[i] * 2.0  # <- index


def mlp(x, w):
    return tx.reduce_sum(tx.tanh(tx.matmul(x, w)) + tx.exp(-x[:, :1]), axis=1)


def log_plus_one(x):
    return tx.math.log(x) + 1.0  # <- log


def long_sum(x):
    return tx.reduce_sum(x)  # <- sum


def test_agreeing_function_is_ok():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16)).astype(np.float32)
    w = rng.standard_normal((16, 16)).astype(np.float32)
    report = compare(mlp, x, w)
    assert report.ok and report.first_divergence is None, str(report)
    assert report.findings == [] and [o.ok for o in report.outputs] == [True]
    assert "OK" in str(report) and report.ops_compared["traced"] >= 5


def test_in_range_runtime_index_is_ok():
    report = compare(index, X4, tx.constant(2))
    assert report.ok, str(report)


def test_out_of_range_runtime_index_names_the_clamping_op():
    report = compare(index, X4, tx.constant(10))  # XLA clamps 10 to 3; eagerly x[10] raises
    d = report.first_divergence
    assert not report.ok and d is not None
    assert (d.kind, d.op, d.loc) == ("clamped_index", "dynamic_slice", line_of("# <- index"))
    assert "index 10" in d.cause and "clamps it to 3" in d.cause
    text = str(report)
    assert "clamped index" in text and "dynamic_slice" in text and d.loc in text
    assert all(o.ok for o in report.outputs)  # both sides clamp: only the hazard is reported


def test_clamped_index_inside_a_loop_body_names_the_iteration():
    @tx.function
    def total(x, n):
        acc = tx.constant(0.0)
        for i in tx.range(n):
            acc += x[i]  # <- loop index
        return acc

    d = compare(total, X4, tx.constant(6)).first_divergence
    assert (d.kind, d.op, d.loc) == ("clamped_index", "dynamic_slice",
                                     line_of("# <- loop index"))
    assert "while iteration 4" in d.stage and "index 4" in d.cause
    assert compare(total, X4, tx.constant(4)).ok


def test_nan_born_at_log_of_a_negative_number():
    report = compare(log_plus_one, np.array([1.0, -1.0, 2.0], np.float32))
    d = report.first_divergence
    assert (d.kind, d.op, d.loc) == ("nan_born", "log", line_of("# <- log"))
    assert "NaN born here" in str(report) and "-1.0" in d.cause
    assert compare(log_plus_one, np.array([1.0, 3.0], np.float32)).ok


def test_nan_born_inside_a_cond_branch_names_the_inner_op():
    @tx.function
    def branchy(x):
        if tx.reduce_sum(x) > 0:
            y = tx.sqrt(x - 2.0)  # <- sqrt
        else:
            y = x
        return y

    report = compare(branchy, X4)
    assert [(d.op, d.loc) for d in report.findings] == [("sqrt", line_of("# <- sqrt"))]
    assert "case branch" in report.first_divergence.stage


def test_long_float32_sum_with_cancellation_is_reassociation():
    rng = np.random.default_rng(1)
    v = rng.standard_normal(1 << 16) * 1000
    x = (v - v.mean()).astype(np.float32)  # sums to ~0: every digit of the result is rounding
    assert compare(long_sum, x).ok  # measured against the terms' magnitude: within tolerance
    report = compare(long_sum, x, rtol=1e-12, atol=0.0)
    d = report.first_divergence
    assert (d.kind, d.op, d.loc) == ("mismatch", "reduce_sum", line_of("# <- sum"))
    assert "reassociation" in d.cause and d.max_abs_error > 0
    assert "reassociation" in str(report)


def test_integer_overflow_is_named():
    def scale(a):
        return a * 100_000

    d = compare(scale, np.array([1, 100_000], np.int32)).first_divergence
    assert (d.kind, d.op) == ("integer_overflow", "multiply")
    assert "10000000000" in d.cause
    assert compare(scale, np.array([1, 2], np.int32)).ok


def _add_to_subtract(g):
    """A deliberately wrong pass: every add becomes a subtract (the op keeps its line)."""
    b = GraphBuilder(g.name)

    def apply(op, ins):
        opdef = REGISTRY["subtract"] if op.name == "add" else op.opdef
        return b.add_op(opdef, ins, op.attrs, op.loc)

    return b.build(walk(g, [b.add_input(t) for t in g.input_types], apply))


if "test_compare_add_to_subtract" not in PASSES:
    graph_pass("test_compare_add_to_subtract")(_add_to_subtract)


def test_a_pass_that_changes_results_is_named():
    def f(x, y):
        return x * 2.0 + y  # <- broken add

    broken = tx.function(f, experimental_passes=["constant_folding",
                                                 "test_compare_add_to_subtract", "dce"])
    x, y = np.float32([1.0, 2.0]), np.float32([3.0, 4.0])
    report = compare(broken, x, y)
    d = report.first_divergence
    assert (d.kind, d.op, d.loc) == ("pass_changed_results", "subtract",
                                     line_of("# <- broken add"))
    assert d.rewritten_by == "test_compare_add_to_subtract"
    assert "test_compare_add_to_subtract" in str(report)
    assert [o.ok for o in report.outputs] == [False]
    assert compare(tx.function(f), x, y).ok


def test_an_op_a_pass_rewrote_is_attributed_to_it():
    def f(x):
        return tx.math.log(x + 1.0)  # <- log of a rewritten add

    broken = tx.function(f, experimental_passes=["test_compare_add_to_subtract"])
    report = compare(broken, np.float32([0.5, 2.0]))  # log(x - 1): NaN only after the pass
    d = report.first_divergence
    assert (d.kind, d.op, d.stage) == ("nan_born", "log", "optimized IR")
    assert d.loc == line_of("# <- log of a rewritten add")
    assert d.rewritten_by == "test_compare_add_to_subtract"
    assert "last rewritten by pass 'test_compare_add_to_subtract'" in str(report)
    assert [x.kind for x in report.findings] == ["nan_born", "pass_changed_results"]


def test_variables_are_left_untouched():
    v = tx.Variable(np.float32([1.0, 2.0]))

    @tx.function
    def step(x):
        v.assign_add(x)
        return v * 2.0

    report = compare(step, np.float32([0.5, 0.5]))
    assert report.ok, str(report)
    assert [o.what for o in report.outputs] == ["output 0", "variable update 0"]
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def _one_op(name: str):
    b = GraphBuilder()
    x = b.add_input(TensorType(F32, (3,)))
    b.add_op(REGISTRY[name], [x])
    return b.ops[0]


@pytest.mark.parametrize("ulps, cause", [(3, "approximate transcendental"),
                                         (5000, "no known cause")])
def test_transcendental_ulp_errors_are_told_apart_from_bugs(ulps, cause):
    want = np.exp(np.float32([0.5, 1.0, 2.0]))
    got = want + ulps * np.spacing(want)
    c = closeness(want, got, 0.0, 0.0)
    assert not c.ok
    assert mismatch_cause(_one_op("exp"), [np.float32([0.5, 1.0, 2.0])], want, got, c,
                          None).startswith(cause)
