"""tx.sort/argsort/top_k, cumsum/cumprod, segment sums and bincount: errors and edge cases."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx


@pytest.mark.parametrize("call,cls,match", [
    (lambda: tx.sort(np.array([True, False])), TypeError, "sort: expected a numeric tensor"),
    (lambda: tx.sort(np.float32(1.0)), ValueError, "rank >= 1"),
    (lambda: tx.sort([1.0, 2.0], direction="UP"), ValueError, "'ASCENDING' or 'DESCENDING'"),
    (lambda: tx.argsort([[1.0, 2.0]], axis=2), ValueError, "axis 2 is out of range"),
    (lambda: tx.math.top_k([1.0, 2.0], k=3), ValueError, r"k must be in \[0, 2\]"),
    (lambda: tx.math.top_k([1.0, 2.0], index_type=tx.float32), TypeError, "index_type"),
    (lambda: tx.math.cumsum(np.float32(1.0)), ValueError, "out of range"),
    (lambda: tx.math.cumprod([True]), TypeError, "numeric"),
    (lambda: tx.math.unsorted_segment_sum([1.0, 2.0], [0.0, 1.0], 2), TypeError, "int32 or int64"),
    (lambda: tx.math.unsorted_segment_sum(np.ones((2, 3)), np.zeros((3,), np.int32), 2),
     ValueError, "must be a prefix"),
    (lambda: tx.math.unsorted_segment_sum([1.0], [0], -1), ValueError, ">= 0"),
    (lambda: tx.math.bincount([1.5]), TypeError, "int32 or int64"),
    (lambda: tx.math.reduce_variance([1, 2]), TypeError, "floating"),
    (lambda: tx.math.reduce_std([1, 2]), TypeError, "floating"),
])
def test_errors(call, cls, match):
    with pytest.raises(cls, match=match):
        call()


def test_static_sizes_need_static_values():
    @tx.function
    def seg(d, ids):
        return tx.math.segment_sum(d, ids)

    with pytest.raises(ValueError, match="pass num_segments"):
        seg(tx.constant([1.0, 2.0]), tx.constant([0, 1]))

    @tx.function
    def count(a):
        return tx.math.bincount(a, minlength=3)

    with pytest.raises(ValueError, match="minlength equal to maxlength"):
        count(tx.constant([0, 1]))

    @tx.function
    def count_static(a):
        return tx.math.bincount(a, minlength=4, maxlength=4)

    np.testing.assert_array_equal(count_static(tx.constant([0, 1, 1, 9, -1])).numpy(),
                                  [1, 2, 0, 0])


def test_nan_order_matches_numpy_ascending_and_tf_descending():
    x = np.array([1.0, np.nan, -np.inf, 0.0, -np.nan, 2.0], np.float32)
    asc = tx.sort(x).numpy()
    np.testing.assert_array_equal(asc[:4], [-np.inf, 0.0, 1.0, 2.0])
    assert np.isnan(asc[4:]).all()  # NaN of either sign sorts last (numpy's order)
    desc = tx.sort(x, direction="DESCENDING").numpy()
    assert np.isnan(desc[:2]).all()  # and first descending (TF/XLA top_k: NaN is largest)
    np.testing.assert_array_equal(desc[2:], [2.0, 1.0, 0.0, -np.inf])
    vals, idx = tx.math.top_k(x, 2)
    assert np.isnan(vals.numpy()).all() and idx.numpy().tolist() == [1, 4]


def test_argsort_stable_keeps_tie_order_both_directions():
    x = np.array([2, 1, 2, 1, 2, 0], np.int32)
    assert tx.argsort(x, stable=True).numpy().tolist() == [5, 1, 3, 0, 2, 4]
    assert tx.argsort(x, direction="DESCENDING", stable=True).numpy().tolist() == [
        0, 2, 4, 1, 3, 5]


def test_large_axes():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5000)).astype(np.float32)
    np.testing.assert_array_equal(tx.sort(x).numpy(), np.sort(x))
    np.testing.assert_allclose(tx.math.cumsum(x, axis=1).numpy(),
                               np.cumsum(x.astype(np.float64), axis=1), rtol=1e-4, atol=1e-3)
    v, i = tx.math.top_k(x, 7)
    np.testing.assert_array_equal(v.numpy(), -np.sort(-x)[:, :7])
    np.testing.assert_array_equal(np.take_along_axis(x, i.numpy(), 1), v.numpy())


def test_sort_gradient_unpermutes_the_cotangent():
    x = np.array([[3.0, 1.0, 2.0], [0.5, -1.0, 4.0]])
    w = np.array([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]])
    for direction in ("ASCENDING", "DESCENDING"):
        t = tx.constant(x)
        with tx.GradientTape() as tape:
            tape.watch(t)
            y = tx.reduce_sum(tx.sort(t, direction=direction) * tx.constant(w))
        g = tape.gradient(y, t).numpy()
        order = np.argsort(x, axis=1)
        if direction == "DESCENDING":
            order = order[:, ::-1]
        want = np.zeros_like(x)
        np.put_along_axis(want, order, w, axis=1)
        np.testing.assert_array_equal(g, want)


def test_segment_sum_with_inf_keeps_other_segments_finite():
    d = np.array([np.inf, 1.0, 2.0], np.float32)
    out = tx.math.unsorted_segment_sum(d, np.array([0, 1, 1], np.int32), 2).numpy()
    np.testing.assert_array_equal(out, [np.inf, 3.0])
