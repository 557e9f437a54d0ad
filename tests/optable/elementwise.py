"""Op-table entries for elementwise math (tfx_core.ops.math_ops) and the Python operators on Tensor.

Sampling policy (keeps the suite fast): the primary dtypes (float32, int32, bool) get every shape
in SHAPES and every pair in BCAST_PAIRS; every other dtype gets one full-size sample plus one
shape or pair rotated by dtype, so each shape is still seen by several dtypes. float32/float16
also get a sample of edge values (inf, NaN, poles, signed zeros) where the op defines them.
References are plain numpy; float16/bfloat16 references run in float32 and round back.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import ml_dtypes
import numpy as np

import tfx_core as tx
from compiler.ir.types import ALL_DTYPES, DType

from . import (
    ALL,
    BCAST_PAIRS,
    FLOATS,
    GRAD_ZERO,
    INTS,
    NUMERIC,
    SHAPES,
    SIGNED,
    OpInfo,
    Sample,
    make_arg,
)

PRIMARY = (tx.float32, tx.int32, tx.bool)
_LOWP = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))


# ---------------------------------------------------------------- sampling helpers
def _pick(seq: Sequence, dtype: DType, k: int = 2) -> list:
    """All of `seq` for a primary dtype; otherwise `k` items rotated by the dtype's position."""
    if dtype in PRIMARY:
        return list(seq)
    i = ALL_DTYPES.index(dtype)
    return [seq[(i + j) % len(seq)] for j in range(min(k, len(seq)))]


def _cast(a, dtype: DType) -> np.ndarray:
    """`a` as `dtype` (bfloat16 via float32, the conversion ml_dtypes is exact about)."""
    a = np.asarray(a)
    if dtype is tx.bfloat16 and a.dtype != np.float32:
        a = a.astype(np.float32)
    return a.astype(dtype.np_dtype)


def _arg(rng, shape, dtype: DType, low=-3.0, high=3.0) -> np.ndarray:
    """make_arg, with unsigned ranges clipped at 0, always an ndarray (also when 0-d)."""
    if dtype.is_unsigned:
        low, high = max(low, 0.0), max(high, 0.0)
    # NOTE: make_arg's bool branch returns an np.bool_ scalar for shape (): to_input would
    # then pass it on as a Python value instead of a tensor.
    return np.asarray(make_arg(rng, shape, dtype, low, high))


def _discrete(rng, shape, dtype: DType, low=-2, high=2, step=0.5) -> np.ndarray:
    """Values on a coarse grid (ties for comparisons; exact quotients for floordiv)."""
    if dtype.is_bool:
        return _arg(rng, shape, dtype)
    if dtype.is_integer:
        step = 1
        if dtype.is_unsigned:
            low, high = 0, max(high, 3)
    n_lo, n_hi = int(math.ceil(low / step)), int(math.floor(high / step))
    return _cast(rng.integers(n_lo, n_hi + 1, size=shape) * step, dtype)


def _nonzero(rng, shape, dtype: DType, lo=0.5, hi=3.0) -> np.ndarray:
    """Magnitudes in [lo, hi] with random signs (unsigned: positive): safe divisors."""
    if dtype.is_integer:
        mag = rng.integers(max(1, int(lo)), int(hi) + 1, size=shape)
    else:
        mag = rng.uniform(lo, hi, size=shape)
    if not dtype.is_unsigned:
        mag = mag * np.where(rng.random(shape) < 0.5, -1, 1)
    return _cast(mag, dtype)


def _with_specials(a: np.ndarray, specials: Sequence[float]) -> np.ndarray:
    """Overwrite the first elements of `a` with `specials` (as many as fit)."""
    a = a.copy()
    flat = a.reshape(-1)
    n = min(len(specials), flat.size)
    flat[:n] = _cast(np.array(specials[:n], np.float64), DType.from_numpy(a.dtype))
    return flat.reshape(a.shape)


EDGE_DTYPES = (tx.float32, tx.float16)


