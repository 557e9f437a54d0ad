"""tfx_core/ops/reduction_ops.py: TF's semantics where numpy's differ."""
from __future__ import annotations

import numpy as np

import tfx_core as tx


def test_integer_reduce_mean_accumulates_wide_and_empty_is_zero():
    i8 = tx.constant(np.array([100, 100, -7], np.int8))
    assert int(tx.reduce_mean(i8)) == 64  # TF: 64 (no int8 wrap-around)
    assert int(tx.reduce_mean(tx.constant(np.full(1000, 2**30, np.int32)))) == 2**30
    empty = tx.zeros([0, 3], tx.int32)
    np.testing.assert_array_equal(tx.reduce_mean(empty, axis=0).numpy(), [0, 0, 0])
    compiled = tx.function(lambda a: tx.reduce_mean(a, axis=0))(empty)
    np.testing.assert_array_equal(compiled.numpy(), [0, 0, 0])
