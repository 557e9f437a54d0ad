"""Integer divide and remainder lower with a guarded divisor (compiler/ops/elementwise.py): XLA's
constant folder aborts the whole process on an integer x / 0 or INT_MIN / -1 otherwise."""
from __future__ import annotations

import numpy as np

import tfx_core as tx


def test_compiled_integer_division_by_constant_zero_does_not_crash():
    assert int(tx.function(lambda: tx.constant(5) // tx.constant(0))()) == -1
    assert int(tx.function(lambda: tx.constant(5) % tx.constant(0))()) == 5
    out = tx.function(lambda: tx.constant([-2**31, 7]) // tx.constant([-1, 0]))()
    np.testing.assert_array_equal(out.numpy(), [-2**31, -1])
    np.testing.assert_array_equal(
        tx.function(lambda: tx.math.reciprocal(tx.constant([0, 2])))().numpy(), [-1, 0])