def unary_samples(low=-3.0, high=3.0, specials: Sequence[float] = (), gen=None,
                  edge: Sequence[float] = (), edge_dtypes=EDGE_DTYPES):
    """Samples over SHAPES; `specials` are written into the larger arrays.

    `edge` values (outside the domain: inf, NaN, poles) form one extra sample for `edge_dtypes`.
    """
    gen = gen or (lambda rng, s, dt: _arg(rng, s, dt, low, high))

    def samples(rng, dtype):
        out = []
        shapes = list(SHAPES)
        if dtype not in PRIMARY:  # one 8-element array (room for specials) + one rotated shape
            shapes = [(2, 1, 4), *_pick([s for s in SHAPES if s != (2, 1, 4)], dtype, 1)]
        for shape in shapes:
            a = gen(rng, shape, dtype)
            if specials and dtype.is_floating:
                a = _with_specials(a, specials)
            out.append(Sample((a,)))
        if edge and dtype in edge_dtypes:
            out.append(Sample((_cast(np.array(edge, np.float64), dtype),)))
        return out

    return samples


def binary_samples(lhs=None, rhs=None, same_shapes=((2, 3), ()), pairs=BCAST_PAIRS):
    """Same-shape and broadcasting pairs; `lhs`/`rhs` are (rng, shape, dtype) -> array."""
    lhs = lhs or (lambda rng, s, dt: _arg(rng, s, dt))
    rhs = rhs or lhs

    def samples(rng, dtype):
        shapes = [(s, s) for s in same_shapes] + list(pairs)
        if dtype not in PRIMARY:
            shapes = [shapes[0], *_pick(list(pairs), dtype, 1)]
        out = []
        for i, (sa, sb) in enumerate(shapes):
            if i % 2:  # broadcast both ways round
                sa, sb = sb, sa
            out.append(Sample((lhs(rng, sa, dtype), rhs(rng, sb, dtype))))
        return out

    return samples


# ---------------------------------------------------------------- reference helpers
def c_pow(x, y):
    """C's pow (what XLA computes): numpy's loops may take a sqrt shortcut for exponent
    +-0.5, giving NaN for (-inf) ** 0.5 (C: inf) and -0.0 for (-0.0) ** 0.5 (C: +0.0)."""
    r = np.power(x, y)
    half = np.abs(y) == 0.5
    if not np.any(half & ((x == -np.inf) | (x == 0))):
        return r
    r = np.where(half & (x == -np.inf), np.where(y > 0, np.inf, 0.0), r).astype(r.dtype)
    return np.where(half & (x == 0), np.where(y > 0, 0.0, np.inf), r).astype(r.dtype)


def lowp(fn: Callable) -> Callable:
    """A numpy reference run in float32 for f16/bf16 inputs; float results rounded back."""

    def ref(*args, **kwargs):
        low = next(
            (a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype in _LOWP), None
        )
        if low is None:
            return fn(*args, **kwargs)
        args = tuple(
            a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype in _LOWP else a
            for a in args
        )
        out = np.asarray(fn(*args, **kwargs))
        return out.astype(low) if out.dtype.kind == "f" else out

    return ref


def _in_f64(np_fn: Callable) -> Callable:
    """Reference computed in float64 and rounded to the input dtype (most accurate)."""

    def ref(x):
        return np.asarray(np_fn(x.astype(np.float64))).astype(x.dtype)

    return ref


_erf64 = np.vectorize(math.erf, otypes=[np.float64])


def _true_div_target(dt: np.dtype) -> np.dtype:
    if dt.kind == "f" or dt in _LOWP:
        return dt
    return np.dtype(np.float64) if dt.itemsize >= 4 else np.dtype(np.float32)


def truediv_ref(x, y):
    """TF truediv: int8/int16/uint8 -> float32, int32/int64 -> float64, floats stay."""
    x, y = np.asarray(x), np.asarray(y)
    t = _true_div_target(x.dtype)
    return lowp(np.true_divide)(x.astype(t), y.astype(t))


