"""Misuse of shape/indexing ops gives errors naming the op, the types and the user's line."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import tfx_core as tx

HERE = "test_indexing_shape_errors.py:"


def _x(shape=(2, 3), dtype=np.float32):
    return tx.constant(np.arange(int(np.prod(shape))).reshape(shape).astype(dtype))


def _check(err: pytest.ExceptionInfo, *words: str, line: int | None = None) -> str:
    msg = str(err.value)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    assert HERE in msg, msg
    if line is not None:
        assert f"{HERE}{line}" in msg, msg
    return msg


def _this_line() -> int:
    return sys._getframe(1).f_lineno


# ---------------------------------------------------------------- reshape / transpose
def test_reshape_incompatible_size():
    x = _x()
    with pytest.raises(TypeError) as e:
        line = _this_line(); tx.reshape(x, [4, 2])  # noqa: E702
    _check(e, "reshape", "f32[2,3]", "[4, 2]", line=line)


def test_reshape_bad_minus_one():
    with pytest.raises(TypeError) as e:
        tx.reshape(_x(), [-1, 4])
    _check(e, "reshape", "f32[2,3]", "multiple of 4")
    with pytest.raises(TypeError) as e:
        tx.reshape(_x(), [-1, -1])
    _check(e, "reshape", "at most one -1")


def test_reshape_symbolic_or_none_shape():
    with pytest.raises(TypeError) as e:
        tx.reshape(_x(), [None, 3])
    _check(e, "reshape", "None")


def test_transpose_bad_perm():
    with pytest.raises(TypeError) as e:
        tx.transpose(_x((2, 3, 4)), [0, 0, 1])
    _check(e, "transpose", "f32[2,3,4]", "permutation")
    with pytest.raises(TypeError) as e:
        tx.transpose(_x(), [1, 0, 2])
    _check(e, "transpose", "f32[2,3]")


# ---------------------------------------------------------------- joining
def test_concat_mismatched_shapes():
    with pytest.raises(TypeError) as e:
        tx.concat([_x((2, 3)), _x((2, 4))], axis=0)
    _check(e, "concatenate", "f32[2,3]", "f32[2,4]", "axis 0")


def test_concat_mismatched_dtypes():
    with pytest.raises(TypeError) as e:
        tx.concat([_x((2, 3)), _x((2, 3), np.int32)], axis=1)
    _check(e, "concatenate", "f32[2,3]", "i32[2,3]")


def test_concat_bad_axis_and_rank():
    with pytest.raises(TypeError) as e:
        tx.concat([_x(), _x()], axis=2)
    _check(e, "concatenate", "axis 2", "f32[2,3]")
    with pytest.raises(TypeError) as e:
        tx.concat([_x(()), _x(())], axis=0)
    _check(e, "concatenate", "0-d")


def test_stack_mismatched_shapes():
    with pytest.raises(ValueError) as e:
        tx.stack([_x((2, 3)), _x((3, 2))])
    _check(e, "stack", "f32[2,3]", "f32[3,2]")


def test_split_uneven():
    with pytest.raises(ValueError) as e:
        tx.split(_x((5, 2)), 2)
    _check(e, "split", "f32[5,2]")
    with pytest.raises(ValueError) as e:
        tx.split(_x((5, 2)), [2, 2])
    _check(e, "split", "do not add up")


# ---------------------------------------------------------------- indexing
def test_index_out_of_range():
    x = _x((2, 3))
    with pytest.raises(IndexError) as e:
        line = _this_line(); x[2]  # noqa: E702
    _check(e, "getitem", "index 2", "f32[2,3]", line=line)
    with pytest.raises(IndexError) as e:
        x[:, -4]
    _check(e, "getitem", "index -4", "axis 1", "f32[2,3]")


def test_too_many_indices():
    with pytest.raises(IndexError) as e:
        _x((2, 3))[0, 1, 2]
    _check(e, "getitem", "too many indices", "f32[2,3]")
    with pytest.raises(IndexError) as e:
        _x((2, 3))[..., 0, ...]
    _check(e, "getitem", "ellipsis")


def test_tensor_index_is_out_of_scope():
    x = _x((4, 3))
    with pytest.raises(TypeError) as e:
        x[tx.constant([0, 2])]
    _check(e, "getitem", "gather")
    with pytest.raises(TypeError) as e:
        x[[0, 2]]
    _check(e, "getitem", "gather")
    with pytest.raises(TypeError) as e:
        x[True]
    _check(e, "getitem", "boolean")


def test_eager_scalar_tensor_index_works():
    x = _x((4, 3))
    np.testing.assert_array_equal(x[tx.constant(2)].numpy(), x.numpy()[2])


def test_zero_step():
    with pytest.raises(TypeError) as e:
        _x()[::0]
    _check(e, "slice", "zero", "f32[2,3]")


# ---------------------------------------------------------------- other ops
def test_squeeze_non_unit_axis():
    with pytest.raises(TypeError) as e:
        tx.squeeze(_x((2, 1)), axis=0)
    _check(e, "squeeze", "f32[2,1]", "axis 0")


def test_broadcast_to_incompatible():
    with pytest.raises(TypeError) as e:
        tx.broadcast_to(_x((2, 3)), [2, 4])
    _check(e, "broadcast_to", "f32[2,3]", "[2, 4]")


def test_tile_wrong_length():
    with pytest.raises(TypeError) as e:
        tx.tile(_x((2, 3)), [2])
    _check(e, "tile", "f32[2,3]")


def test_slice_out_of_bounds():
    with pytest.raises(ValueError) as e:
        tx.slice(_x((2, 3)), [1, 1], [2, 1])
    _check(e, "slice", "f32[2,3]", "axis 0")


def test_pad_modes():
    with pytest.raises(ValueError) as e:  # REFLECT pads at most n - 1 (TF)
        tx.pad(_x(), [[2, 0], [1, 1]], mode="REFLECT")
    _check(e, "pad", "REFLECT", "f32[2,3]")
    with pytest.raises(ValueError) as e:
        tx.pad(_x(), [[1, 1], [1, 1]], mode="WRAP")
    _check(e, "pad", "WRAP")
    with pytest.raises(ValueError) as e:
        tx.pad(_x(), [[1, 1]])
    _check(e, "pad", "f32[2,3]")


def test_expand_dims_bad_axis():
    with pytest.raises(TypeError) as e:
        tx.expand_dims(_x((2, 3)), 4)
    _check(e, "expand_dims", "axis 4")


def test_range_errors():
    with pytest.raises(ValueError) as e:
        tx.range(5, 1, 1)
    _check(e, "range", "limit")
    with pytest.raises(ValueError) as e:
        tx.range(0, 5, 0)
    _check(e, "range", "delta")


# ---------------------------------------------------------------- unknown dims in a trace
@pytest.mark.skipif(not hasattr(tx, "function"), reason="tx.function not available yet")
def test_traced_unknown_dims_getitem_and_reshape():
    spec = tx.TensorSpec([None, 4], tx.float32)

    @tx.function(input_signature=[spec])
    def f(x):
        return (x[:, 1:], x[0], x[::-1, ::2], x[..., None, -1], tx.reshape(x, [-1]),
                tx.reshape(x, [-1, 2, 2]), tx.zeros_like(x), tx.concat([x, x], 0),
                tx.stack([x, x], axis=1), tx.expand_dims(x, 0), tx.transpose(x))

    for n in (3, 5):
        a = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
        want = (a[:, 1:], a[0], a[::-1, ::2], a[..., None, -1], a.reshape(-1),
                a.reshape(-1, 2, 2), np.zeros_like(a), np.concatenate([a, a], 0),
                np.stack([a, a], 1), a[None], a.T)
        got = f(tx.constant(a))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)


@pytest.mark.skipif(not hasattr(tx, "function"), reason="tx.function not available yet")
def test_traced_unknown_dim_index_out_of_range_at_call():
    @tx.function(input_signature=[tx.TensorSpec([None], tx.float32)])
    def f(x):
        return x[3]

    np.testing.assert_array_equal(f(tx.constant(np.arange(5, dtype=np.float32))).numpy(), 3.0)
    with pytest.raises((TypeError, ValueError, IndexError)):
        f(tx.constant(np.arange(2, dtype=np.float32)))
