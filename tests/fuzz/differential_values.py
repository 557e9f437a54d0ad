"""Random input arrays with special values, and the JSON encoding of arrays and Python values."""
from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

import tfx_core as tx
from compiler.ir.types import DType

# dtype -> weight when the generator picks an input dtype
DTYPE_WEIGHTS = {
    "float32": 0.28, "float64": 0.12, "bfloat16": 0.09, "float16": 0.09,
    "int32": 0.16, "int64": 0.08, "bool": 0.10, "int8": 0.04, "uint8": 0.04,
}
MAX_ELEMENTS = 96
DIMS = (1, 2, 3, 4, 5)  # few distinct sizes: eager executables are cached per shape


def dtype(name: str) -> DType:
    return DType.from_any(name)


def is_float(dt: np.dtype) -> bool:
    return dt.kind == "f" or dt == np.dtype(ml_dtypes.bfloat16)


def float_specials(npdt: np.dtype) -> list[float]:
    """inf, NaN, signed zeros, subnormals, the smallest normal, the largest value, huge/tiny."""
    fi = ml_dtypes.finfo(npdt)
    sub, tiny, big = float(fi.smallest_subnormal), float(fi.tiny), float(fi.max)
    # (NaN, the infinities and -0.0 twice: they are what most rewrites get wrong)
    return [np.nan, np.nan, np.inf, -np.inf, np.inf, -np.inf, 0.0, -0.0, -0.0, sub, -sub,
            tiny * 0.5, tiny, -tiny, big, -big, big / 4, 1e30 if big > 1e30 else 6e4,
            1e-30 if tiny < 1e-30 else 1e-7, 1.0, -1.0, 0.5, 2.0]


def int_specials(npdt: np.dtype) -> list[int]:
    ii = np.iinfo(npdt)
    return [int(ii.min), int(ii.max), int(ii.min) + 1, int(ii.max) - 1, 0, 1, -1 if ii.min else 2]


def random_shape(rng: np.random.Generator, empty_p: float = 0.06) -> tuple[int, ...]:
    rank = int(rng.choice(5, p=[0.14, 0.28, 0.32, 0.2, 0.06]))
    for _ in range(20):
        shape = tuple(int(rng.choice(DIMS)) for _ in range(rank))
        if rank and rng.random() < empty_p:
            shape = tuple(0 if i == rng.integers(rank) else d for i, d in enumerate(shape))
        if int(np.prod(shape, dtype=np.int64)) <= MAX_ELEMENTS:
            return shape
    return (3,)


def random_array(rng: np.random.Generator, shape: tuple, dt: DType, special_p: float = 0.5,
                 low: float | None = None, high: float | None = None) -> np.ndarray:
    """Values of `dt`: mostly moderate, sometimes wide-ranged or on a coarse grid (ties),
    with special values written over random elements with probability `special_p`."""
    npdt = dt.np_dtype
    n = int(np.prod(shape, dtype=np.int64))
    if dt.is_bool:
        return np.asarray(rng.random(shape) < 0.5)
    if dt.is_integer:
        ii = np.iinfo(npdt)
        lo = max(ii.min, -10 if low is None else int(low))
        hi = min(ii.max, 10 if high is None else int(high))
        a = rng.integers(lo, hi + 1, size=shape).astype(npdt)
        if n and rng.random() < special_p and low is None:
            sp = int_specials(npdt)
            k = int(rng.integers(1, min(n, 3) + 1))
            a.reshape(-1)[rng.choice(n, k, replace=False)] = [sp[i] for i in
                                                             rng.integers(len(sp), size=k)]
        return np.asarray(a)
    style = rng.random()
    if low is not None:
        a = rng.uniform(low, high, size=shape)
    elif style < 0.6:
        a = rng.uniform(-3, 3, size=shape)
    elif style < 0.8:  # wide magnitudes, both signs
        a = np.exp(rng.uniform(-12, 12, size=shape)) * rng.choice([-1.0, 1.0], size=shape)
    else:  # a coarse grid: exact ties for comparisons, max/min, sort, argmax
        a = rng.integers(-4, 5, size=shape) * 0.5
    a = np.asarray(a, np.float64)
    if n and rng.random() < special_p and low is None:
        sp = float_specials(npdt)
        k = int(rng.integers(1, min(n, 4) + 1))
        a.reshape(-1)[rng.choice(n, k, replace=False)] = [sp[i] for i in
                                                         rng.integers(len(sp), size=k)]
    with np.errstate(over="ignore"):  # wide values beyond float16's range become inf
        return np.asarray(a.astype(np.float32).astype(npdt) if npdt == ml_dtypes.bfloat16
                          else a.astype(npdt))