def _int_trunc_div(x, y):
    q = np.abs(x) // np.abs(y)
    return np.where((x < 0) != (y < 0), -q, q).astype(x.dtype)


def reciprocal_ref(x):
    if x.dtype.kind in "iu":
        return _int_trunc_div(np.ones_like(x), x)
    return lowp(np.reciprocal)(x)


def cast_ref(x, dtype):
    dt = tx.as_dtype(dtype)
    if dt.is_bool:
        return x != 0
    if x.dtype.kind == "f" or x.dtype in _LOWP:
        if dt.is_integer:  # truncate toward zero (samples stay in range)
            return np.trunc(x.astype(np.float64)).astype(dt.np_dtype)
    return _cast(x, dt)


def _clip_ref(t, lo, hi):
    return np.maximum(np.minimum(t, hi), lo)  # TF order: min wins when min > max


def _where_ref(c, x, y):
    x = np.asarray(x)
    return np.where(c, x, np.asarray(y, dtype=x.dtype)).astype(x.dtype)


# ---------------------------------------------------------------- special sample sets
INF, NAN = np.inf, np.nan
SPECIALS = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.5, 1e4)
HALVES = (0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, -0.51, 3.5, 7.5)
F_DIVISORS = (0.5, 1.5, 2.0, 3.0, 0.25, -0.5, -1.5, -2.0, -3.0, -0.25)


def _quarters(rng, shape, dtype):
    """Floats on a 1/4 grid in [-3, 3] (ints: [-7, 7]): quotients near integers stay exact."""
    if dtype.is_integer:
        return _arg(rng, shape, dtype, -7, 7) if not dtype.is_unsigned else _arg(
            rng, shape, dtype, 0, 20)
    return _cast(rng.integers(-12, 13, size=shape) / 4, dtype)


def _divisors(rng, shape, dtype):
    if dtype.is_integer:
        return _nonzero(rng, shape, dtype, 1, 3)
    return _cast(rng.choice(F_DIVISORS, size=shape), dtype)


def _floordiv_samples(rng, dtype):
    out = binary_samples(_quarters, _divisors)(rng, dtype)
    if dtype.is_unsigned:
        return out
    if dtype.is_integer:  # every sign combination, Python semantics
        x = np.array([-7, 7, -7, 7, 0, -1, 1, 6, -6], dtype.np_dtype)
        y = np.array([2, -2, -2, 2, 3, 3, -3, -3, 3], dtype.np_dtype)
    else:
        x = _cast([-7.0, 7.0, -7.0, 7.0, 0.0, -0.5, 0.5, 4.0, -3.0], dtype)
        y = _cast([2.0, -2.0, -2.0, 2.0, 3.0, 2.0, -2.0, -2.0, 1.5], dtype)
    return [*out, Sample((x, y))]


def _cast_samples(rng, dtype):
    targets = [tx.float32, tx.int32, tx.bool, tx.uint8, tx.float16, tx.int64, tx.bfloat16]
    if dtype not in PRIMARY:
        targets = [tx.float32, tx.int32, tx.bool, tx.uint8, dtype]
    out = []
    for i, target in enumerate(targets):
        shape = SHAPES[(i + 3) % len(SHAPES)]
        if dtype.is_floating:
            low = 0.0 if target.is_unsigned else -3.0
            a = _with_zeros(rng, _arg(rng, shape, dtype, low, 3.0))
        elif dtype.is_bool:
            a = _arg(rng, shape, dtype)
        else:
            a = _with_zeros(rng, _arg(rng, shape, dtype, -100, 100))
        out.append(Sample((a,), {"dtype": target}))
    return out


def _with_zeros(rng, a):
    return np.where(rng.random(a.shape) < 0.3, np.zeros((), a.dtype), a).astype(a.dtype)


