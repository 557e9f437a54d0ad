"""TF's dtype rules: default dtypes of Python values, no silent promotion, weak Python scalars."""
from __future__ import annotations

import inspect
import os

import ml_dtypes
import numpy as np
import pytest

import tfx_core as tx

THIS_FILE = os.path.basename(__file__)


def _next_line() -> int:
    """The line number after the caller's line (where the failing call is written)."""
    return inspect.currentframe().f_back.f_lineno + 1


def _compiled(fn):
    if not hasattr(tx, "function"):
        pytest.skip("tx.function does not exist yet")
    return tx.function(fn)


# ---------------------------------------------------------------- defaults of Python values
@pytest.mark.parametrize(
    "value,dtype",
    [
        (1.0, tx.float32),
        (1, tx.int32),
        (True, tx.bool),
        ([1.0, 2], tx.float32),
        ([[1, 2], [3, 4]], tx.int32),
        ([True, False], tx.bool),
        (2**31 - 1, tx.int32),
        (-(2**31), tx.int32),
        (2**31, tx.int64),  # too big for int32: TF picks int64
        ([1, 2**40], tx.int64),
    ],
    ids=repr,
)
def test_python_value_defaults(value, dtype):
    t = tx.constant(value)
    assert t.dtype is dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(value))


@pytest.mark.parametrize(
    "value,dtype",
    [
        (np.array([1.0, 2.0]), tx.float64),  # numpy's float64 is kept, unlike Python floats
        (np.float64(1.0), tx.float64),
        (np.array([1, 2]), tx.int64),
        (np.array([1, 2], np.int16), tx.int16),
        (np.array([1.0], np.float16), tx.float16),
        (np.array([1.0], ml_dtypes.bfloat16), tx.bfloat16),
        (np.array([1, 2], np.uint8), tx.uint8),
        (np.array([True]), tx.bool),
    ],
    ids=lambda v: f"{np.asarray(v).dtype}" if not isinstance(v, tx.DType) else v.name,
)
def test_numpy_values_keep_their_dtype(value, dtype):
    t = tx.constant(value)
    assert t.dtype is dtype
    assert t.numpy().dtype == np.asarray(value).dtype


def test_explicit_dtype():
    assert tx.constant(1, dtype=tx.float64).dtype is tx.float64
    assert tx.constant(1.0, dtype="float16").dtype is tx.float16
    assert tx.constant([1, 2], dtype=tx.uint8).numpy().dtype == np.uint8
    with pytest.raises(TypeError, match="1.5"):  # TF: "Cannot convert 1.5 to ... int32"
        tx.constant(1.5, dtype=tx.int32)


def test_out_of_range_python_int_is_rejected():
    # TF raises for Python ints that fit no integer dtype; wrapping would change the value.
    with pytest.raises((TypeError, ValueError, OverflowError)):
        tx.constant(2**63)


# ---------------------------------------------------------------- 64-bit types are real
def test_int64_is_really_64_bit():
    big = 2**40 + 1
    t = tx.constant(big)
    assert t.dtype is tx.int64
    assert int(t.numpy()) == big
    s = t + 1  # through XLA, not just a host round trip
    assert s.dtype is tx.int64
    assert int(s.numpy()) == big + 1
    m = tx.constant(np.array([2**62], np.int64)) + tx.constant(np.array([2**62 - 1], np.int64))
    assert int(m.numpy()[0]) == 2**63 - 1


def test_float64_is_really_64_bit():
    t = tx.constant(np.array([1e-300, 1.0]))
    assert t.dtype is tx.float64
    out = (t * 1.0).numpy()
    assert out[0] == 1e-300  # float32 would flush this to 0
    assert (t + 1e-15).numpy()[1] != 1.0  # float32 would round 1 + 1e-15 to 1
    assert tx.sqrt(tx.constant(np.float64(2.0))).numpy() == np.sqrt(2.0)


