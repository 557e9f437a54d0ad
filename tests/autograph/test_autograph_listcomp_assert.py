"""AutoGraph: comprehensions over tx.range / tensors (unrolled when static) and `assert`.

TF 2.21's behaviour, recorded once by tests/oracles/record_autograph.py (autograph.json): a
comprehension over a graph tensor raises OperatorNotAllowedInGraphError (a TypeError) inside
tf.function, even for tf.range(3); eagerly it gives a Python list of scalar tensors. We give the
eager list compiled too when the length is static, and a TypeError naming the line otherwise.
`assert` on a tensor becomes tf.Assert only with the optional ASSERT_STATEMENTS feature (TF's
default raises OperatorNotAllowedInGraphError); we always convert it, to tx.debugging.Assert.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tfx_core import debugging

ORACLE = json.loads((Path(__file__).parents[1] / "oracles" / "autograph.json").read_text())
X = np.array([0.0, 1.0, 2.0, 3.0], np.float32)
needs_assert = pytest.mark.skipif(
    not hasattr(debugging, "Assert"),
    reason="tx.debugging.Assert is not in this build yet (tfx_core/debugging is being written); "
    "the conversion itself is checked by test_assert_is_converted_*")


def _values(ts) -> list[float]:
    return [float(t.numpy()) for t in ts]


def _comp_range(x):
    return [x[i] * 2.0 for i in tx.range(3)]


def test_comprehension_over_static_tx_range_gives_the_eager_list():
    want = ORACLE["comp_range_eager"]["list_of"]  # TF eagerly
    assert "OperatorNotAllowedInGraphError" in ORACLE["comp_range_function"]["raises"]
    compiled = tx.function(_comp_range)
    out = compiled(X)
    assert isinstance(out, list) and len(out) == 3
    assert _values(out) == want == _values(_comp_range(tx.constant(X)))
    assert "__ag__.comp_range(tx.range, (3,))" in tx.autograph.to_code(compiled)
    # the counters are int32 scalar tensors, as TF's eager iteration gives
    seen = tx.function(lambda: [i for i in tx.range(1, 7, 2)])()
    assert [int(t.numpy()) for t in seen] == [1, 3, 5] and seen[0].dtype == tx.int32


def test_comprehension_over_a_tensor_argument_unrolls_its_rows():
    @tx.function
    def f(x, m):
        return tx.stack([r * 2.0 + tx.reduce_sum(row) for r in x for row in m if True])

    m = np.arange(6, dtype=np.float32).reshape(2, 3)
    want = np.array([r * 2 + row.sum() for r in X for row in m], np.float32)
    np.testing.assert_allclose(f(X, m).numpy(), want)
    assert ORACLE["comp_tensor_eager"]["list_of"] == [float(r * 2) for r in X]
    assert _values(tx.function(lambda x: [r * 2.0 for r in x])(X)) == \
        ORACLE["comp_tensor_eager"]["list_of"]


def test_nested_comprehension_and_static_filters_match_eager():
    m = np.arange(12, dtype=np.float32).reshape(3, 4)

    def f(x):
        lower = [x[i, j] for i in tx.range(3) for j in tx.range(i + 1)]  # inner bound from i
        even = [x[0, i] for i in tx.range(4) if i % 2 == 0]
        return tx.stack(lower), tx.stack(even)

    want = (np.array([m[i, j] for i in range(3) for j in range(i + 1)]), m[0, ::2])
    for got in (tx.function(f)(m), f(tx.constant(m))):  # compiled, eager
        np.testing.assert_array_equal(got[0].numpy(), want[0])
        np.testing.assert_array_equal(got[1].numpy(), want[1])


def test_a_filter_on_run_time_values_is_a_clear_error():
    @tx.function
    def f(x):
        return [r for r in x if r > 1.0]

    with pytest.raises(TypeError, match=r"comprehension's `if` depends on a run-time tensor "
                       r"\(bool\[\]\).*tx.where.*test_autograph_listcomp_assert"):
        f(X)


def test_gradient_through_an_unrolled_comprehension():
    @tx.function
    def f(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            loss = tx.reduce_sum(tx.stack([x[i] * x[i + 1] for i in tx.range(3)]))
        return loss, tape.gradient(loss, x)

    x = np.array([0.5, -1.0, 2.0, 3.0], np.float32)
    loss, grad = f(x)
    np.testing.assert_allclose(loss.numpy(), (x[:3] * x[1:]).sum(), rtol=1e-6)
    want = np.zeros(4, np.float32)
    want[:3] += x[1:]
    want[1:] += x[:3]
    np.testing.assert_allclose(grad.numpy(), want, rtol=1e-6)


def test_comprehension_over_run_time_tx_range_is_a_clear_error():
    assert "TypeError" in ORACLE["comp_range_tensor_n_function"]["bases"]  # TF raises too

    @tx.function
    def f(x, n):
        return tx.stack([x[i] for i in tx.range(n)])

    with pytest.raises(TypeError, match=r"tx.range with a bound known only at run time "
                       r"\(i32\[\]\).*for i in tx.range\(n\).*test_autograph_listcomp_assert"):
        f(X, tx.constant(3))


def test_comprehension_over_an_unknown_leading_dim_is_a_clear_error():
    @tx.function(input_signature=[tx.TensorSpec([None], tx.float32)])
    def f(x):
        return [r for r in x]

    with pytest.raises(TypeError, match=r"first dimension is unknown while tracing \(f32\[\?\]"
                       r"\).*tx.map_fn.*test_autograph_listcomp_assert"):
        f(X)

    @tx.function
    def scalar(x):
        return [v for v in tx.reduce_sum(x)]

    with pytest.raises(TypeError, match="iterates over a 0-d tensor"):
        scalar(X)


def test_comprehensions_over_python_values_stay_python():
    assert ORACLE["comp_python_range_function"]["value"] == [0.0, 2.0, 4.0]

    @tx.function
    def f(x):
        scale = {k: float(k) for k in range(3)}
        return tx.stack([x[i] * scale[i] for i in range(3) if i != 1])

    np.testing.assert_array_equal(f(X).numpy(), X[[0, 2]] * np.array([0.0, 2.0], np.float32))


# ---------------------------------------------------------------- assert
def _tensor_assert(x):
    assert tx.reduce_all(x > 0.0), "x must be positive"
    return x * 2.0


def test_assert_is_converted_to_assert_stmt():
    code = tx.autograph.to_code(_tensor_assert)
    assert "__ag__.assert_stmt(tx.reduce_all(x > 0.0), lambda: 'x must be positive')" in code
    assert "assert " not in code.replace("assert_stmt", "")
    # TF converts it only with its optional feature; the staged check is tf.Assert
    assert ORACLE["feature_tensor_assert_fails"]["raises"] == "InvalidArgumentError"
    assert ORACLE["feature_tensor_assert_fails"]["assertion_line"] == \
        "assertion failed: [x must be positive]"


def test_tensor_assert_calls_tx_debugging_assert(monkeypatch):
    calls = []

    def fake_assert(condition, data, summarize=None, name=None):
        calls.append((condition.dtype, tuple(condition.shape), data))

    monkeypatch.setattr(debugging, "Assert", fake_assert, raising=False)

    @tx.function
    def f(x):
        assert tx.reduce_all(x > 0.0), "x must be positive"
        assert tx.reduce_any(x > 0.0)
        assert tx.reduce_all(x < 9.0), ["too big:", x]
        return x * 2.0

    np.testing.assert_array_equal(f(X).numpy(), X * 2)
    assert [c[:2] for c in calls] == [(tx.bool, ())] * 3
    assert calls[0][2] == ["x must be positive"] and calls[1][2] == ["Assertion error"]
    assert calls[2][2][0] == "too big:" and calls[2][2][1].shape == (4,)


def test_python_asserts_stay_python_asserts():
    assert ORACLE["python_assert_fails"]["raises"] == "AssertionError"

    @tx.function
    def f(x):
        assert x.shape[0] == 3, "need 3 rows"
        return x * 2.0

    with pytest.raises(AssertionError, match="^need 3 rows$"):
        f(X)
    np.testing.assert_array_equal(f(X[:3]).numpy(), X[:3] * 2)

    @tx.function
    def bare(x):
        assert x.shape[0] == 3
        return x

    with pytest.raises(AssertionError) as info:
        bare(X)
    assert info.value.args == ()
    calls = []

    @tx.function
    def lazy(x):
        assert x.shape[0] == 4, calls.append("evaluated")  # the message only on failure
        return x

    lazy(X)
    assert calls == []


@needs_assert
def test_tensor_assert_checked_at_run_time_compiled():
    f = tx.function(_tensor_assert)
    np.testing.assert_array_equal(f(X + 1.0).numpy(), (X + 1.0) * 2)
    with pytest.raises(tx.errors.InvalidArgumentError, match="x must be positive"):
        f(X)
    assert f.experimental_get_tracing_count() == 1  # checked at run time, not at trace time


@needs_assert
def test_bare_tensor_assert_uses_tfs_default_message():
    assert ORACLE["feature_bare_tensor_assert_fails"]["assertion_line"] == \
        "assertion failed: [Assertion error]"

    @tx.function
    def f(x):
        assert tx.reduce_all(x > 0.0)
        return x

    with pytest.raises(tx.errors.InvalidArgumentError, match="Assertion error"):
        f(X)


@needs_assert
def test_tensor_assert_inside_a_tensor_loop():
    @tx.function
    def f(x):
        for i in tx.range(4):
            assert x[i] < 2.5, "row too large"
            x = x + 0.0
        return x

    np.testing.assert_array_equal(f(X - 1.0).numpy(), X - 1.0)
    with pytest.raises(tx.errors.InvalidArgumentError, match="row too large"):
        f(X)
