"""Data-dependent-shape ops (boolean_mask, one-argument where, unique, unique_with_counts,
dynamic_partition): TF's answers (recorded once from TF 2.21) and numpy eagerly, with values
known at trace time compiled too; gradients through the gathers; and the clear error in a trace
when the deciding values are only known at run time."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.data_dependent_cases import CASES, GRAD_CASES, decode
from tfx_core.ops.data_dependent_ops import DataDependentShapeError

ORACLE = json.loads((Path(__file__).parents[1] / "oracles" / "data_dependent.json").read_text())
THIS = Path(__file__).name


def _call(op: str, args: tuple, kw: dict):
    kw = {k: getattr(tx, v) if k == "out_idx" else v for k, v in kw.items()}
    out = getattr(tx, op)(*args, **kw)
    return [o.numpy() for o in (out if isinstance(out, (list, tuple)) else [out])]


def _tf_message(text: str) -> str:
    """TF's message without its eager wrapper ("{{function_node ...}} ... [Op:Where] name: ")."""
    return re.sub(r"^\{\{[^}]*\}\} ", "", text).split(" [Op:")[0]


def _numpy(op: str, args: tuple, kw: dict) -> list:
    """The meaning of each op, spelled in numpy (independent of the implementation)."""
    if op == "boolean_mask":
        x, m = args
        ax = kw.get("axis", 0)
        idx = (slice(None),) * ax + (m,)
        return [x[idx]]
    if op == "where":
        return [np.argwhere(args[0]).astype(np.int64)]
    if op in ("unique", "unique_with_counts"):
        x = args[0]
        firsts, idx = [], []
        for v in x.tolist():
            hits = [j for j, f in enumerate(firsts) if f == v]  # NaN matches nothing
            if not hits:
                firsts.append(v)
            idx.append(hits[0] if hits else len(firsts) - 1)
        it = np.int64 if kw.get("out_idx") == "int64" else np.int32
        out = [np.array(firsts, x.dtype), np.array(idx, it)]
        return out + [np.bincount(idx, minlength=len(firsts)).astype(it)] * (op != "unique")
    data, parts, n = args
    return [data[parts == i] for i in range(n)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_eager_matches_tf(case):
    op, args, kw = CASES[case]
    tf_answer = ORACLE[case]
    if "error" in tf_answer:
        cls = ValueError if tf_answer["error"] == "ValueError" else getattr(
            tx.errors, tf_answer["error"])
        with pytest.raises(cls) as e:
            _call(op, args, kw)
        assert _tf_message(tf_answer["message"]) in str(e.value)
        assert f"{THIS}:" in str(e.value)  # names the user's line
        return
    got = _call(op, args, kw)
    want = [decode(w) for w in tf_answer["outputs"]]
    assert len(got) == len(want)
    for g, w, n in zip(got, want, _numpy(op, args, kw)):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(n, w)  # the numpy spelling agrees with TF too


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradients_match_tf(case):
    op, args, kw, k = GRAD_CASES[case]
    args = list(args)
    x = tx.constant(args[k])
    with tx.GradientTape() as tape:
        tape.watch(x)
        args[k] = x
        res = getattr(tx, op)(*args, **kw)
        res = [res[0]] if op == "unique" else res if isinstance(res, list) else [res]
        flat = tx.concat([tx.reshape(r, [-1]) for r in res], 0)
        w = tx.range(1, int(flat.shape[0]) + 1, dtype=flat.dtype)
        loss = tx.reduce_sum(w * flat)
    g = tape.gradient(loss, x)
    tf_answer = ORACLE[case]
    if "error" in tf_answer:  # TF registers no gradient for Unique; here y is a constant
        assert g is None
        return
    np.testing.assert_array_equal(g.numpy(), decode(tf_answer["gradient"]))


def test_boolean_mask_gradient_vs_numpy():
    rng = np.random.default_rng(0)
    xv = rng.normal(size=(4, 5)).astype(np.float32)
    m = rng.random((4, 5)) > 0.5
    x = tx.constant(xv)
    with tx.GradientTape() as tape:
        tape.watch(x)
        loss = tx.reduce_sum(tx.square(tx.boolean_mask(x, m)))
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), np.where(m, 2 * xv, 0), rtol=1e-6)