def test_int64_compiled():
    f = _compiled(lambda x: x * 2 + 1)
    out = f(tx.constant(2**40 + 1))
    assert out.dtype is tx.int64
    assert int(out.numpy()) == 2 * (2**40 + 1) + 1


# ---------------------------------------------------------------- no silent promotion
_MIXED = [
    ("add", "add", lambda a, b: a + b),
    ("subtract", "subtract", lambda a, b: tx.subtract(a, b)),
    ("multiply", "multiply", lambda a, b: a * b),
    ("maximum", "maximum", lambda a, b: tx.maximum(a, b)),
    ("pow", "power", lambda a, b: a**b),
    ("truediv", "divide", lambda a, b: a / b),
    ("floordiv", "divide", lambda a, b: a // b),
    ("less", "compare", lambda a, b: a < b),
    ("equal", "compare", lambda a, b: tx.equal(a, b)),
    ("where", "select", lambda a, b: tx.where(tx.constant(True), a, b)),
]


@pytest.mark.parametrize("public,irname,fn", _MIXED, ids=[m[0] for m in _MIXED])
@pytest.mark.parametrize(
    "a,b",
    [
        (np.float32(1), np.float64(1)),
        (np.int32(1), np.int64(1)),
        (np.float32(1), np.int32(1)),
        (np.float16(1), ml_dtypes.bfloat16(1)),
    ],
    ids=["f32-f64", "i32-i64", "f32-i32", "f16-bf16"],
)
def test_mixed_dtypes_raise_naming_op_types_and_line(public, irname, fn, a, b):
    x, y = tx.constant(np.asarray(a)), tx.constant(np.asarray(b))
    with pytest.raises(TypeError) as ei:
        fn(x, y)
    msg = str(ei.value)
    assert public in msg or irname in msg, msg
    assert x.type.dtype.short in msg and y.type.dtype.short in msg, msg
    # the innermost user frame is the lambda in _MIXED
    assert f"{THIS_FILE}:{fn.__code__.co_firstlineno}" in msg, msg


def test_mixed_dtype_error_points_at_the_calling_line():
    x, y = tx.constant(1.0), tx.constant(np.float64(2.0))
    with pytest.raises(TypeError) as ei:
        line = _next_line()
        x * y
    msg = str(ei.value)
    assert msg.startswith("multiply") and "f32" in msg and "f64" in msg, msg
    assert f"{THIS_FILE}:{line}" in msg, msg


def test_mixed_dtypes_error_inside_function_names_line():
    def f(x, y):
        return x + y  # the line the error must point at

    line = inspect.getsourcelines(f)[1] + 1
    g = _compiled(f)
    with pytest.raises(TypeError) as ei:
        g(tx.constant(1.0), tx.constant(np.float64(1.0)))
    msg = str(ei.value)
    assert "add" in msg and "f32" in msg and "f64" in msg, msg
    assert f"{THIS_FILE}:{line}" in msg, msg


# ---------------------------------------------------------------- weak Python scalars
@pytest.mark.parametrize(
    "dtype", [tx.float16, tx.bfloat16, tx.float32, tx.float64, tx.int8, tx.int32, tx.int64,
              tx.uint8],
    ids=lambda d: d.name,
)
def test_python_scalars_adopt_the_tensor_dtype(dtype):
    x = tx.constant(np.array([1, 2, 3]).astype(dtype.np_dtype))
    for r in (x + 1, 1 + x, 2 * x, x * 2, x - 1, tx.maximum(x, 0), tx.minimum(3, x),
              x**2, x // 2, x % 2):
        assert r.dtype is dtype
    assert (x < 1).dtype is tx.bool and (2 == x).dtype is tx.bool
    if dtype.is_floating:
        for r in (1.5 - x, x * 0.5, x + 1.5, x / 2.0):
            assert r.dtype is dtype
        np.testing.assert_allclose((1.5 - x).numpy().astype(np.float64), [0.5, -0.5, -1.5])


def test_python_float_with_int_tensor_is_type_error():
    with pytest.raises(TypeError, match="1.5"):
        tx.constant(1) + 1.5
    with pytest.raises(TypeError):
        1.5 * tx.constant(2)
    with pytest.raises(TypeError):
        _ = tx.constant(1) < 0.5


def test_python_int_out_of_range_for_tensor_dtype_is_type_error():
    with pytest.raises(TypeError, match="-1"):
        tx.constant(np.uint8(1)) + (-1)
    with pytest.raises(TypeError, match="300"):
        tx.constant(np.int8(1)) + 300


def test_python_scalars_adopt_dtype_compiled():
    f = _compiled(lambda x: (x + 1, 2 * x, 1.5 - x))
    outs = f(tx.constant(np.array([1.0, 2.0], np.float16)))
    assert [o.dtype for o in outs] == [tx.float16] * 3
    g = _compiled(lambda x: x * 3 + 1)
    assert g(tx.constant(np.array([1, 2], np.uint8))).dtype is tx.uint8


def test_only_python_values_first_decides():
    assert tx.add(1, 2).dtype is tx.int32
    assert tx.add(1.0, 2).dtype is tx.float32


# ---------------------------------------------------------------- true division
@pytest.mark.parametrize(
    "dtype,want",
    [
        (tx.int32, tx.float64),
        (tx.int64, tx.float64),
        (tx.int8, tx.float32),
        (tx.int16, tx.float32),
        (tx.uint8, tx.float32),
        (tx.float16, tx.float16),
        (tx.bfloat16, tx.bfloat16),
        (tx.float32, tx.float32),
        (tx.float64, tx.float64),
    ],
    ids=lambda d: d.name,
)
def test_truediv_result_dtype(dtype, want):
    x = tx.constant(np.array([1, 3]).astype(dtype.np_dtype))
    y = tx.constant(np.array([2, 4]).astype(dtype.np_dtype))
    for r in (x / y, tx.truediv(x, y), tx.divide(x, y), x / 2, 3 / y):
        assert r.dtype is want
    np.testing.assert_allclose((x / y).numpy().astype(np.float64), [0.5, 0.75])


def test_int_div_int_is_float64():
    r = tx.constant(1) / tx.constant(3)
    assert r.dtype is tx.float64
    assert r.numpy() == 1 / 3  # exactly Python's (float64) answer


def test_bool_truediv_is_type_error():
    with pytest.raises(TypeError):
        tx.constant(True) / tx.constant(False)


# ---------------------------------------------------------------- half precision
@pytest.mark.parametrize("dtype", [tx.float16, tx.bfloat16], ids=lambda d: d.name)
def test_half_precision_tensors_work(dtype):
    a = np.array([0.5, 1.0, 2.0]).astype(np.float32).astype(dtype.np_dtype)
    x = tx.constant(a)
    assert x.dtype is dtype and x.numpy().dtype == dtype.np_dtype
    for r in (x + x, x * 2, tx.sin(x), tx.exp(x), tx.sqrt(x), -x, x / x, tx.maximum(x, 1.0)):
        assert r.dtype is dtype
        assert r.numpy().dtype == dtype.np_dtype
    np.testing.assert_allclose(
        tx.exp(x).numpy().astype(np.float32), np.exp(a.astype(np.float32)), rtol=2e-2
    )
    c = tx.cast(x, tx.float32)
    assert c.dtype is tx.float32
    np.testing.assert_array_equal(c.numpy(), a.astype(np.float32))
    assert tx.cast(c, dtype).dtype is dtype
    assert (x < 1).dtype is tx.bool


def test_tensor_conversion_never_casts_tensors():
    with pytest.raises(TypeError, match="float64"):
        tx.convert_to_tensor(tx.constant(1.0), dtype=tx.float64)
