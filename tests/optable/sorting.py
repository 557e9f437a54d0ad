"""Op table: cumsum/cumprod, sort/argsort/top_k, segment sums, bincount, reduce_variance/std.

References are written independently of the OpDefs' numpy rules: orderings sort each lane with
Python's stable `sorted`, scans are explicit loops over the axis. Non-primary dtypes get the
empty and special-value samples plus a few rotated by dtype (tests/optable/__init__.py `trim`).
"""
from __future__ import annotations

import itertools

import numpy as np

import tfx_core as tx
from tests.optable import FLOATS, INTS, NUMERIC, OpInfo, Sample, make_arg, trim


def _wide(x):
    return x.astype(np.float64) if x.dtype.kind == "f" or x.dtype.kind == "V" else x


# ---------------------------------------------------------------- cumsum / cumprod
SCAN_CASES = [((5,), 0), ((2, 3), 1), ((2, 3), -2), ((2, 3, 4), 1), ((0, 3), 0), ((3, 0), 1),
              ((1,), 0)]
FLAGS = list(itertools.product([False, True], [False, True]))  # (exclusive, reverse)


def _scan_samples(low, high, every=False):
    def fn(rng, dtype):
        out = []
        for i, (shape, axis) in enumerate(SCAN_CASES):
            exclusive, reverse = FLAGS[i % 4]
            out.append(Sample((make_arg(rng, shape, dtype, low, high),),
                              {"axis": axis, "exclusive": exclusive, "reverse": reverse}))
        # every flag combination on one 2-D case
        x = make_arg(rng, (3, 6), dtype, low, high)
        out += [Sample((x,), {"axis": 1, "exclusive": e, "reverse": r}) for e, r in FLAGS]
        return out if every else trim(out, dtype, keep=(4,), k=3)

    return fn


def _zeros_samples(rng, dtype):
    """cumprod with zeros (one, two apart, two adjacent, first, last, all) in every flag
    combination: the gradient rule must be exact there (no 0/0)."""
    x = make_arg(rng, (6, 5), dtype, -1.5, 1.5)
    x[0, 2] = x[1, 1] = x[1, 3] = x[2, 0] = x[3, 4] = x[4, 2] = x[4, 3] = 0
    x[5, :] = 0
    return [Sample((x,), {"axis": 1, "exclusive": e, "reverse": r}) for e, r in FLAGS]


def _scan_ref(combine, ident):
    def ref(x, axis=0, exclusive=False, reverse=False):
        w = np.moveaxis(_wide(x), axis, -1)
        out = np.empty_like(w)
        n = w.shape[-1]
        order = range(n - 1, -1, -1) if reverse else range(n)
        acc = np.full(w.shape[:-1], ident, w.dtype)
        with np.errstate(all="ignore"):
            for j in order:
                if exclusive:
                    out[..., j] = acc
                    acc = combine(acc, w[..., j])
                else:
                    acc = combine(acc, w[..., j])
                    out[..., j] = acc
        return np.moveaxis(out, -1, axis).astype(x.dtype)

    return ref


_cumsum_ref = _scan_ref(np.add, 0)
_cumprod_ref = _scan_ref(np.multiply, 1)


# ---------------------------------------------------------------- orderings
def _lane_order(lane, descending: bool) -> list[int]:
    """Stable order of one lane; NaN is larger than every number, -0.0 ties 0.0."""
    vals = [float(v) if isinstance(v, (float, np.floating)) else int(v) for v in lane.tolist()]

    def key(i):
        v = vals[i]
        nan = v != v
        if descending:
            return (not nan, 0 if nan else -v)
        return (nan, 0 if nan else v)

    return sorted(range(len(vals)), key=key)


def _order(x, axis, descending):
    w = np.moveaxis(_wide(x), axis, -1)
    idx = np.zeros(w.shape, np.int64)
    for pos in np.ndindex(w.shape[:-1]):
        idx[pos] = _lane_order(w[pos], descending)
    return np.moveaxis(idx, -1, axis)


def _sort_ref(values, axis=-1, direction="ASCENDING"):
    order = _order(values, axis, direction == "DESCENDING")
    return np.take_along_axis(values, order, axis=axis)


def _argsort_ref(values, axis=-1, direction="ASCENDING", stable=False):
    return _order(values, axis, direction == "DESCENDING").astype(np.int32)


def _top_k_ref(input, k=1, sorted=True, index_type=tx.int32):  # noqa: A002
    order = _order(input, -1, True)[..., :k]
    return (np.take_along_axis(input, order, axis=-1),
            order.astype(tx.as_dtype(index_type).np_dtype))


def _specials(dtype, n=8):
    x = np.array([2.0, np.nan, -0.0, 0.0, -np.inf, 1.0, np.inf, 1.0][:n])
    return x.astype(dtype.np_dtype)


def _ties(rng, shape, dtype):
    return rng.integers(-2, 3, size=shape).astype(dtype.np_dtype)


