"""Op table: stateless random ops, against numpy that reproduces the same bits.

The bits come from `compiler.ops.random.rng_bits`, a numpy threefry that tests/test_random.py
checks bit for bit against XLA's rng_bit_generator; the transforms (mantissa trick,
Box-Muller, inverse CDF) are recomputed here in float64, so the table checks every step after
the bits. Statistical properties, Generators and the global seed are in tests/test_random.py.
float32 gets every shape; the other dtypes 0-d, empty, the 3-d shape and one rotated (`trim`).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

import tfx_core as tx
from compiler.ir.types import I64, U32
from compiler.ops.random import rng_bits
from tests.optable import FLOATS, OpInfo, Sample, trim

_MANTISSA = {"float16": 10, "bfloat16": 7, "float32": 23, "float64": 52}


def _state(seed):
    return rng_bits(np.asarray(seed, np.int64), (2,), I64)[1]


def _unit(state, shape, dtype, centered=False):
    """(new state, uniform grid values in float64) as the op draws them."""
    m = _MANTISSA[tx.as_dtype(dtype).name]
    state, bits = rng_bits(state, shape, I64 if m > 32 else U32)
    k = (bits & np.array(2**m - 1, bits.dtype)).astype(np.float64)
    return state, (k + (0.5 if centered else 0.0)) * 2.0**-m


def _np(dtype):
    return tx.as_dtype(dtype).np_dtype


def _work(dtype):
    return "float64" if tx.as_dtype(dtype).name == "float64" else "float32"


def _uniform_ref(shape, seed, minval=0, maxval=None, dtype=tx.float32):
    dt = tx.as_dtype(dtype)
    st = _state(seed)
    if dt.is_floating:
        _, u = _unit(st, tuple(shape), dt)
        lo, hi = (0.0 if minval is None else minval), (1.0 if maxval is None else maxval)
        return (u.astype(_np(dt)) * (_np(dt).type(hi) - _np(dt).type(lo))
                + _np(dt).type(lo)).astype(_np(dt))
    if minval is None:
        _, bits = rng_bits(st, tuple(shape), U32 if dt.name == "uint32" else I64)
        return bits.astype(_np(dt))
    _, bits = rng_bits(st, tuple(shape), I64)
    span = np.int64(maxval) - np.int64(minval)
    r = np.fmod(bits, span)  # truncated remainder (XLA's), folded to [0, span)
    r = np.where(r < 0, r + span, r)
    return (r + np.int64(minval)).astype(_np(dt))


def _normal_ref(shape, seed, mean=0.0, stddev=1.0, dtype=tx.float32):
    st = _state(seed)
    st, u1 = _unit(st, tuple(shape), _work(dtype))
    _, u2 = _unit(st, tuple(shape), _work(dtype))
    z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
    return (z * stddev + mean).astype(_np(dtype))


def _truncated_ref(shape, seed, mean=0.0, stddev=1.0, dtype=tx.float32):
    _, u = _unit(_state(seed), tuple(shape), _work(dtype), centered=True)
    z = math.sqrt(2) * special.erfinv((2 * u - 1) * math.erf(math.sqrt(2)))
    return (np.clip(z, -2, 2) * stddev + mean).astype(_np(dtype))


SHAPES = [(), (1,), (5,), (2, 3), (3, 5), (4, 0), (2, 3, 7)]
SEEDS = [np.array([1, 2], np.int32), np.array([0, 0], np.int64), np.array([-7, 2**40], np.int64)]


def _float_samples(**kw):
    def fn(rng, dtype):
        out = [Sample((s, SEEDS[i % 3]), {"dtype": dtype, **kw}) for i, s in enumerate(SHAPES)]
        out.append(Sample(((4, 6), [3, 4]), {"dtype": dtype, **kw}))  # a Python list seed
        return trim(out, dtype, keep=(0, 5, 6), k=1)

    return fn


def _int_samples(rng, dtype):
    return [
        Sample(((50,), SEEDS[0]), {"minval": -3, "maxval": 4, "dtype": tx.int32}),
        Sample(((4, 5), SEEDS[1]), {"minval": 10, "maxval": 11, "dtype": tx.int64}),
        Sample(((6,), SEEDS[2]), {"minval": -(2**31), "maxval": 2**31 - 1, "dtype": tx.int32}),
        Sample(((3, 3), SEEDS[0]), {"minval": None, "maxval": None, "dtype": tx.int32}),
        Sample(((5,), SEEDS[1]), {"minval": None, "maxval": None, "dtype": tx.int64}),
        Sample(((5,), SEEDS[2]), {"minval": None, "maxval": None, "dtype": tx.uint32}),
    ]


# Normal/truncated: only the transcendental functions (XLA's vs numpy's float64) differ.
_TRANSCENDENTAL_TOL = {"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-10)}
_NOT_DIFF = "random numbers: not differentiable (only int seeds and shapes)"

ENTRIES = [
    OpInfo("stateless_uniform", tx.random.stateless_uniform, _uniform_ref,
           _float_samples(minval=-2.0, maxval=3.0), FLOATS,
           ops=("rng_bit_generator", "and", "convert", "multiply", "add"), grad=_NOT_DIFF),
    OpInfo("stateless_uniform_unit", tx.random.stateless_uniform, _uniform_ref,
           _float_samples(), (tx.float32, tx.float64), ops=("rng_bit_generator",),
           grad=_NOT_DIFF),
    OpInfo("stateless_uniform_int", tx.random.stateless_uniform, _uniform_ref, _int_samples,
           (tx.int32,), ops=("rng_bit_generator", "remainder", "select"), grad=_NOT_DIFF),
    OpInfo("stateless_normal", tx.random.stateless_normal, _normal_ref,
           _float_samples(mean=0.5, stddev=2.0), FLOATS,
           ops=("rng_bit_generator", "log", "sqrt", "cos"), tol=_TRANSCENDENTAL_TOL,
           grad=_NOT_DIFF),
    OpInfo("stateless_truncated_normal", tx.random.stateless_truncated_normal, _truncated_ref,
           _float_samples(mean=-1.0, stddev=0.5), FLOATS,
           ops=("rng_bit_generator", "log", "maximum", "minimum"),
           tol={"float32": (2e-5, 2e-6), "float64": (1e-10, 1e-12)}, grad=_NOT_DIFF),
]