# ---------------------------------------------------------------- JSON encoding (no pickle)
def encode_array(a: np.ndarray) -> dict:
    """An array as {dtype, shape, values}; floats as repr strings ("nan", "-0.0", "1e-45"),
    exact because every float dtype here converts to float64 exactly."""
    a = np.asarray(a)
    flat = a.reshape(-1)
    if is_float(a.dtype):
        vals: list = [repr(float(v)) for v in flat.astype(np.float64)]
    elif a.dtype == np.bool_:
        vals = [bool(v) for v in flat]
    else:
        vals = [int(v) for v in flat]
    return {"dtype": DType.from_numpy(a.dtype).name, "shape": list(a.shape), "values": vals}


def decode_array(d: dict) -> np.ndarray:
    npdt = dtype(d["dtype"]).np_dtype
    shape = tuple(d["shape"])
    if is_float(np.dtype(npdt)):
        a = np.array([float(v) for v in d["values"]], np.float64)
        a = a.astype(np.float32).astype(npdt) if npdt == ml_dtypes.bfloat16 else a.astype(npdt)
    else:
        a = np.array(d["values"], dtype=npdt)
    return np.asarray(a.reshape(shape))


def encode_py(v: Any) -> Any:
    """Python call arguments (ints, floats, tuples, slices, Ellipsis, dtypes) as JSON data."""
    if isinstance(v, DType):
        return {"__dtype__": v.name}
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return v if np.isfinite(v) else {"__float__": repr(v)}
    if isinstance(v, tuple):
        return {"__tuple__": [encode_py(x) for x in v]}
    if isinstance(v, list):
        return [encode_py(x) for x in v]
    if isinstance(v, slice):
        return {"__slice__": [encode_py(v.start), encode_py(v.stop), encode_py(v.step)]}
    if v is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(v, dict):
        return {"__dict__": {k: encode_py(x) for k, x in v.items()}}
    raise TypeError(f"cannot encode {type(v).__name__} {v!r}")


def decode_py(v: Any) -> Any:
    if isinstance(v, list):
        return [decode_py(x) for x in v]
    if not isinstance(v, dict):
        return v
    (tag, x), = v.items()
    if tag == "__dtype__":
        return dtype(x)
    if tag == "__float__":
        return float(x)
    if tag == "__tuple__":
        return tuple(decode_py(y) for y in x)
    if tag == "__slice__":
        return slice(*[decode_py(y) for y in x])
    if tag == "__ellipsis__":
        return Ellipsis
    if tag == "__dict__":
        return {k: decode_py(y) for k, y in x.items()}
    raise ValueError(f"unknown tag {tag!r}")


def py_source(v: Any) -> str:
    """Python source for a call argument (dtypes as tx.<name>)."""
    if isinstance(v, DType):
        return f"tx.{v.name}"
    if isinstance(v, float) and not np.isfinite(v):
        return f"float({repr(v)!r})"
    if isinstance(v, tuple):
        inner = ", ".join(py_source(x) for x in v)
        return f"({inner}{',' if len(v) == 1 else ''})"
    if isinstance(v, list):
        return "[" + ", ".join(py_source(x) for x in v) + "]"
    if isinstance(v, slice):
        return f"slice({py_source(v.start)}, {py_source(v.stop)}, {py_source(v.step)})"
    if v is Ellipsis:
        return "..."
    return repr(v)


def array_source(a: np.ndarray) -> str:
    """numpy source rebuilding `a` exactly (floats through their float64 reprs)."""
    d = encode_array(a)
    shape = tuple(a.shape)
    if d["dtype"] == "bool":
        return f"np.array({d['values']!r}, np.bool_).reshape({shape!r})"
    if not is_float(a.dtype):
        return f"np.array({d['values']!r}, np.{d['dtype']}).reshape({shape!r})"
    body = ", ".join(v if v not in ("nan", "inf", "-inf") else f"float({v!r})"
                     for v in d["values"])
    # bfloat16 goes through float32, the conversion ml_dtypes rounds exactly
    cast = ".astype(np.float32).astype(ml_dtypes.bfloat16)" if d["dtype"] == "bfloat16" \
        else f".astype(np.{d['dtype']})"
    return f"np.array([{body}], np.float64){cast}.reshape({shape!r})"


assert tx.float32.np_dtype == np.float32  # the encoding assumes tx dtypes map to numpy's