def _sort_samples(rng, dtype):
    out = [Sample((make_arg(rng, (7,), dtype),), {}),
           Sample((make_arg(rng, (3, 5), dtype),), {"axis": 0, "direction": "DESCENDING"}),
           Sample((make_arg(rng, (2, 3, 4), dtype),), {"axis": 1}),
           Sample((_ties(rng, (4, 6), dtype),), {"direction": "DESCENDING"}),
           Sample((make_arg(rng, (3, 0), dtype),), {"axis": 1})]
    out = trim(out, dtype, keep=(0, 4), k=1)
    if dtype.is_floating:
        out += [Sample((_specials(dtype),), {}),
                Sample((_specials(dtype),), {"direction": "DESCENDING"})]
    return out


def _argsort_samples(rng, dtype):
    distinct = rng.permutation(12).reshape(3, 4).astype(dtype.np_dtype)
    out = [Sample((distinct,), {"axis": 1}),  # unstable is fine without ties
           Sample((distinct,), {"axis": 0, "direction": "DESCENDING"}),
           Sample((_ties(rng, (3, 8), dtype),), {"stable": True}),
           Sample((_ties(rng, (8, 3), dtype),), {"axis": 0, "direction": "DESCENDING",
                                                 "stable": True}),
           Sample((_ties(rng, (2, 3, 5), dtype),), {"axis": -1, "stable": True})]
    out = trim(out, dtype, keep=(2,), k=1)
    if dtype.is_floating:
        out += [Sample((_specials(dtype),), {"stable": True}),
                Sample((_specials(dtype),), {"direction": "DESCENDING", "stable": True})]
    return out


def _top_k_samples(rng, dtype):
    out = [Sample((make_arg(rng, (6,), dtype),), {"k": 3}),
           Sample((make_arg(rng, (3, 5), dtype),), {"k": 5}),
           Sample((make_arg(rng, (2, 2, 6), dtype),), {"k": 1, "index_type": tx.int64}),
           Sample((_ties(rng, (4, 7), dtype),), {"k": 4}),  # ties: the lower index first
           Sample((make_arg(rng, (2, 4), dtype),), {"k": 0})]
    out = trim(out, dtype, keep=(3, 4), k=1)
    if dtype.is_floating:
        out.append(Sample((_specials(dtype),), {"k": 4}))
    return out


# ---------------------------------------------------------------- segments, bincount
def _segment_ref(data, segment_ids, num_segments):
    w = _wide(data)
    inner = data.shape[segment_ids.ndim:]
    out = np.zeros((num_segments, *inner), w.dtype)
    with np.errstate(all="ignore"):
        for pos in np.ndindex(segment_ids.shape):
            s = int(segment_ids[pos])
            if 0 <= s < num_segments:
                out[s] = out[s] + w[pos]
    return out.astype(data.dtype)


def _segment_samples(rng, dtype):
    def ids(shape, n, lo=0):
        return rng.integers(lo, n, size=shape).astype(np.int32)

    return trim([
        Sample((make_arg(rng, (6,), dtype), ids((6,), 3)), {"num_segments": 3}),
        Sample((make_arg(rng, (5, 3), dtype), ids((5,), 7, -2)), {"num_segments": 4}),
        Sample((make_arg(rng, (2, 3, 2), dtype), ids((2, 3), 5).astype(np.int64)),
               {"num_segments": 5}),
        Sample((make_arg(rng, (4,), dtype), np.array([1, 1, 1, 1], np.int32)),
               {"num_segments": 2}),
        Sample((make_arg(rng, (3,), dtype), ids((3,), 2)), {"num_segments": 0}),
        Sample((make_arg(rng, (0, 2), dtype), ids((0,), 2)), {"num_segments": 2}),
    ], dtype, keep=(1, 5), k=1)


def _sorted_segment_sum(data, segment_ids):
    """tf.math.segment_sum with ids known at trace time (a Python list)."""
    return tx.math.segment_sum(data, segment_ids)


def _sorted_segment_ref(data, segment_ids):
    ids = np.asarray(segment_ids)
    return _segment_ref(data, ids, int(ids.max()) + 1)


def _sorted_segment_samples(rng, dtype):
    return [Sample((make_arg(rng, (5, 2), dtype), [0, 0, 1, 3, 3]), {}),
            Sample((make_arg(rng, (4,), dtype), [0, 1, 2, 2]), {})]


def _bincount_ref(arr, weights=None, minlength=None, maxlength=None, dtype=tx.int32, axis=None,
                  binary_output=False):
    a = np.asarray(arr)
    hi = max(int(a.max()) + 1 if a.size else 0, minlength or 0)
    n = hi if maxlength is None else min(hi, maxlength)
    w = np.ones(a.shape) if weights is None else _wide(weights)
    out_dt = tx.as_dtype(dtype).np_dtype if weights is None else weights.dtype
    if axis == -1:
        rows = [_bincount_ref(r, None if weights is None else weights[i], n, n, dtype, None,
                              binary_output) for i, r in enumerate(a)]
        return np.stack(rows).astype(out_dt)
    out = np.zeros(n, w.dtype)
    for v, wv in zip(a.reshape(-1), w.reshape(-1)):
        if 0 <= v < n:
            out[v] += wv
    if binary_output:
        out = np.minimum(out, 1)
    return out.astype(out_dt)


