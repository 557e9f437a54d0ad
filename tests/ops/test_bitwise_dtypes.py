"""Shifts, saturate_cast and bitcast against TF 2.21's recorded answers (tests/oracles/dtypes.npz),
eagerly and compiled; unsigned conversion rules and the ops' errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.dtypes_cases import INT_DTYPES, bitcast_cases, saturate_cases, shift_inputs

ORACLE = np.load(Path(__file__).parents[1] / "oracles" / "dtypes.npz")


def _both(fn, *args):
    """fn's answer eagerly and under tx.function (must agree bit for bit)."""
    eager = fn(*args).numpy()
    compiled = tx.function(lambda *a: fn(*a))(*args).numpy()
    assert eager.dtype == compiled.dtype and eager.shape == compiled.shape
    np.testing.assert_array_equal(eager.view(f"u{eager.dtype.itemsize}"),
                                  compiled.view(f"u{compiled.dtype.itemsize}"))
    return eager


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_shifts_match_tf(dtype):
    """Shift amounts at, past and below the bit width: TF clamps them to [0, bits - 1]."""
    x, y = (tx.constant(a) for a in shift_inputs(dtype))
    np.testing.assert_array_equal(_both(tx.bitwise.left_shift, x, y),
                                  ORACLE[f"shift/{dtype}/left"])
    np.testing.assert_array_equal(_both(tx.bitwise.right_shift, x, y),
                                  ORACLE[f"shift/{dtype}/right"])


# Where TF 2.21's answer is an artifact of its x86 kernels, tfx gives the documented saturating
# answer instead: NaN casts to 0 (TF: the integer minimum, or 2**31 / 2**63 for unsigned
# 32/64-bit), the float upper limit of a 64-bit integer target stays in range (TF's limit
# rounds up to 2**63 and wraps to the minimum), and int64 -> uint64 keeps in-range values (TF's
# upper limit wraps to -1, so it returns all zeros). TF has no kernel for unsigned -> signed.
def _expected_deviation(name: str, a: np.ndarray, to: str) -> np.ndarray:
    """A mask of the elements where tfx knowingly differs from TF (see above)."""
    mask = np.zeros(a.shape, bool)
    if a.dtype.kind == "f" and np.dtype(to).kind in "iu":
        mask |= np.isnan(a)
        if np.dtype(to).itemsize >= 4:
            mask |= np.isnan(a) | (a > np.iinfo(to).max)
    if name == "i64_u64":
        mask |= a >= 0
    return mask


def _saturated(a: np.ndarray, to: str) -> np.ndarray:
    """The documented answer at the deviating elements: NaN -> 0, else the in-range bound."""
    info = np.iinfo(to)
    hi = np.asarray(info.max).astype(a.dtype)
    if hi.item() > info.max:
        hi = np.nextafter(hi, a.dtype.type(-np.inf))
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(a), 0, np.where(a >= 0, np.minimum(a, hi), 0)).astype(to) \
            if a.dtype.kind == "f" else np.maximum(a, 0).astype(to)


@pytest.mark.parametrize("name", sorted(saturate_cases()))
def test_saturate_cast_matches_tf(name):
    a, to = saturate_cases()[name]
    got = _both(lambda x: tx.saturate_cast(x, to), tx.constant(a))
    key = f"saturate/{name}"
    if key not in ORACLE:  # TF has no kernel (uint32 -> int32, uint64 -> int64): clamp
        assert f"{key}/error" in ORACLE
        np.testing.assert_array_equal(got, np.minimum(a, np.iinfo(to).max).astype(to))
        return
    want = ORACLE[key]
    assert got.dtype == want.dtype and got.shape == want.shape
    dev = _expected_deviation(name, a, to)
    np.testing.assert_array_equal(got[~dev], want[~dev], err_msg=name)
    if dev.any():
        np.testing.assert_array_equal(got[dev], _saturated(a, to)[dev], err_msg=name)


@pytest.mark.parametrize("name", sorted(bitcast_cases()))
def test_bitcast_matches_tf(name):
    a, to = bitcast_cases()[name]
    got = _both(lambda x: tx.bitcast(x, to), tx.constant(a))
    want = ORACLE[f"bitcast/{name}"]
    assert got.dtype == want.dtype and got.shape == want.shape, name
    np.testing.assert_array_equal(got.view(f"u{got.dtype.itemsize}"),
                                  want.view(f"u{want.dtype.itemsize}"))


def test_errors():
    with pytest.raises(TypeError, match="left_shift"):
        tx.bitwise.left_shift(tx.constant([1.0]), tx.constant([1.0]))
    with pytest.raises(TypeError):
        tx.bitwise.right_shift(tx.constant([1], tx.int32), tx.constant([1], tx.int64))
    with pytest.raises(ValueError, match="last dimension must be 4"):
        tx.bitcast(tx.constant(np.zeros((2, 3), np.uint8)), tx.float32)
    with pytest.raises(TypeError, match=r"invert: expected an integer tensor.*test_bitwise"):
        tx.bitwise.invert(tx.constant(1.0))
    with pytest.raises(TypeError, match="bitwise_and"):
        tx.bitwise.bitwise_and(tx.constant([1.0]), tx.constant([2.0]))
    with pytest.raises(TypeError, match="floordiv: expected real"):
        tx.constant([1j]) // tx.constant([1j])
    with pytest.raises(TypeError, match="bitcast"):  # (complex bitcasts work, as TF's)
        tx.bitcast(tx.constant([True]), tx.uint8)
    with pytest.raises(TypeError):
        tx.constant(-1, dtype=tx.uint32)  # TF: cannot convert -1 to uint32
    with pytest.raises(TypeError):
        tx.constant([2**64 - 1], dtype=tx.int64)


def test_unsigned_scalars_and_names():
    u = tx.constant(np.array([2**64 - 1, 5], np.uint64))
    np.testing.assert_array_equal((u - 1).numpy(), [2**64 - 2, 4])
    np.testing.assert_array_equal(tx.constant(2**64 - 1, dtype=tx.uint64).numpy(), 2**64 - 1)
    assert tx.constant([1, 2], dtype=tx.uint16).dtype is tx.uint16
    for n in ("uint16", "uint32", "uint64", "complex64", "complex128", "double", "half"):
        assert tx.dtypes.as_dtype(n) is getattr(tx.dtypes, n) is getattr(tx, n)
    assert tx.dtypes.as_dtype(np.uint64) is tx.uint64 and tx.dtypes.DType is type(tx.uint16)
    assert tx.uint16.max == 65535 and tx.uint64.min == 0 and tx.uint32.is_unsigned
    assert tx.int8.limits() == (-128, 127) and tx.uint16.limits() == (0, 65535)
    assert tx.float16.is_compatible_with("half") and not tx.float16.is_compatible_with(tx.bfloat16)
    assert tx.complex64.as_datatype_enum == 8 and tx.uint64.as_datatype_enum == 23  # TF's enum
    assert tx.complex128.is_numeric and not tx.bool.is_numeric and not tx.int8.is_quantized
    with pytest.raises(TypeError, match="minimum value of complex64"):
        tx.complex64.min  # noqa: B018  (TF: complex numbers have no order)