def test_values_known_at_trace_time_compile():
    @tx.function
    def f(x):
        y = tx.boolean_mask(x, [True, False, True, True])
        parts = tx.dynamic_partition(x, tx.constant([1, 0, 1, 1]), 2)
        return y * 2.0, tx.where([[False, True], [True, True]]), parts[0], parts[1] + y

    xv = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    y, w, p0, p1 = f(tx.constant(xv))
    np.testing.assert_array_equal(y.numpy(), xv[[0, 2, 3]] * 2)
    np.testing.assert_array_equal(w.numpy(), [[0, 1], [1, 0], [1, 1]])
    assert w.dtype == tx.int64
    np.testing.assert_array_equal(p0.numpy(), xv[[1]])
    np.testing.assert_array_equal(p1.numpy(), xv[[0, 2, 3]] * 2)


def test_unique_of_a_constant_compiles():
    f = tx.function(lambda: tx.unique_with_counts(tx.constant([4, 2, 4, 4, 7])))
    y, idx, count = f()
    np.testing.assert_array_equal(y.numpy(), [4, 2, 7])
    np.testing.assert_array_equal(idx.numpy(), [0, 1, 0, 0, 2])
    np.testing.assert_array_equal(count.numpy(), [3, 1, 1])


TRACE_ERRORS = [
    (lambda x: tx.boolean_mask(x, x > 0), "mask", "tx.where(mask, tensor, tx.zeros_like"),
    (lambda x: tx.where(x > 0), "condition", "tx.where(condition, x, y)"),
    (lambda x: tx.unique(x)[0], "x", "tx.sort(x)"),
    (lambda x: tx.unique_with_counts(x)[2], "x", "tx.sort(x)"),
    (lambda x: tx.dynamic_partition(x, tx.cast(x, tx.int32), 2)[0], "partitions",
     "tx.math.unsorted_segment_sum"),
]


@pytest.mark.parametrize("fn,what,instead", TRACE_ERRORS, ids=lambda v: getattr(v, "__name__",
                                                                              str(v))[:12])
def test_run_time_values_in_a_trace_raise_clearly(fn, what, instead):
    f = tx.function(lambda x: fn(x))
    with pytest.raises(DataDependentShapeError) as e:
        f(tx.constant([1.0, -1.0, 2.0]))
    msg = str(e.value)
    assert f"values of `{what}`" in msg and "data-dependent shape" in msg
    assert instead in msg
    assert f"{THIS}:" in msg  # the user's line (the lambda in TRACE_ERRORS)
    # a tx.errors class that is also what the old stub raised
    assert isinstance(e.value, (tx.errors.UnimplementedError, NotImplementedError, TypeError))
    assert e.value.error_code == tx.errors.UNIMPLEMENTED


def test_argument_errors():
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        tx.boolean_mask([1.0, 2.0], [1, 0])
    with pytest.raises(TypeError, match="out_idx must be int32 or int64"):
        tx.unique([1, 2], out_idx=tx.float32)
    with pytest.raises(TypeError, match="partitions must be int32"):
        tx.dynamic_partition([1.0, 2.0], np.array([0, 1], np.int64), 2)
    with pytest.raises(ValueError, match="num_partitions must be >= 1"):
        tx.dynamic_partition([1.0, 2.0], np.array([0, 0], np.int32), 0)


def test_three_argument_where_is_unchanged():
    got = tx.where([True, False], [1.0, 2.0], [3.0, 4.0]).numpy()
    np.testing.assert_array_equal(got, [1.0, 4.0])
    with pytest.raises(ValueError, match="x and y must both be given"):
        tx.where([True], [1.0])