def _where_samples(rng, dtype):
    shapes = [((2, 3), (2, 3), (2, 3)), ((2, 1), (1, 3), ()), ((), (3,), (3,)),
              ((0, 3), (3,), ()), ((4, 1, 3), (2, 1), (3,))]
    if dtype not in PRIMARY:
        shapes = _pick(shapes, dtype)
    out = [
        Sample((_arg(rng, c, tx.bool), _arg(rng, a, dtype), _arg(rng, b, dtype)))
        for c, a, b in shapes
    ]
    out.append(Sample((_arg(rng, (2, 3), tx.bool), _arg(rng, (2, 3), dtype), 0)))
    return out


def _clip_samples(rng, dtype):
    out = []
    for shape in _pick(SHAPES, dtype):
        t = _arg(rng, shape, dtype, -3, 3)
        out.append(Sample((t, _cast(-1, dtype) if not dtype.is_unsigned else _cast(1, dtype),
                           _cast(2, dtype))))
    out.append(Sample((_arg(rng, (2, 3), dtype), _arg(rng, (3,), dtype, -3, 0),
                       _arg(rng, (2, 1), dtype, 0, 3))))
    out.append(Sample((_arg(rng, (5,), dtype), 1, 2)))  # python bounds adopt t's dtype
    return out


def _minmax_samples(rng, dtype):
    out = binary_samples()(rng, dtype)
    if dtype is tx.float32:  # NaN propagates (TF, XLA and numpy agree)
        x = np.array([np.nan, 1.0, -np.inf, 2.0], np.float32)
        y = np.array([0.0, np.nan, 1.0, np.inf], np.float32)
        out.append(Sample((x, y)))
    return out


def _cmp_samples(rng, dtype):
    out = binary_samples(lambda r, s, d: _discrete(r, s, d))(rng, dtype)
    if dtype is tx.float32:  # NaN compares false except !=; -0 == 0
        out.append(Sample((np.array([np.nan, 0.0, -0.0, np.inf], np.float32),
                           np.array([np.nan, -0.0, 1.0, np.inf], np.float32))))
    return out


def with_edge(samples: Callable, *columns: Sequence[float]) -> Callable:
    """`samples` plus one sample of edge values (one array per argument) for EDGE_DTYPES."""

    def fn(rng, dtype):
        out = samples(rng, dtype)
        if dtype in EDGE_DTYPES:
            out.append(Sample(tuple(_cast(np.array(c, np.float64), dtype) for c in columns)))
        return out

    return fn


# ---------------------------------------------------------------- entry builders
def unary(name, fn, ref, dtypes, ops, low=-3.0, high=3.0, specials=(), gen=None, edge=(),
          edge_dtypes=EDGE_DTYPES, **kw) -> OpInfo:
    samples = unary_samples(low, high, specials, gen, edge, edge_dtypes)
    return OpInfo(name, fn, ref, samples, tuple(dtypes), tuple(ops), **kw)


def binary(name, fn, ref, dtypes, ops, samples=None, **kw) -> OpInfo:
    return OpInfo(name, fn, ref, samples or binary_samples(), tuple(dtypes), tuple(ops), **kw)


def _pos(lo, hi):
    return lambda rng, s, dt: _arg(rng, s, dt, lo, hi)


_CMP_OPS = ("compare",)
_FLOORDIV_OPS = ("divide", "remainder", "compare", "and", "select", "subtract", "floor")
_FLOORMOD_OPS = ("remainder", "compare", "and", "select", "add")
_MOD_KINKS = "kinks: samples on a 1/4 grid, so x/y is often an integer, where floormod jumps"

