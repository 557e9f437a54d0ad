"""Turning Python values into tensors with TF's dtype rules (`convert_to_tensor`, `constant`)."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.interpreters import current_trace
from compiler.ir.types import DType
from tfx_core.framework.tensor import Tensor

_I32 = np.iinfo(np.int32)


def infer_numpy(value: Any) -> np.ndarray:
    """A numpy array with TF's defaults: Python floats are float32 and ints int32 (or int64).

    Numpy arrays and scalars keep their own dtype (a float64 array stays float64).
    """
    if isinstance(value, (np.ndarray, np.generic)):
        a = np.asarray(value)
        if a.dtype.kind in "US" or a.dtype == object:
            raise TypeError(f"cannot convert {a.dtype} data to a tensor")
        DType.from_numpy(a.dtype)  # datetime64, float128, structured, complex256: TypeError
        return a
    try:
        a = np.asarray(value)
    except OverflowError:
        raise TypeError(f"cannot convert {value!r} to a tensor: out of range for int64") from None
    if a.dtype == object or a.dtype.kind in "USV":
        raise TypeError(f"cannot convert {value!r} to a tensor (ragged, too large or "
                        "non-numeric)")
    if a.dtype == np.uint64:  # a Python int above int64's range
        raise TypeError(f"cannot convert {value!r} to a tensor: out of range for int64")
    if a.dtype.kind == "f":
        return a.astype(np.float32)
    if a.dtype.kind in "iu":
        if a.size and (a.min() < _I32.min or a.max() > _I32.max):
            return a.astype(np.int64)
        return a.astype(np.int32)
    if a.dtype.kind == "c":
        return a.astype(np.complex128)  # TF: Python complex numbers are complex128
    return a


def cast_numpy_exact(value: Any, dtype: DType, context: str = "") -> np.ndarray:
    """Convert a Python/numpy value to `dtype`, refusing values that would change.

    Mirrors TF's "Cannot convert 1.5 to EagerTensor of dtype int32" rule for Python scalars.
    """
    src = np.asarray(value)
    if src.dtype == object or src.dtype.kind in "USV":
        raise TypeError(f"{context}cannot convert {value!r} to a tensor of dtype {dtype.name}")
    if src.dtype.kind == "c" and not dtype.is_complex:  # TF: "Cannot convert (1+2j) to ..."
        raise TypeError(f"{context}cannot convert {value!r} to a tensor of dtype {dtype.name}")
    with np.errstate(all="ignore"):
        out = src.astype(dtype.np_dtype)
    if src.dtype.kind == "f" and not dtype.is_inexact:
        ok = np.array_equal(out.astype(np.float64), src.astype(np.float64))
    elif src.dtype.kind in "iub" and (dtype.is_integer or dtype.is_bool):
        # (round trip and sign both kept: -1 -> uint32 and 2**64 - 1 -> int64 are refused)
        with np.errstate(all="ignore"):
            ok = np.array_equal(out.astype(src.dtype), src) and np.array_equal(out < 0, src < 0)
    else:
        ok = True
    if not ok:
        raise TypeError(f"{context}cannot convert {value!r} to a tensor of dtype {dtype.name}")
    return out


def to_numpy_for(value: Any, dtype: DType | None, context: str = "") -> np.ndarray:
    if dtype is None:
        return infer_numpy(value)
    if isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.kind not in "US":
        a = np.asarray(value)
        if DType.from_numpy(a.dtype) is dtype:
            return a
    return cast_numpy_exact(value, dtype, context)


def convert_to_tensor(value: Any, dtype: Any = None, dtype_hint: Any = None,
                      name: str | None = None) -> Tensor:
    """Convert a tensor, Variable, numpy array, Python scalar or nested list to a Tensor.

    Args:
        value: what to convert; a Tensor is returned as is.
        dtype: the required dtype; a Tensor of another dtype is a TypeError (no casting).
        dtype_hint: the dtype to use for Python values when `dtype` is None.
    """
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not DType.from_any(dtype):
            raise TypeError(
                f"tensor conversion requested dtype {DType.from_any(dtype).name} for a tensor "
                f"of dtype {value.dtype.name} ({value.type}); use tx.cast to convert"
            )
        return value
    conv = getattr(value, "_as_tensor", None)  # Variables and other tensor-likes
    if conv is not None:
        return convert_to_tensor(conv(), dtype, dtype_hint)
    dt = DType.from_any(dtype) if dtype is not None else None
    if dt is None and dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        try:
            return constant_tensor(to_numpy_for(value, DType.from_any(dtype_hint)))
        except TypeError:
            pass
    return constant_tensor(to_numpy_for(value, dt))


def constant_tensor(a: np.ndarray) -> Tensor:
    """A tensor holding `a`: a device buffer eagerly, a constant or capture inside a trace."""
    trace = current_trace()
    if trace is not None:
        return trace.constant(a)
    return _eager_constant(a)


_SCALAR_CACHE: dict[tuple, Tensor] = {}


def _eager_constant(a: np.ndarray) -> Tensor:
    # NOTE: scalars recur constantly (x + 1, x * 0.5); their buffers are immutable, so share them.
    if a.ndim == 0:
        key = (a.dtype.str, a.tobytes())
        t = _SCALAR_CACHE.get(key)
        if t is None:
            if len(_SCALAR_CACHE) > 4096:
                _SCALAR_CACHE.clear()
            t = _SCALAR_CACHE[key] = Tensor.from_numpy(a)
        return Tensor(t._buf, t._type)  # shared buffer, distinct identity (see _api.to_tensor)
    return Tensor.from_numpy(a)


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """A constant tensor (tf.constant): numpy arrays are cast to `dtype`, Python values checked.

    `shape` reshapes the value, or broadcasts a scalar to it.
    """
    if isinstance(value, Tensor):
        from tfx_core.ops.math_ops import cast

        t = value if dtype is None else cast(value, dtype)
    else:
        dt = DType.from_any(dtype) if dtype is not None else None
        if isinstance(value, (np.ndarray, np.generic)) and dt is not None:
            a = np.asarray(value).astype(dt.np_dtype)
        else:
            a = to_numpy_for(value, dt, "constant: ")
        if shape is not None:
            shape = tuple(int(d) for d in shape)
            a = np.broadcast_to(a, shape) if a.size == 1 else a.reshape(shape)
        return constant_tensor(np.array(a, order="C", copy=True))
    if shape is not None:
        from tfx_core.ops.array_ops import reshape

        t = reshape(t, shape)
    return t

