"""Op table: gathers, scatters, one_hot and embedding_lookup (tfx_core.ops.indexing_ops).

Indices are fixed int arrays (in range: out-of-range behaviour is tested in
tests/ops/test_indexing.py); data arrays are random in the entry's dtype. The primary dtypes
(float32, int32, bool) get every case, the others two, rotated by dtype.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import tfx_core as tx
from compiler.ir.types import ALL_DTYPES, DType
from tfx_core.ops import indexing_ops as X

from . import ALL, FLOATS, NUMERIC, OpInfo, Sample, make_arg

PRIMARY = (tx.float32, tx.int32, tx.bool)


def _i(*v, dtype=np.int32) -> np.ndarray:
    return np.array(v, dtype)


def _pick(seq: Sequence, dtype: DType, k: int = 2) -> list:
    if dtype in PRIMARY:
        return list(seq)
    i = ALL_DTYPES.index(dtype)
    return [seq[(i + j) % len(seq)] for j in range(min(k, len(seq)))]


def _samples(*specs):
    """Each spec is (data shapes, leading int arrays, trailing args, kwargs): the call is
    fn(*data..., ...) with data arrays placed where the shapes list has a shape, and int arrays
    (or Python values) given as-is elsewhere."""

    def gen(rng: np.random.Generator, dt: DType) -> list[Sample]:
        out = []
        for args, kw in _pick(specs, dt):
            made = tuple(make_arg(rng, a[1], dt, -1, 1) if isinstance(a, tuple) and a
                         and a[0] == "data" else a for a in args)
            out.append(Sample(made, dict(kw)))
        return out

    return gen


def D(*shape) -> tuple:  # noqa: N802
    """A data argument of this shape (in the entry's dtype)."""
    return ("data", shape)


# ---------------------------------------------------------------- references
def _batched(fn, params, indices, bd, **kw):
    if bd == 0:
        return fn(params, indices, **kw)
    bshape = indices.shape[:bd]
    parts = [_batched(fn, params[b], indices[b], 0, **kw) for b in np.ndindex(bshape)]
    return np.stack(parts).reshape(bshape + parts[0].shape)


def _gather_ref(params, indices, validate_indices=None, axis=None, batch_dims=0):
    bd = batch_dims + indices.ndim if batch_dims < 0 else batch_dims
    ax = (bd if axis is None else axis) % params.ndim
    return _batched(lambda p, i: np.take(p, i, axis=ax - bd), params, indices, bd)


def _nd_index(params, indices):
    k = indices.shape[-1]
    if k == 0:
        return np.broadcast_to(params, indices.shape[:-1] + params.shape).copy()
    return params[tuple(np.moveaxis(indices, -1, 0))]


def _gather_nd_ref(params, indices, batch_dims=0):
    return _batched(_nd_index, params, indices, batch_dims)


def _scatter_ref(kind):
    def ref(tensor, indices, updates):
        out = np.array(tensor, copy=True)
        where = tuple(np.moveaxis(indices, -1, 0))
        if kind == "update":
            out[where] = updates
        else:
            {"add": np.add, "sub": np.subtract, "max": np.maximum, "min": np.minimum}[kind].at(
                out, where, updates)
        return out

    return ref


def _scatter_nd_ref(indices, updates, shape):
    return _scatter_ref("add")(np.zeros(shape, updates.dtype), indices, updates)


def _one_hot_ref(indices, depth, on_value=None, off_value=None, axis=None, dtype=None):
    dt = dtype.np_dtype if dtype is not None else np.asarray(
        on_value if on_value is not None else 1.0 if off_value is None else off_value).dtype
    hit = indices[..., None] == np.arange(depth)
    hit = np.moveaxis(hit, -1, indices.ndim if axis in (None, -1) else axis)
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    return np.where(hit, np.asarray(on, dt), np.asarray(off, dt)).astype(dt)


def _embedding_ref(params, ids, max_norm=None):
    out = np.take(params, ids, axis=0)
    if max_norm is None:
        return out
    axes = tuple(range(ids.ndim, out.ndim))
    o64 = out.astype(np.float64)
    n = np.sqrt(np.sum(o64 * o64, axes, keepdims=True))
    return (o64 * max_norm / np.maximum(n, max_norm)).astype(out.dtype)


# ---------------------------------------------------------------- samples
GATHER = _samples(
    ((D(5, 3), _i(0, 4, 2)), {}),
    ((D(5, 3), _i(1, 1, 0, 2), ), {"axis": 1}),
    ((D(4, 5, 3), _i([0, 2], [4, 1])), {"axis": 1}),
    ((D(4, 5, 3), np.int64(2)), {"axis": -1}),  # scalar index drops the axis
    ((D(3, 5, 2), _i([0, 4, 1], [2, 2, 3], [1, 0, 0])), {"batch_dims": 1}),
    ((D(3, 2, 5), _i([0, 4], [3, 3], [1, 0])), {"axis": 2, "batch_dims": -1}),
    ((D(2, 3, 4, 2), _i([[1], [2], [0]], [[3], [0], [1]])), {"axis": 2, "batch_dims": 2}),
    ((D(4, 3), np.zeros((0,), np.int32)), {}),
    ((D(4,), _i([[3, 0], [1, 1]], dtype=np.uint8)), {}),
)

GATHER_ND = _samples(
    ((D(4, 3), _i([0, 1], [3, 2], [2, 0])), {}),
    ((D(4, 3, 2), _i([[1], [3]], [[0], [2]])), {}),  # whole rows: [2, 2, 3, 2]
    ((D(4, 3), _i(2, 1, dtype=np.int64)), {}),  # one element
    ((D(3, 4, 2), _i([[0, 1], [3, 0]], [[2, 1], [1, 1]], [[0, 0], [3, 1]])), {"batch_dims": 1}),
    ((D(2, 3), np.zeros((4, 0), np.int32)), {}),  # empty index vectors: whole tensor
)

SCATTER_ND = _samples(
    ((_i([1], [3], [1]), D(3), [5]), {}),  # a repeated index sums
    ((_i([0, 1], [2, 3]), D(2), (3, 4)), {}),
    ((_i([[0], [2]], [[1], [1]]), D(2, 2, 4), [3, 4]), {}),
    ((_i(1, 2, dtype=np.int64), D(), [2, 3]), {}),
)

UNIQUE = (
    ((D(4, 3), _i([0, 1], [3, 2], [2, 0]), D(3)), {}),
    ((D(4, 3), _i([2], [0]), D(2, 3)), {}),
    ((D(3, 2, 2), _i([[0, 1]], [[2, 0]]), D(2, 1, 2)), {}),
    ((D(5,), _i(4), D()), {}),
)
REPEATED = ((D(4, 3), _i([1], [3], [1]), D(3, 3)), {})  # combined, order-free for add/max/min
TENSOR_SCATTER = _samples(*UNIQUE)
TENSOR_SCATTER_REPEATED = _samples(*UNIQUE, REPEATED)


def _one_hot_samples(rng, dt):
    cases = [
        (_i(0, 2, -1, 3, 1), 3), (_i([1, 0], [2, 2]), 4, None, None, 0),
        (np.array([2, 200], np.uint8), 201), (_i(1, 0), 2, None, None, 1),
    ]
    out = [Sample(c, {"dtype": dt}) for c in _pick(cases, dt)]
    if dt.is_floating:  # on/off values as tensors: their gradients flow
        on, off = make_arg(rng, (), dt), make_arg(rng, (), dt)
        out.append(Sample((_i([2, 0], [1, 5]), 3, on, off)))
    return out


def _embedding_samples(rng, dt):
    out = [Sample((make_arg(rng, (6, 3), dt), _i([5, 0], [2, 2]))),
           Sample((make_arg(rng, (4, 2, 2), dt), _i(3, 1, 0)))]
    if dt.is_floating:
        p = make_arg(rng, (5, 4), dt)
        p[1] *= 0.1  # rows both above and below max_norm
        out.append(Sample((p, _i([1, 3], [0, 4])), {"max_norm": 0.9}))
    return out


INTS_AND_FLOATS = tuple(d for d in NUMERIC if not d.is_unsigned) + (tx.uint8,)
ENTRIES = [
    OpInfo("gather", tx.gather, _gather_ref, GATHER, ALL, ops=("gather",)),
    OpInfo("gather_nd", tx.gather_nd, _gather_nd_ref, GATHER_ND, ALL, ops=("gather",)),
    OpInfo("scatter_nd", tx.scatter_nd, _scatter_nd_ref, SCATTER_ND, NUMERIC, ops=("scatter",),
           tol={"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}),
    OpInfo("tensor_scatter_nd_update", tx.tensor_scatter_nd_update, _scatter_ref("update"),
           TENSOR_SCATTER, ALL, ops=("scatter",)),
    OpInfo("tensor_scatter_nd_add", tx.tensor_scatter_nd_add, _scatter_ref("add"),
           TENSOR_SCATTER_REPEATED, NUMERIC, ops=("scatter",),
           tol={"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}),
    OpInfo("tensor_scatter_nd_sub", tx.tensor_scatter_nd_sub, _scatter_ref("sub"),
           TENSOR_SCATTER_REPEATED, INTS_AND_FLOATS, ops=("scatter",),
           tol={"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}),
    OpInfo("tensor_scatter_nd_max", tx.tensor_scatter_nd_max, _scatter_ref("max"),
           TENSOR_SCATTER_REPEATED, NUMERIC, ops=("scatter",)),
    OpInfo("tensor_scatter_nd_min", tx.tensor_scatter_nd_min, _scatter_ref("min"),
           TENSOR_SCATTER_REPEATED, NUMERIC, ops=("scatter",)),
    OpInfo("one_hot", tx.one_hot, _one_hot_ref, _one_hot_samples, ALL,
           ops=("iota", "compare", "select")),
    OpInfo("nn.embedding_lookup", X.embedding_lookup, _embedding_ref, _embedding_samples,
           (*FLOATS, tx.int32), ops=("gather",)),
]
