"""Misuse of reductions, matmul and tx.nn raises errors naming the op, the types and the line."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx
from compiler.interpreters import bind
from compiler.ops import linalg as L
from compiler.ops import reduction as R

F23 = np.ones((2, 3), np.float32)
I23 = np.ones((2, 3), np.int32)
B23 = np.ones((2, 3), bool)


def _raises(fn, cls, *parts):
    """Call fn (a one-line lambda); the error must name every part and the lambda's line."""
    with pytest.raises(cls) as info:
        fn()
    msg = str(info.value)
    for p in parts:
        assert p in msg, f"{p!r} not in {msg!r}"
    assert f"test_errors_reduction_linalg.py:{fn.__code__.co_firstlineno}" in msg, msg
    return msg


# ---------------------------------------------------------------- reductions
@pytest.mark.parametrize("fn", [tx.reduce_sum, tx.reduce_mean, tx.reduce_max, tx.reduce_min,
                                tx.reduce_prod, tx.reduce_logsumexp])
def test_axis_out_of_range(fn):
    x = tx.constant(F23)
    _raises(lambda: fn(x, 2), ValueError, fn.__name__, "axis 2", "f32[2,3]")
    _raises(lambda: fn(x, [0, -3]), ValueError, fn.__name__, "axis -3", "f32[2,3]")


def test_axis_errors():
    x = tx.constant(F23)
    _raises(lambda: tx.reduce_sum(x, [1, -1]), ValueError, "reduce_sum", "repeated", "f32[2,3]")
    _raises(lambda: tx.reduce_sum(x, 0.5), TypeError, "reduce_sum", "axis")
    _raises(lambda: tx.reduce_sum(tx.constant(1.0), 0), ValueError, "reduce_sum", "f32[]")


def test_reduction_dtype_errors():
    _raises(lambda: tx.reduce_sum(tx.constant(B23)), TypeError, "reduce_sum", "bool[2,3]")
    _raises(lambda: tx.reduce_max(tx.constant(B23)), TypeError, "reduce_max", "bool[2,3]")
    _raises(lambda: tx.reduce_all(tx.constant(F23)), TypeError, "reduce_all", "f32[2,3]")
    _raises(lambda: tx.reduce_any(tx.constant(I23)), TypeError, "reduce_any", "i32[2,3]")
    _raises(lambda: tx.reduce_mean(tx.constant(B23)), TypeError, "reduce_mean", "bool[2,3]")
    _raises(lambda: tx.reduce_logsumexp(tx.constant(I23)), TypeError, "reduce_logsumexp",
            "i32[2,3]")


def test_ir_reduction_misuse():
    x = tx.constant(F23)
    _raises(lambda: bind(R.reduce_sum_op, x, axes=(1, 0), keepdims=False), TypeError, "reduce_sum", "sorted", "f32[2,3]")  # noqa: E501
    _raises(lambda: bind(R.reduce_max_op, x, axes=(-1,), keepdims=False), TypeError, "reduce_max", "f32[2,3]")  # noqa: E501
    _raises(lambda: bind(R.argmax_op, x, axis=2, output_type=tx.int32), TypeError, "argmax", "f32[2,3]")  # noqa: E501
    _raises(lambda: bind(R.argmin_op, x, axis=0, output_type=tx.float32), TypeError, "argmin", "f32[2,3]")  # noqa: E501


def test_argmax_errors():
    x = tx.constant(F23)
    _raises(lambda: tx.argmax(x, 2), ValueError, "argmax", "axis 2", "f32[2,3]")
    _raises(lambda: tx.argmin(x, -3), ValueError, "argmin", "axis -3", "f32[2,3]")
    _raises(lambda: tx.argmax(tx.constant(1.0)), ValueError, "argmax", "f32[]")
    _raises(lambda: tx.argmax(np.ones((0, 2), np.float32)), ValueError, "argmax", "empty", "f32[0,2]")  # noqa: E501
    _raises(lambda: tx.argmax(x, [0, 1]), TypeError, "argmax", "single int", "f32[2,3]")
    _raises(lambda: tx.argmax(x, output_type=tx.float32), TypeError, "argmax", "output_type")
    _raises(lambda: tx.argmin(tx.constant(B23)), TypeError, "argmin", "bool[2,3]")


