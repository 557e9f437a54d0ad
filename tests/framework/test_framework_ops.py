"""tx.executing_eagerly, tx.name_scope (in the IR printout and in errors), tx.ensure_shape
(TF's messages, recorded from TF 2.21), tx.identity_n, tx.no_op and tx.group; eager and
compiled."""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from compiler.ir.printer import print_graph
from tests.oracles.data_dependent_cases import ENSURE_SHAPE

ORACLE = json.loads((Path(__file__).parents[1] / "oracles" / "data_dependent.json").read_text())
THIS = Path(__file__).name
X = np.arange(6, dtype=np.float32).reshape(2, 3)


# ---------------------------------------------------------------- executing_eagerly
def test_executing_eagerly():
    seen = []

    @tx.function
    def f(x):
        seen.append(tx.executing_eagerly())
        with tx.init_scope():
            seen.append(tx.executing_eagerly())  # as TF: init_scope lifts out of the trace
        return x + 1.0

    assert tx.executing_eagerly()
    np.testing.assert_array_equal(f(tx.constant(X)).numpy(), X + 1)
    assert seen == [False, True]
    assert tx.executing_eagerly()


# ---------------------------------------------------------------- name_scope
def _scoped(x):
    with tx.name_scope("encoder") as outer:
        y = x * 2.0
        with tx.name_scope("layer1") as inner:
            z = tx.sin(y)
    return z + 1.0, outer, inner


def test_name_scope_paths_as_tf():
    with tx.name_scope("a") as s:
        assert s == "a/"
        with tx.name_scope("b") as s2:
            assert s2 == "a/b/"
            with tx.name_scope("top/") as s3:  # a trailing "/" is a full path
                assert s3 == "top/"
            with tx.name_scope("") as s4:  # back to the top level
                assert s4 == ""
        with tx.name_scope("a") as s5:
            assert s5 == "a/a/"
    assert tx.name_scope("x").name == "x"


def test_name_scope_shows_in_the_ir_printout():
    f = tx.function(lambda x: _scoped(x)[0])
    ir = f.experimental_get_compiler_ir(tx.constant(X))("ir")
    lines = ir.splitlines()
    assert any(re.search(r"= multiply %0, %\d+  # encoder/multiply$", ln) for ln in lines), ir
    assert any(ln.endswith("= sin %2  # encoder/layer1/sin") for ln in lines), ir
    add = [ln for ln in lines if " = add " in ln]
    assert add and "#" not in add[0]  # outside the scopes: printed as before
    assert "encoder/layer1/sin" in f.experimental_get_compiler_ir(tx.constant(X))("ir_optimized")
    np.testing.assert_allclose(f(tx.constant(X)).numpy(), np.sin(X * 2) + 1, rtol=1e-6)


def test_name_scope_is_kept_with_the_location():
    cf = tx.function(lambda x: _scoped(x)[0]).get_concrete_function(tx.TensorSpec([2, 3]))
    text = print_graph(cf.graph, locs=True)
    assert re.search(rf"sin %\d+  # encoder/layer1 @ {THIS}:\d+", text), text


def test_name_scope_eagerly_computes_the_same():
    z, outer, inner = _scoped(tx.constant(X))
    np.testing.assert_allclose(z.numpy(), np.sin(X * 2) + 1, rtol=1e-6)
    assert (outer, inner) == ("encoder/", "encoder/layer1/")


def test_name_scope_in_error_messages():
    @tx.function
    def f(x):
        with tx.name_scope("block"):
            return tx.matmul(x, x)

    with pytest.raises(ValueError, match=rf"matmul: .*\(block @ {THIS}:\d+\)"):
        f(tx.constant(X))


def test_name_scope_is_restored_and_per_thread():
    with pytest.raises(RuntimeError):
        with tx.name_scope("broken"):
            raise RuntimeError("boom")
    seen = []

    def other():
        with tx.name_scope("t") as s:
            seen.append(s)

    with tx.name_scope("main"):
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == ["t/"]  # the main thread's scope does not leak into another thread
    with tx.name_scope("fresh") as s:
        assert s == "fresh/"


@pytest.mark.parametrize("name, match", [("a b", "not a valid scope name"),
                                         ("x @ y", "not a valid scope name"),
                                         (3, "must be a string")])
def test_name_scope_bad_names(name, match):
    with pytest.raises(ValueError, match=match):
        tx.name_scope(name)


