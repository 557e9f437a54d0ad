"""Op-table entries for tx.bitwise (shifts, and/or/xor/invert on every integer dtype),
tx.bitcast, tx.saturate_cast, and arithmetic/reductions on uint16/uint32/uint64."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from compiler.ir.types import DType

from . import OpInfo, Sample

INT_ALL = (tx.int8, tx.int16, tx.int32, tx.int64, tx.uint8, tx.uint16, tx.uint32, tx.uint64)
UNSIGNED = (tx.uint16, tx.uint32, tx.uint64)


def _rotated(seq, dt: DType, k: int) -> list:
    """k items of seq, starting at a position that depends on the dtype (all are covered)."""
    i = sum(map(ord, dt.name))
    return [seq[(i + j) % len(seq)] for j in range(k)]
_NOT_DIFF = "integer op: nothing to differentiate"


def _full(rng, shape, dt: DType) -> np.ndarray:
    """Integers over the dtype's whole range (edges included)."""
    info = np.iinfo(dt.np_dtype)
    a = rng.integers(info.min, info.max, size=shape, dtype=dt.np_dtype, endpoint=True)
    flat = a.reshape(-1)
    flat[: min(2, flat.size)] = [info.min, info.max][: min(2, flat.size)]
    return a


# ---------------------------------------------------------------- shifts
def _shift_samples(rng, dt):
    bits = dt.bits
    low = 0 if dt.is_unsigned else -3
    out = []
    shapes = [((4, 5), (4, 5)), ((3, 1), (6,)), ((), (7,)), ((0,), (0,))]
    for xs, ys in shapes if dt is tx.int32 else _rotated(shapes, dt, 1):
        y = rng.integers(low, bits + 4, size=ys).astype(dt.np_dtype)
        out.append(Sample((_full(rng, xs, dt), y)))
    return out


def _shift_ref(left: bool):
    """Python-int shifts with the amount clamped to [0, bits - 1], wrapped to the dtype."""

    def ref(x, y):
        bits = x.dtype.itemsize * 8
        xb, yb = np.broadcast_arrays(x, y)
        out = []
        for a, s in zip(xb.reshape(-1).tolist(), yb.reshape(-1).tolist()):
            s = min(max(s, 0), bits - 1)
            v = (a << s) if left else (a >> s)  # Python's >> is arithmetic; unsigned a >= 0
            v &= (1 << bits) - 1
            if x.dtype.kind == "i" and v >= 1 << (bits - 1):
                v -= 1 << bits
            out.append(v)
        return np.array(out, dtype=x.dtype).reshape(xb.shape)

    return ref


def _bit_samples(rng, dt):
    if dt is tx.int32:
        return [Sample((_full(rng, (3, 4), dt), _full(rng, (4,), dt))),
                Sample((_full(rng, (), dt), _full(rng, (0,), dt)))]
    return [Sample((_full(rng, (2, 3), dt), _full(rng, (3,), dt)))]


# ---------------------------------------------------------------- bitcast
_TARGETS = (tx.int8, tx.uint16, tx.float16, tx.int32, tx.float32, tx.uint32, tx.int64,
            tx.float64, tx.uint64)


def _bitcast_samples(rng, dt):
    out = []
    for to in _rotated(_TARGETS, dt, 2):
        ratio = to.np_dtype.itemsize / dt.np_dtype.itemsize
        shape = (2, int(ratio)) if ratio > 1 else (2, 3)
        if dt.is_integer:
            x = _full(rng, shape, dt)
        else:
            x = rng.uniform(-4, 4, size=shape).astype(dt.np_dtype)
        out.append(Sample((x, to)))
    return out