# ---------------------------------------------------------------- matmul / dot_general
def test_matmul_inner_dims():
    a, b = tx.constant(F23), tx.constant(np.ones((4, 5), np.float32))
    msg = _raises(lambda: tx.matmul(a, b), ValueError, "matmul: inner dimensions differ: f32[2,3] @ f32[4,5] (")  # noqa: E501
    assert msg.startswith("matmul: ")
    _raises(lambda: tx.matmul(a, a, transpose_a=True, transpose_b=True), ValueError, "inner dimensions", "transpose_a=True")  # noqa: E501


def test_matmul_misuse():
    a = tx.constant(F23)
    _raises(lambda: tx.matmul(a, tx.constant(np.ones(3, np.float32))), ValueError, "matmul", "rank >= 2", "f32[3]")  # noqa: E501
    _raises(lambda: tx.matmul(a, tx.constant(np.ones((3, 2)))), TypeError, "matmul", "dtypes differ", "f64[3,2]")  # noqa: E501
    _raises(lambda: tx.matmul(tx.constant(B23), tx.constant(B23.T)), TypeError, "matmul", "bool[2,3]")  # noqa: E501
    c, d = tx.constant(np.ones((2, 2, 3), np.float32)), tx.constant(np.ones((3, 3, 4), np.float32))  # noqa: E501
    _raises(lambda: tx.matmul(c, d), ValueError, "matmul", "batch", "f32[2,2,3] @ f32[3,3,4]")


def test_ir_dot_general_misuse():
    a, b = tx.constant(F23), tx.constant(np.ones((4, 5), np.float32))
    kw = dict(lhs_batch=(), rhs_batch=(), lhs_contract=(1,), rhs_contract=(0,))
    _raises(lambda: bind(L.dot_general_op, a, b, **kw), TypeError, "dot_general", "contracting dimensions differ: f32[2,3] @ f32[4,5]")  # noqa: E501
    kw2 = dict(lhs_batch=(0,), rhs_batch=(), lhs_contract=(1,), rhs_contract=(0,))
    _raises(lambda: bind(L.dot_general_op, a, a, **kw2), TypeError, "dot_general", "f32[2,3]")


def test_matmul_error_inside_function():
    def body(a, b):
        return tx.matmul(a, b)

    f = tx.function(body)
    with pytest.raises(ValueError) as info:
        f(tx.constant(F23), tx.constant(F23))
    msg = str(info.value)
    assert "matmul: inner dimensions differ: f32[2,3] @ f32[2,3]" in msg
    assert f"test_errors_reduction_linalg.py:{body.__code__.co_firstlineno + 1}" in msg, msg


# ---------------------------------------------------------------- tx.nn
def test_nn_misuse():
    x = tx.constant(F23)
    _raises(lambda: tx.nn.softmax(x, axis=2), ValueError, "softmax", "axis 2", "f32[2,3]")
    _raises(lambda: tx.nn.log_softmax(tx.constant(I23)), TypeError, "log_softmax", "i32[2,3]")
    _raises(lambda: tx.nn.gelu(tx.constant(I23)), TypeError, "gelu", "i32[2,3]")
    _raises(lambda: tx.nn.relu(tx.constant(B23)), TypeError, "relu", "bool[2,3]")
    _raises(lambda: tx.nn.bias_add(x, np.ones(4, np.float32)), ValueError, "bias_add", "f32[2,3]", "f32[4]")  # noqa: E501
    _raises(lambda: tx.nn.bias_add(x, np.ones((1, 3), np.float32)), ValueError, "bias_add", "1-D")  # noqa: E501
    _raises(lambda: tx.nn.bias_add(x, np.ones(3, np.float32), data_format="HWC"), ValueError, "data_format")  # noqa: E501


def test_cross_entropy_misuse():
    logits = tx.constant(F23)
    sparse = tx.nn.sparse_softmax_cross_entropy_with_logits
    dense = tx.nn.softmax_cross_entropy_with_logits
    _raises(lambda: sparse(np.zeros(2, np.float32), logits), TypeError, "sparse_softmax", "f32[2]")  # noqa: E501
    _raises(lambda: sparse(np.zeros(3, np.int32), logits), ValueError, "sparse_softmax", "i32[3]", "f32[2,3]")  # noqa: E501
    _raises(lambda: dense(np.zeros((2, 4), np.float32), logits), ValueError, "softmax_cross", "f32[2,4]", "f32[2,3]")  # noqa: E501
    _raises(lambda: dense(tx.constant(np.zeros((2, 3))), logits), TypeError, "softmax_cross", "f64[2,3]")  # noqa: E501
