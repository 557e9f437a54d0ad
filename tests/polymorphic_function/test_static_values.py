"""Values known at trace time (tf.get_static_value): shape arithmetic inside @tx.function."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx


def test_reshape_with_shape_of_input_inside_function():
    @tx.function
    def f(x):
        return tx.reshape(x, [tx.shape(x)[0], -1])

    x = tx.constant(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    np.testing.assert_array_equal(f(x).numpy(), x.numpy().reshape(2, 12))


def test_zeros_of_shape_tensor_and_size_inside_function():
    @tx.function
    def f(x, y):
        return tx.zeros(tx.shape(y)) + tx.cast(tx.size(x), tx.float32)

    out = f(tx.ones([2, 3]), tx.ones([5]))
    np.testing.assert_array_equal(out.numpy(), np.full(5, 6.0, np.float32))


def test_get_static_value():
    seen = {}

    @tx.function
    def f(x):
        seen["shape"] = tx.get_static_value(tx.shape(x))
        seen["const"] = tx.get_static_value(tx.constant([1, 2]) * 3)
        seen["data"] = tx.get_static_value(x + 1.0)
        return x

    f(tx.ones([2, 7]))
    np.testing.assert_array_equal(seen["shape"], [2, 7])
    np.testing.assert_array_equal(seen["const"], [3, 6])
    assert seen["data"] is None
    np.testing.assert_array_equal(tx.get_static_value(tx.constant([4.0])), [4.0])


def test_shape_value_unknown_with_none_dims_is_a_clear_error():
    """A shape from the input's None dims works (tests/polymorphic_function/
    test_dynamic_shapes.py); one computed from the input's values is an error."""
    f = tx.function(lambda x: tx.reshape(x, [tx.cast(tx.reduce_sum(x), tx.int32), -1]),
                    input_signature=[tx.TensorSpec([None, 4])])
    with pytest.raises(TypeError, match=r"reshape: shape must be known at trace time.*"
                                        r"test_static_values\.py:\d+"):
        f(tx.ones([3, 4]))