ENTRIES: list[OpInfo] = [
    # ------------------------------------------------------------ unary float math
    unary("exp", tx.exp, lowp(np.exp), FLOATS, ("exp",), edge=(INF, -INF, NAN, 100.0, -100.0)),
    unary("expm1", tx.expm1, lowp(np.expm1), FLOATS, ("expm1",), low=-2, high=2,
          edge=(INF, -INF, NAN, 1e-7, -0.0)),
    unary("log", tx.log, lowp(np.log), FLOATS, ("log",), low=0.1, high=5,
          edge=(0.0, -0.0, -1.0, INF, NAN, 1.0)),
    unary("log1p", tx.log1p, lowp(np.log1p), FLOATS, ("log1p",), low=-0.5, high=3,
          edge=(-1.0, -2.0, INF, NAN, 1e-7)),
    unary("sqrt", tx.sqrt, lowp(np.sqrt), FLOATS, ("sqrt",), low=0.0, high=4,
          edge=(-1.0, INF, -0.0, NAN)),
    unary("rsqrt", tx.rsqrt, lowp(lambda x: 1 / np.sqrt(x)), FLOATS, ("rsqrt",), low=0.25,
          high=4, edge=(0.0, INF, -1.0, NAN)),
    unary("sin", tx.sin, lowp(np.sin), FLOATS, ("sin",), edge=(INF, NAN, -0.0)),
    unary("cos", tx.cos, lowp(np.cos), FLOATS, ("cos",), edge=(INF, NAN)),
    unary("tan", tx.tan, lowp(np.tan), FLOATS, ("tan",), low=-1.2, high=1.2),
    unary("tanh", tx.tanh, lowp(np.tanh), FLOATS, ("tanh",), edge=(INF, -INF, NAN, 50.0, -0.0)),
    unary("sigmoid", tx.sigmoid, lowp(lambda x: 1 / (1 + np.exp(-x))), FLOATS, ("logistic",),
          low=-6, high=6, edge=(INF, -INF, NAN, 100.0, -100.0)),
    unary("erf", tx.erf, lowp(_in_f64(_erf64)), FLOATS, ("erf",), edge=(INF, -INF, NAN, 10.0)),
    unary("floor", tx.floor, lowp(np.floor), FLOATS, ("floor",), specials=(-0.5, 2.0, -2.0),
          edge=(INF, -INF, NAN), grad=GRAD_ZERO),
    unary("ceil", tx.ceil, lowp(np.ceil), FLOATS, ("ceil",), specials=(-0.5, 2.0, -2.0),
          grad=GRAD_ZERO),
    unary("round", tx.round, lowp(np.round), FLOATS + INTS, ("round_nearest_even",),
          specials=HALVES, edge=HALVES, edge_dtypes=FLOATS, grad=GRAD_ZERO),
    unary("is_finite", tx.is_finite, lowp(np.isfinite), FLOATS, ("is_finite",), specials=SPECIALS,
          edge=SPECIALS, edge_dtypes=FLOATS),
    unary("is_nan", tx.is_nan, lowp(np.isnan), FLOATS, _CMP_OPS, specials=SPECIALS,
          edge=SPECIALS, edge_dtypes=FLOATS),
    unary("is_inf", tx.is_inf, lowp(np.isinf), FLOATS, ("abs", "compare"), specials=SPECIALS,
          edge=SPECIALS, edge_dtypes=FLOATS),
    # ------------------------------------------------------------ unary numeric
    unary("abs", tx.abs, lowp(np.abs), NUMERIC, ("abs",), specials=(-0.0, -1.5)),
    unary("negative", tx.negative, lowp(np.negative), FLOATS + SIGNED, ("negate",)),
    unary("sign", tx.sign, lowp(np.sign), FLOATS + SIGNED, ("sign",), specials=(0.0, -0.0),
          gen=lambda rng, s, dt: _discrete(rng, s, dt), grad=GRAD_ZERO),
    unary("square", tx.square, lowp(np.square), NUMERIC, ("multiply",)),
    unary("reciprocal", tx.reciprocal, reciprocal_ref, (*FLOATS, tx.int32), ("divide",),
          gen=lambda rng, s, dt: _nonzero(rng, s, dt, 0.5 if dt.is_floating else 1, 3)),
    unary("invert", tx.invert, np.invert, INTS, ("not",), low=-100, high=100),
    unary("logical_not", tx.logical_not, np.logical_not, (tx.bool,), ("not",)),
    OpInfo("cast", lambda x, dtype: tx.cast(x, dtype), cast_ref, _cast_samples, ALL,
           ("convert",)),
    # ------------------------------------------------------------ binary arithmetic
    binary("add", tx.add, lowp(np.add), NUMERIC, ("add",)),
    binary("subtract", tx.subtract, lowp(np.subtract), NUMERIC, ("subtract",)),
    binary("multiply", tx.multiply, lowp(np.multiply), NUMERIC, ("multiply",)),
    binary("maximum", tx.maximum, lowp(np.maximum), NUMERIC, ("maximum",),
           samples=_minmax_samples),
    binary("minimum", tx.minimum, lowp(np.minimum), NUMERIC, ("minimum",),
           samples=_minmax_samples),
    binary("squared_difference", tx.squared_difference,
           lowp(lambda x, y: np.square(x - y)), NUMERIC, ("subtract", "multiply")),
    binary("atan2", tx.atan2, lowp(np.arctan2), FLOATS, ("atan2",),
           samples=with_edge(binary_samples(), (0.0, -0.0, 0.0, -0.0, 1.0, INF, NAN),
                             (0.0, 0.0, -0.0, -1.0, INF, INF, 1.0))),
    binary("pow", tx.pow, lowp(c_pow), FLOATS, ("power",),
           samples=with_edge(binary_samples(_pos(0.5, 2.5), _pos(-2, 2)),
                             (0.0, 0.0, -2.0, -2.0, 2.0, INF, NAN, 1.0),
                             (0.0, -1.0, 0.5, 3.0, -INF, 0.0, 0.0, NAN))),
    OpInfo("pow_int", tx.pow, np.power, binary_samples(_pos(-3, 3), _pos(0, 3)), INTS,
           ("power",)),
    binary("truediv", tx.truediv, truediv_ref, FLOATS + INTS, ("convert", "divide"),
           samples=with_edge(binary_samples(None, lambda r, s, d: _nonzero(r, s, d)),
                             (1.0, -1.0, 0.0, INF, 1.0), (0.0, 0.0, 0.0, INF, -0.0))),
    binary("divide", tx.divide, truediv_ref, (tx.float32, tx.int32, tx.int8),
           ("convert", "divide"), samples=binary_samples(None, lambda r, s, d: _nonzero(r, s, d))),
    binary("floordiv", tx.floordiv, lowp(np.floor_divide), FLOATS + INTS, _FLOORDIV_OPS,
           samples=_floordiv_samples, grad=GRAD_ZERO),
    binary("floor_div", tx.floor_div, lowp(np.floor_divide), (tx.float32, tx.int32),
           _FLOORDIV_OPS, samples=_floordiv_samples, grad=GRAD_ZERO),
    binary("floormod", tx.floormod, lowp(np.mod), FLOATS + INTS, _FLOORMOD_OPS,
           samples=_floordiv_samples, grad=_MOD_KINKS),
    binary("mod", tx.mod, lowp(np.mod), (tx.float32, tx.int32), _FLOORMOD_OPS,
           samples=_floordiv_samples, grad=_MOD_KINKS),
    binary("bitwise_and", tx.bitwise_and, np.bitwise_and, INTS, ("and",),
           samples=binary_samples(_pos(-100, 100))),
    binary("bitwise_or", tx.bitwise_or, np.bitwise_or, INTS, ("or",),
           samples=binary_samples(_pos(-100, 100))),
    binary("bitwise_xor", tx.bitwise_xor, np.bitwise_xor, INTS, ("xor",),
           samples=binary_samples(_pos(-100, 100))),
    binary("logical_and", tx.logical_and, np.logical_and, (tx.bool,), ("and",)),
    binary("logical_or", tx.logical_or, np.logical_or, (tx.bool,), ("or",)),
    binary("logical_xor", tx.logical_xor, np.logical_xor, (tx.bool,), ("xor",)),
    # ------------------------------------------------------------ comparisons
    binary("equal", tx.equal, np.equal, ALL, _CMP_OPS, samples=_cmp_samples),
    binary("not_equal", tx.not_equal, np.not_equal, ALL, _CMP_OPS, samples=_cmp_samples),
    binary("less", tx.less, np.less, NUMERIC, _CMP_OPS, samples=_cmp_samples),
    binary("less_equal", tx.less_equal, np.less_equal, NUMERIC, _CMP_OPS, samples=_cmp_samples),
    binary("greater", tx.greater, np.greater, NUMERIC, _CMP_OPS, samples=_cmp_samples),
    binary("greater_equal", tx.greater_equal, np.greater_equal, NUMERIC, _CMP_OPS,
           samples=_cmp_samples),
    # ------------------------------------------------------------ select / clip
    OpInfo("where", tx.where, _where_ref, _where_samples, ALL, ("select",)),
    OpInfo("clip_by_value", tx.clip_by_value, lowp(_clip_ref), _clip_samples, NUMERIC,
           ("maximum", "minimum")),
]