def _bitcast_ref(x, to):
    if x.dtype == to.np_dtype:
        return x
    n_in, n_out = x.dtype.itemsize, to.np_dtype.itemsize
    shape = x.shape + (n_in // n_out,) if n_in > n_out else x.shape[:-1] if n_in < n_out \
        else x.shape
    return np.ascontiguousarray(x).reshape(-1).view(to.np_dtype).reshape(shape)


# ---------------------------------------------------------------- saturate_cast
_SAT_TO = (tx.int8, tx.uint8, tx.int16, tx.int32, tx.uint32, tx.int64, tx.uint64, tx.float16,
           tx.float32, tx.complex64)


def _sat_samples(rng, dt):
    if dt.is_complex:
        x = (rng.uniform(-1e5, 1e5, (6,)) + 1j * rng.uniform(-1e5, 1e5, (6,)))
        x = x.astype(dt.np_dtype)
    elif dt.is_integer:
        x = _full(rng, (6,), dt)
    else:
        x = np.array([1e30, -1e30, 300.7, -0.5, 70000.0, np.inf, -np.inf, 2.5], dt.np_dtype)
    targets = [t for t in _SAT_TO if not (dt.is_complex and t.is_integer)]
    return [Sample((x, to)) for to in _rotated(targets, dt, 3)]


def _largest_inside(bound, np_dtype, down: bool):
    v = np.asarray(bound).astype(np_dtype)
    if (v.item() > bound) if down else (v.item() < bound):
        v = np.nextafter(v, np_dtype.type(-np.inf if down else np.inf))
    return v.item()


def _sat_ref(x, to):
    """Clamp (exactly, in Python numbers) to the largest/smallest input-dtype values inside
    the target's range, then cast as tx.cast does."""
    if x.dtype.kind == "c" and to.is_complex:
        re, im = _sat_ref(x.real, to.real_dtype), _sat_ref(x.imag, to.real_dtype)
        return (re + 1j * im.astype(re.dtype)).astype(to.np_dtype)
    if x.dtype.kind == "c":
        x = x.real
    fin = np.finfo if x.dtype.kind == "f" else np.iinfo
    dfin = np.finfo if to.np_dtype.kind in "fc" else np.iinfo
    dinfo, sinfo = dfin(to.real_dtype.np_dtype), fin(x.dtype)
    dmin, dmax, smin, smax = (np.asarray(v).item() for v in (dinfo.min, dinfo.max, sinfo.min,
                                                               sinfo.max))
    lo = _largest_inside(dmin, x.dtype, False) if smin < dmin else None
    hi = _largest_inside(dmax, x.dtype, True) if smax > dmax else None
    vals = []
    for v in x.reshape(-1).tolist():
        if v != v:
            vals.append(0 if to.is_integer else v)
            continue
        v = max(v, lo) if lo is not None else v
        v = min(v, hi) if hi is not None else v
        vals.append(int(v) if to.is_integer else v)  # int(): truncation toward zero
    return np.array(vals, dtype=object).astype(to.np_dtype).reshape(x.shape)


# ---------------------------------------------------------------- unsigned arithmetic
def _u_samples(rng, dt):
    info = np.iinfo(dt.np_dtype)
    out = []
    for xs, ys in [((3, 4), (4,)), ((0, 2), (2,))] if dt is tx.uint64 else [((3, 4), (4,))]:
        b = rng.integers(1, info.max, size=ys, dtype=dt.np_dtype, endpoint=True)
        b.reshape(-1)[: min(1, b.size)] = 1
        out.append(Sample((_full(rng, xs, dt), b)))
    return out


def _u_arith(a, b):
    return (a + b, a - b, a * b, a // b, a % b, tx.maximum(a, b), tx.minimum(a, b), a < b,
            tx.equal(a, b), a >= b)


def _u_arith_ref(a, b):
    return (a + b, a - b, a * b, a // b, a % b, np.maximum(a, b), np.minimum(a, b), a < b,
            a == b, a >= b)


def _u_reduce(x):
    return (tx.reduce_sum(x, axis=0), tx.reduce_prod(x, axis=1), tx.reduce_max(x),
            tx.reduce_min(x, axis=1), tx.reduce_mean(x, axis=1), tx.argmax(x, axis=1),
            tx.cast(x, tx.float64), tx.cast(x, tx.int64))


def _u_reduce_ref(x):
    wrap = 2**64 if x.dtype == np.uint64 else None  # uint64 accumulates in uint64 (wraps)
    mean = np.array([(sum(r) % wrap if wrap else sum(r)) // len(r) for r in x.tolist()],
                    dtype=object).astype(x.dtype)
    return (x.sum(axis=0, dtype=x.dtype), x.prod(axis=1, dtype=x.dtype), x.max(), x.min(axis=1),
            mean, np.argmax(x, axis=1), x.astype(np.float64), x.astype(np.int64))


def _u_reduce_samples(rng, dt):
    return [Sample((_full(rng, (3, 4), dt),))]


ENTRIES = [
    OpInfo("left_shift", tx.bitwise.left_shift, _shift_ref(True), _shift_samples, INT_ALL,
           ("shift_left",), grad=_NOT_DIFF),
    OpInfo("right_shift", tx.bitwise.right_shift, _shift_ref(False), _shift_samples, INT_ALL,
           ("shift_right",), grad=_NOT_DIFF),
    OpInfo("bitwise_and_wide", tx.bitwise.bitwise_and, np.bitwise_and, _bit_samples, INT_ALL,
           ("and",), grad=_NOT_DIFF),
    OpInfo("bitwise_or_wide", tx.bitwise.bitwise_or, np.bitwise_or, _bit_samples, INT_ALL,
           ("or",), grad=_NOT_DIFF),
    OpInfo("bitwise_xor_wide", tx.bitwise.bitwise_xor, np.bitwise_xor, _bit_samples, INT_ALL,
           ("xor",), grad=_NOT_DIFF),
    OpInfo("invert_wide", tx.bitwise.invert, np.invert,
           lambda rng, dt: [Sample((_full(rng, (2, 3), dt),))], INT_ALL, ("not",),
           grad=_NOT_DIFF),
    OpInfo("bitcast", tx.bitcast, _bitcast_ref, _bitcast_samples,
           (tx.uint8, tx.int16, tx.bfloat16, tx.float32, tx.uint32, tx.float64, tx.int64),
           ("bitcast_convert",), grad=_NOT_DIFF),
    OpInfo("saturate_cast", tx.saturate_cast, _sat_ref, _sat_samples,
           (tx.float32, tx.float64, tx.int64, tx.uint64, tx.int8, tx.complex128),
           ("convert", "maximum", "minimum"), grad="clamps: tests/ops/test_bitwise_dtypes.py"),
    OpInfo("unsigned_arithmetic", _u_arith, _u_arith_ref, _u_samples, UNSIGNED,
           ("add", "subtract", "multiply", "divide", "remainder", "maximum", "compare"),
           grad=_NOT_DIFF),
    OpInfo("unsigned_reductions", _u_reduce, _u_reduce_ref, _u_reduce_samples, UNSIGNED,
           ("reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "argmax", "convert"),
           grad=_NOT_DIFF),
]