# ---------------------------------------------------------------- ensure_shape
@pytest.mark.parametrize("case", sorted(ENSURE_SHAPE))
def test_ensure_shape_matches_tf(case):
    shape, want = ENSURE_SHAPE[case]
    tf_answer = ORACLE[case]
    zeros = np.zeros(shape, np.float32)
    f = tx.function(lambda x: tx.ensure_shape(x, want))
    if "error" in tf_answer:
        tf_msg = re.sub(r"^\{\{[^}]*\}\} ", "", tf_answer["message"]).split(" [Op:")[0]
        for run in (lambda: tx.ensure_shape(zeros, want), lambda: f(tx.constant(zeros))):
            with pytest.raises(tx.errors.InvalidArgumentError) as e:
                run()
            assert tf_msg in str(e.value) and f"{THIS}:" in str(e.value)
            assert isinstance(e.value, ValueError)
        return
    np.testing.assert_array_equal(tx.ensure_shape(X, want).numpy(), X)
    np.testing.assert_array_equal(f(tx.constant(X)).numpy(), X)


def test_ensure_shape_with_an_unknown_dim_at_trace_time():
    f = tx.function(lambda x: tx.ensure_shape(x, [None, 3]) * 2.0,
                    input_signature=[tx.TensorSpec([None, 3])])
    np.testing.assert_array_equal(f(tx.constant(X)).numpy(), X * 2)
    g = tx.function(lambda x: tx.ensure_shape(x, [2, 4]),
                    input_signature=[tx.TensorSpec([None, 3])])
    with pytest.raises(tx.errors.InvalidArgumentError, match=r"\[\?,3\] is not compatible"):
        g(tx.constant(X))  # the known dim is checked at trace time


def test_ensure_shape_pins_an_unknown_dim_and_checks_it_per_call_shape():
    seen = []

    def body(x):
        y = tx.ensure_shape(x, [2, None])
        seen.append(tuple(y.shape))  # TF's static shape: the dims known from either side
        return y + 1.0

    f = tx.function(body, input_signature=[tx.TensorSpec([None, 3])])
    np.testing.assert_array_equal(f(tx.constant(X)).numpy(), X + 1)
    assert seen == [(2, 3)]
    assert "ensure_shape %0 {shape=(2, -1)}" in f.experimental_get_compiler_ir(
        tx.constant(X))("ir")
    with pytest.raises(ValueError, match=rf"ensure_shape: Shape of tensor input \[4,3\] is not "
                                         rf"compatible with expected shape \[2,\?\]\. "
                                         rf"\({THIS}:\d+\)"):
        f(tx.zeros([4, 3]))  # found when specialized to the call's shape, before running
    assert f.experimental_get_tracing_count() == 1


def _grad(x):
    with tx.GradientTape() as tape:
        tape.watch(x)
        loss = tx.reduce_sum(tx.ensure_shape(x, [None, 3]) * 3.0)
    return tape.gradient(loss, x)


def test_ensure_shape_gradient_passes_through():
    x = tx.constant(X)
    np.testing.assert_array_equal(_grad(x).numpy(), np.full_like(X, 3.0))
    g = tx.function(_grad)
    np.testing.assert_array_equal(g(x).numpy(), np.full_like(X, 3.0))
    assert "ensure_shape" in g.experimental_get_compiler_ir(x)("ir")


# ---------------------------------------------------------------- identity_n, no_op, group
def test_identity_n_eager_and_compiled():
    a, b = X, np.array([1, 2], np.int32)
    got = tx.identity_n([a, b])
    assert isinstance(got, list) and len(got) == 2
    np.testing.assert_array_equal(got[0].numpy(), a)
    np.testing.assert_array_equal(got[1].numpy(), b)
    f = tx.function(lambda x, y: tx.identity_n([x * 2.0, y]))
    c = f(tx.constant(a), tx.constant(b))
    np.testing.assert_array_equal(c[0].numpy(), a * 2)
    np.testing.assert_array_equal(c[1].numpy(), b)
    with pytest.raises(TypeError, match="identity_n: input must be a list"):
        tx.identity_n(tx.constant(a))


def test_no_op_and_group_return_none():
    x = tx.constant(X)
    assert tx.no_op() is None
    assert tx.group(x, x * 2.0) is None
    seen = []

    @tx.function
    def f(x):
        seen.append((tx.no_op(), tx.group(x)))
        return x + 1.0

    np.testing.assert_array_equal(f(x).numpy(), X + 1)
    assert seen == [(None, None)]
