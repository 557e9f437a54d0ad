"""tx.strided_slice with all of TF's masks, against the equivalent numpy index (eager and
compiled), random specs; run-time indices on shrunk axes; bad specs refused clearly."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.strided_slice_cases import N_SPECS, X, spec

ORACLE = json.loads((Path(__file__).parents[1] / "oracles" / "strided_slice.json").read_text())


def numpy_key(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask,
              shrink_axis_mask):
    """TF's documented meaning of the masks, spelled as a numpy index."""
    key = []
    for k in range(len(begin)):
        bit = 1 << k
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(begin[k])
        else:
            key.append(slice(None if begin_mask & bit else begin[k],
                             None if end_mask & bit else end[k], strides[k]))
    return tuple(key)


@pytest.mark.parametrize("seed", range(N_SPECS))
def test_random_specs_match_tf(seed):
    s = spec(seed)
    begin, end, strides, bm, em, elm, nam, sam = s
    kw = dict(begin_mask=bm, end_mask=em, ellipsis_mask=elm, new_axis_mask=nam,
              shrink_axis_mask=sam)
    compiled = tx.function(lambda x: tx.strided_slice(x, tx.constant(begin), end, strides, **kw))
    tf_answer = ORACLE[str(seed)]  # recorded from TF 2.21: shape and values, or its error
    if "error" in tf_answer:
        assert tf_answer["error"] == "InvalidArgumentError"
        for run in (lambda: tx.strided_slice(X, begin, end, strides, **kw),
                    lambda: compiled(tx.constant(X))):
            with pytest.raises(tx.errors.InvalidArgumentError, match="only stride 1 allowed"):
                run()
        return
    want = np.asarray(tf_answer["values"], np.float32).reshape(tf_answer["shape"])
    np.testing.assert_array_equal(X[numpy_key(*s)], want)  # the masks' meaning, as numpy
    np.testing.assert_array_equal(tx.strided_slice(X, begin, end, strides, **kw).numpy(), want)
    np.testing.assert_array_equal(compiled(tx.constant(X)).numpy(), want)


def test_run_time_index_on_a_shrunk_axis():
    f = tx.function(lambda x, i: tx.strided_slice(x, [i, 0], [i + 1, 0], [1, 1], end_mask=2,
                                                  shrink_axis_mask=1))
    for i in (0, 2, -1):
        np.testing.assert_array_equal(f(tx.constant(X), tx.constant(i)).numpy(), X[i])
    assert f.experimental_get_tracing_count() == 1


def test_gradient_through_strided_slice():
    x = tx.constant(X)
    with tx.GradientTape() as tape:
        tape.watch(x)
        y = tx.reduce_sum(tx.strided_slice(x, [1, 0], [3, 4], [1, 2]))
    want = np.zeros_like(X)
    want[1:3, 0:4:2] = 1.0
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), want)


@pytest.mark.parametrize("kwargs, match", [
    (dict(begin=[0], end=[1, 2]), "end has 2 entries, begin has 1"),
    (dict(begin=[0], end=[1], strides=[0]), "strides must be non-zero"),
    (dict(begin=[0, 0], end=[1, 1], ellipsis_mask=3), "only one ellipsis"),
    (dict(begin=[0], end=[1], begin_mask=-1), "begin_mask must be a non-negative int"),
    (dict(begin=[0.5], end=[1]), "begin must contain ints"),
])
def test_bad_specs_are_refused(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        tx.strided_slice(X, **kwargs)
