"""The argument forms TF accepts (axes as lists, repeats, negatives, numpy and tensor axes),
normalized by the op functions of tfx_core/ops/."""
from __future__ import annotations

import numpy as np

import tfx_core as tx


def test_tf_argument_forms():
    x = tx.zeros([1, 2, 1])
    assert tx.squeeze(x, []).shape == (2,)  # [] squeezes every size-1 axis, as TF
    assert tx.squeeze(x, [0, 0]).shape == (2, 1)  # repeated axes allowed
    assert tx.transpose(tx.zeros([2, 3, 4]), [-1, 0, 1]).shape == (4, 2, 3)
    np.testing.assert_array_equal(tx.clip_by_value(tx.constant([0.0, 5.0]), 2.0, -1.0).numpy(),
                                  [2.0, 2.0])  # TF: min wins when min > max
    m = tx.constant(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    assert tx.nn.softmax(m, axis=np.int64(0)).shape == (2, 3)
    f = tx.function(lambda a: tx.reduce_sum(a, axis=tx.constant(1)))
    np.testing.assert_array_equal(f(m).numpy(), [3.0, 12.0])
