"""Op-table entries for creation ops: zeros/ones/fill, *_like, eye, range and linspace."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from compiler.ir.types import DType

from . import ALL, FLOATS, GRAD_ZERO, OpInfo, Sample, make_arg, trim

NUMERIC_NO_U32 = (*FLOATS, tx.int8, tx.int16, tx.int32, tx.int64, tx.uint8)
SHAPES = [(), (0,), (3,), (2, 3), (2, 0, 4), (1, 1, 1)]


def _shape_arg(shape: tuple, i: int):
    """The same shape as a tuple, list, or TensorShape, to exercise conversion."""
    return [tuple(shape), list(shape), tx.TensorShape(shape)][i % 3]


def _shape_samples(rng: np.random.Generator, dt: DType) -> list[Sample]:
    return [Sample((_shape_arg(s, i),), {"dtype": dt}) for i, s in enumerate(SHAPES)]


def _fill_samples(rng, dt):
    return [Sample((np.asarray(make_arg(rng, (), dt)), s)) for s in SHAPES[:4]]


def _like_samples(rng, dt):
    out = [Sample((np.asarray(make_arg(rng, s, dt)),)) for s in SHAPES[:4]]
    out.append(Sample((np.asarray(make_arg(rng, (2, 2), dt)),), {"dtype": tx.int32}))
    return out


def _eye_samples(rng, dt):
    return [
        Sample((3,), {"dtype": dt}),
        Sample((2, 4), {"dtype": dt}),
        Sample((4, 2), {"dtype": dt}),
        Sample((0,), {"dtype": dt}),
        Sample((2, None, [3]), {"dtype": dt}),
        Sample((3, 2, (2, 1)), {"dtype": dt}),
    ]


def _eye_ref(n, m=None, batch_shape=None, dtype=tx.float32):
    e = np.eye(n, m, dtype=dtype.np_dtype)
    return np.broadcast_to(e, (*(batch_shape or ()), *e.shape))


def _range_samples(rng, dt):
    out = [Sample((5,), {"dtype": dt}), Sample((2, 11, 3), {"dtype": dt}),
           Sample((4, 4), {"dtype": dt}), Sample((0, 7, 2), {"dtype": dt})]
    if not dt.is_unsigned:
        out.append(Sample((3, -4, -2), {"dtype": dt}))
    if dt.is_floating:
        out.append(Sample((0.5, 2.75, 0.25), {"dtype": dt}))
    return out


def _range_ref(start, limit=None, delta=1, dtype=None):
    if limit is None:
        start, limit = 0, start
    return np.arange(start, limit, delta).astype(dtype.np_dtype)


def _range_infer_samples(rng, dt):
    # dtype inference as TF: all ints -> int32, any float -> float32
    return [Sample((5,)), Sample((1, 7, 2)), Sample((0, 2, 0.5)), Sample((1.0, 4))]


def _range_infer_ref(*args):
    want = np.float32 if any(isinstance(a, float) for a in args) else np.int32
    start, limit, delta = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
    return np.arange(start, limit, delta).astype(want)


def _linspace_samples(rng, dt):
    def a(shape, lo, hi):
        return np.asarray(make_arg(rng, shape, dt, lo, hi))

    return trim([  # float32 every case; other dtypes num 1, num 0 and two rotated
        Sample((np.asarray(0, dt.np_dtype), np.asarray(1, dt.np_dtype), 5)),
        Sample((a((), -3, -1), a((), 1, 3), 7)),
        Sample((a((), -1, 1), a((), 1, 2), 1)),
        Sample((a((), -1, 1), a((), 1, 2), 0)),
        Sample((a((2,), -2, 0), a((2,), 0, 2), 4)),
        Sample((a((2, 3), -2, 0), a((2, 3), 0, 2), 3), {"axis": -1}),
        Sample((a((2,), -2, 0), a((2,), 0, 2), 4), {"axis": 1}),
    ], dt, keep=(2, 3))


def _linspace_ref(start, stop, num, axis=0):
    out = np.linspace(start.astype(np.float64), stop.astype(np.float64), num, axis=axis)
    return out.astype(start.dtype)


def _linspace_python_samples(rng, dt):
    return [Sample((0, 1, 5)), Sample((-1.5, 2.0, 8)), Sample((2, -2.0, 3))]


def _like(np_fn):
    return lambda x, dtype=None: np_fn(x.shape, dtype.np_dtype if dtype else x.dtype)


ENTRIES = [
    OpInfo("zeros", tx.zeros, lambda s, dtype: np.zeros(tuple(s), dtype.np_dtype),
           _shape_samples, ALL, ("constant", "broadcast_to")),
    OpInfo("ones", tx.ones, lambda s, dtype: np.ones(tuple(s), dtype.np_dtype),
           _shape_samples, ALL, ("constant", "broadcast_to")),
    OpInfo("fill", lambda v, dims: tx.fill(dims, v), lambda v, dims: np.full(dims, v),
           _fill_samples, ALL, ("broadcast_to",)),
    OpInfo("zeros_like", tx.zeros_like, _like(np.zeros), _like_samples, ALL,
           ("constant", "broadcast_like"), grad=GRAD_ZERO),
    OpInfo("ones_like", tx.ones_like, _like(np.ones), _like_samples, ALL,
           ("constant", "broadcast_like"), grad=GRAD_ZERO),
    OpInfo("eye", tx.eye, _eye_ref, _eye_samples, ALL,
           ("iota", "compare", "convert", "broadcast_to")),
    OpInfo("range", tx.range, _range_ref, _range_samples, NUMERIC_NO_U32 + (tx.uint32,),
           ("iota", "multiply", "add")),
    OpInfo("range_infer", tx.range, _range_infer_ref, _range_infer_samples, (tx.int32,),
           ("iota",)),
    OpInfo("linspace", tx.linspace, _linspace_ref, _linspace_samples, FLOATS,
           ("iota", "subtract", "divide", "multiply", "add", "concatenate", "expand_dims"),
           tol={"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}),
    OpInfo("linspace_python", tx.linspace, lambda a, b, n: np.linspace(a, b, n, dtype=np.float32),
           _linspace_python_samples, (tx.float32,), ("iota",)),
]