# ---------------------------------------------------------------- Python operators
_ARITH_DT = (tx.float32, tx.bfloat16, tx.int32, tx.uint8)
_nz = binary_samples(None, lambda r, s, d: _nonzero(r, s, d))

ENTRIES += [
    binary("op_add", lambda x, y: x + y, lowp(np.add), _ARITH_DT, ("add",)),
    binary("op_sub", lambda x, y: x - y, lowp(np.subtract), _ARITH_DT, ("subtract",)),
    binary("op_mul", lambda x, y: x * y, lowp(np.multiply), _ARITH_DT, ("multiply",)),
    binary("op_truediv", lambda x, y: x / y, truediv_ref,
           (tx.float32, tx.float16, tx.int32, tx.int8, tx.uint8), ("convert", "divide"),
           samples=_nz),
    binary("op_floordiv", lambda x, y: x // y, lowp(np.floor_divide), _ARITH_DT + (tx.int8,),
           _FLOORDIV_OPS, samples=_floordiv_samples, grad=GRAD_ZERO),
    binary("op_mod", lambda x, y: x % y, lowp(np.mod), _ARITH_DT + (tx.int8,), _FLOORMOD_OPS,
           samples=_floordiv_samples, grad=_MOD_KINKS),
    binary("op_pow", lambda x, y: x**y, lowp(c_pow), (tx.float32,), ("power",),
           samples=binary_samples(_pos(0.5, 2.5), _pos(-2, 2))),
    binary("op_pow_int", lambda x, y: x**y, np.power, (tx.int32, tx.uint8), ("power",),
           samples=binary_samples(_pos(-3, 3), _pos(0, 3))),
    binary("op_lt", lambda x, y: x < y, np.less, _ARITH_DT, _CMP_OPS, samples=_cmp_samples),
    binary("op_le", lambda x, y: x <= y, np.less_equal, _ARITH_DT, _CMP_OPS,
           samples=_cmp_samples),
    binary("op_gt", lambda x, y: x > y, np.greater, _ARITH_DT, _CMP_OPS, samples=_cmp_samples),
    binary("op_ge", lambda x, y: x >= y, np.greater_equal, _ARITH_DT, _CMP_OPS,
           samples=_cmp_samples),
    binary("op_eq", lambda x, y: x == y, np.equal, (*_ARITH_DT, tx.bool), _CMP_OPS,
           samples=_cmp_samples),
    binary("op_ne", lambda x, y: x != y, np.not_equal, (*_ARITH_DT, tx.bool), _CMP_OPS,
           samples=_cmp_samples),
    binary("op_and", lambda x, y: x & y, np.bitwise_and, (tx.bool, tx.int32, tx.uint8),
           ("and",), samples=binary_samples(_pos(-100, 100))),
    binary("op_or", lambda x, y: x | y, np.bitwise_or, (tx.bool, tx.int32, tx.uint8),
           ("or",), samples=binary_samples(_pos(-100, 100))),
    binary("op_xor", lambda x, y: x ^ y, np.bitwise_xor, (tx.bool, tx.int32, tx.uint8),
           ("xor",), samples=binary_samples(_pos(-100, 100))),
    unary("op_neg", lambda x: -x, lowp(np.negative), (tx.float32, tx.bfloat16, tx.int32, tx.int8),
          ("negate",)),
    unary("op_abs", lambda x: abs(x), lowp(np.abs), (tx.float32, tx.float16, tx.int32, tx.uint8),
          ("abs",)),
    unary("op_invert", lambda x: ~x, np.invert, (tx.bool, tx.int32, tx.int8, tx.uint8),
          ("not",), low=-100, high=100),
    unary("op_pos", lambda x: +x, lambda x: x, (tx.float32, tx.int32), ()),
]