def _bincount_samples(rng, dtype):
    def arr(shape, hi=6):
        return rng.integers(-1, hi, size=shape).astype(np.int32)

    return [
        Sample((arr((10,)),), {"minlength": 5, "maxlength": 5}),
        Sample((arr((3, 4)),), {"minlength": 8, "maxlength": 8, "dtype": tx.float32}),
        Sample((arr((3, 5)),), {"minlength": 4, "maxlength": 4, "axis": -1}),
        Sample((arr((9,)),), {"minlength": 6, "maxlength": 6, "binary_output": True}),
        Sample(([1, 1, 4, 2],), {"minlength": 3}),  # a static arr: length from its values
        Sample(([0, 7, 7],), {"maxlength": 5}),
    ]


def _weighted_bincount_samples(rng, dtype):
    a = rng.integers(0, 5, size=(8,)).astype(np.int32)
    b = rng.integers(-1, 4, size=(2, 6)).astype(np.int32)
    return [
        Sample((a, make_arg(rng, (8,), dtype)), {"minlength": 5, "maxlength": 5}),
        Sample((b, make_arg(rng, (2, 6), dtype)), {"minlength": 3, "maxlength": 3, "axis": -1}),
    ]


def _weighted_bincount(arr, weights, **kw):
    return tx.math.bincount(arr, weights, **kw)


def _weighted_bincount_ref(arr, weights, **kw):
    return _bincount_ref(arr, weights, **kw)


# ---------------------------------------------------------------- moments
MOMENT_CASES = [((5,), None, False), ((2, 3), 1, True), ((2, 3), -2, False),
                ((2, 3, 4), [0, 2], False), ((3, 4), None, True)]


def _moment_samples(rng, dtype):
    return trim([Sample((make_arg(rng, s, dtype),), {"axis": a, "keepdims": k})
                 for s, a, k in MOMENT_CASES], dtype)


def _axes(x, axis):
    return tuple(range(x.ndim)) if axis is None else tuple(np.atleast_1d(axis).tolist())


def _var_ref(input_tensor, axis=None, keepdims=False):
    w = _wide(input_tensor)
    return np.var(w, axis=_axes(w, axis), keepdims=keepdims).astype(input_tensor.dtype)


def _std_ref(input_tensor, axis=None, keepdims=False):
    w = _wide(input_tensor)
    return np.std(w, axis=_axes(w, axis), keepdims=keepdims).astype(input_tensor.dtype)


_ACC_TOL = {"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}
_TIES = "kinks: tied values (sort is not differentiable where two inputs are equal)"

ENTRIES = [
    OpInfo("cumsum", tx.math.cumsum, _cumsum_ref, _scan_samples(-3, 3), NUMERIC,
           ops=("cumsum",), tol=_ACC_TOL),
    OpInfo("cumprod", tx.math.cumprod, _cumprod_ref, _scan_samples(-1.5, 1.5),
           (*FLOATS, tx.int32, tx.int64), ops=("cumprod",), tol=_ACC_TOL),
    OpInfo("cumprod_zeros", tx.math.cumprod, _cumprod_ref, _zeros_samples,
           (tx.float32, tx.float64), ops=("cumprod",)),
    OpInfo("cumprod_int_wraps", tx.math.cumprod, _cumprod_ref, _scan_samples(-4, 4, True),
           (tx.int8, tx.uint8), ops=("cumprod",)),
    OpInfo("sort", tx.sort, _sort_ref, _sort_samples, NUMERIC, ops=("sort",), grad=_TIES),
    OpInfo("argsort", tx.argsort, _argsort_ref, _argsort_samples, NUMERIC,
           ops=("sort", "iota")),
    OpInfo("top_k", tx.math.top_k, _top_k_ref, _top_k_samples, NUMERIC,
           ops=("top_k_indices", "gather"), grad=_TIES),
    OpInfo("unsorted_segment_sum", tx.math.unsorted_segment_sum, _segment_ref,
           _segment_samples, NUMERIC, ops=("segment_sum",), tol=_ACC_TOL),
    OpInfo("segment_sum", _sorted_segment_sum, _sorted_segment_ref, _sorted_segment_samples,
           (tx.float32, tx.float64, tx.int32), ops=("segment_sum",)),
    OpInfo("bincount", tx.math.bincount, _bincount_ref, _bincount_samples, (tx.int32,),
           ops=("segment_sum", "reshape")),
    OpInfo("bincount_weights", _weighted_bincount, _weighted_bincount_ref,
           _weighted_bincount_samples, (*FLOATS, *INTS), ops=("segment_sum",), tol=_ACC_TOL),
    OpInfo("reduce_variance", tx.math.reduce_variance, _var_ref, _moment_samples, FLOATS,
           ops=("reduce_sum", "subtract", "multiply", "divide"), tol=_ACC_TOL),
    OpInfo("reduce_std", tx.math.reduce_std, _std_ref, _moment_samples, FLOATS,
           ops=("reduce_sum", "subtract", "multiply", "divide", "sqrt"), tol=_ACC_TOL),
]