# ---------------------------------------------------------------- Python scalars adopt the dtype
# NOTE: numpy >= 2 treats Python scalars as "weak" too, so `x + 1` keeps x's dtype in the
# reference and the harness's exact dtype check tests the adoption rule.
_SCALAR_DT = (tx.float32, tx.float16, tx.bfloat16, tx.float64, tx.int32, tx.int8, tx.uint8,
              tx.int64)


def scalar(name, fn, ref, dtypes, ops, low=-3.0, high=3.0, gen=None, **kw) -> OpInfo:
    def samples(rng, dtype):
        g = gen or (lambda r, s, d: _arg(r, s, d, low, high))
        shapes = [(), (2, 3)] if dtype in PRIMARY else [(2, 3)]
        return [Sample((g(rng, s, dtype),)) for s in shapes]

    return OpInfo(name, fn, lowp(ref), samples, tuple(dtypes), ("constant", *ops), **kw)


ENTRIES += [
    scalar("scalar_add", lambda x: x + 1, lambda x: x + 1, _SCALAR_DT, ("add",)),
    scalar("scalar_radd", lambda x: 1 + x, lambda x: 1 + x, _SCALAR_DT, ("add",)),
    scalar("scalar_rmul", lambda x: 2 * x, lambda x: 2 * x, _SCALAR_DT, ("multiply",)),
    scalar("scalar_rsub_float", lambda x: 1.5 - x, lambda x: 1.5 - x, FLOATS, ("subtract",)),
    scalar("scalar_sub", lambda x: x - 1, lambda x: x - 1, _SCALAR_DT, ("subtract",), low=1),
    scalar("scalar_truediv", lambda x: x / 2, lambda x: truediv_ref(x, np.asarray(2, x.dtype)),
           (tx.float32, tx.int32, tx.int8), ("convert", "divide")),
    scalar("scalar_rtruediv", lambda x: 1 / x, lambda x: 1 / x, (tx.float32, tx.float16),
           ("divide",), gen=lambda r, s, d: _nonzero(r, s, d)),
    scalar("scalar_floordiv", lambda x: x // 2, lambda x: x // 2, (tx.float32, tx.int32),
           _FLOORDIV_OPS, gen=_quarters, grad=GRAD_ZERO),
    scalar("scalar_mod", lambda x: x % -3, lambda x: x % -3, (tx.float32, tx.int32),
           _FLOORMOD_OPS, gen=_quarters, grad=_MOD_KINKS),
    scalar("scalar_pow", lambda x: x**2, lambda x: x**2, (tx.float32, tx.int32, tx.uint8),
           ("power",)),
    scalar("scalar_lt", lambda x: x < 1, lambda x: x < 1, (tx.float32, tx.int32), _CMP_OPS),
    scalar("scalar_req", lambda x: 0 == x, lambda x: x == 0, (tx.float32, tx.int32), _CMP_OPS,
           gen=lambda r, s, d: _discrete(r, s, d)),
    scalar("scalar_and", lambda x: x & 6, lambda x: x & 6, (tx.int32, tx.uint8), ("and",),
           low=0, high=100),
    scalar("scalar_bool_or", lambda x: x | False, lambda x: x | False, (tx.bool,), ("or",)),
]
