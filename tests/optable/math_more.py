"""Op-table entries for tf.math's nan-safe arithmetic, truncated integer division, rint,
log_sigmoid, add_n and the composite reductions, rankings and checks (numpy references)."""
from __future__ import annotations

import numpy as np

import tfx_core as tx

from . import GRAD_ZERO, OpInfo, Sample

F32_64 = (tx.float32, tx.float64)
INTS = (tx.int32, tx.int64)


def _f(rng, shape, dtype, lo=-3.0, hi=3.0):
    return np.asarray(rng.uniform(lo, hi, size=shape)).astype(dtype.np_dtype)


def _with_zeros(a, every=3):
    """Every `every`-th element set to 0 (the nan-safe ops' special case)."""
    a = a.copy()
    a.reshape(-1)[::every] = 0
    return a


# ---------------------------------------------------------------- nan-safe arithmetic
def _nan_safe(which: int, lo_y=0.2, hi_y=3.0):
    """x and y samples; exact zeros in the operand `which` only in float64 samples (float32
    ones drive the gradient test, and TF's gradient there is not the derivative: see
    tests/ops/test_special_oracle.py for those values)."""

    def samples(rng, dtype):
        out = []
        for sx, sy in [((2, 3), (2, 3)), ((3,), (2, 1)), ((0, 3), (3,))][
                : 3 if dtype is tx.float32 else 1]:
            x, y = _f(rng, sx, dtype, 0.3, 3.0), _f(rng, sy, dtype, lo_y, hi_y)
            out.append(Sample((x, y)))
        if dtype is tx.float64:
            x, y = _f(rng, (9,), dtype, 0.3, 3.0), _f(rng, (9,), dtype, lo_y, hi_y)
            x, y = (_with_zeros(x), y) if which == 0 else (x, _with_zeros(y))
            if which == 0:
                y[0] = np.nan  # x == 0 wins over NaN
            else:
                x[0] = np.nan
            out.append(Sample((x, y)))
        return out

    return samples


def _zero_where(which, fn):
    def ref(x, y):
        with np.errstate(all="ignore"):
            return np.where((x, y)[which] == 0, 0.0, fn(x, y)).astype(x.dtype)

    return ref


# ---------------------------------------------------------------- integer division
def _divisors(rng, shape, dtype):
    mag = rng.integers(1, 5, size=shape)
    sign = np.where(rng.random(shape) < 0.5, -1, 1) if not dtype.is_unsigned else 1
    return (mag * sign).astype(dtype.np_dtype)


def _div_samples(rng, dtype):
    if dtype.is_floating:
        return [Sample((_f(rng, (2, 3), dtype, -8, 8), _f(rng, (2, 3), dtype, 0.5, 3) *
                        np.where(rng.random((2, 3)) < 0.5, -1, 1).astype(dtype.np_dtype)))]
    x = rng.integers(-9, 10, size=(2, 4)).astype(dtype.np_dtype)
    return [Sample((x, _divisors(rng, (2, 4), dtype))), Sample((x, _divisors(rng, (4,), dtype)))]


def _trunc_div(x, y):
    if x.dtype.kind == "f":
        return np.trunc(x / y).astype(x.dtype)
    return (np.sign(x) * np.sign(y) * (np.abs(x) // np.abs(y))).astype(x.dtype)


# ---------------------------------------------------------------- scans and reductions
def _logcumsumexp(x, axis=0, exclusive=False, reverse=False):
    a = np.moveaxis(x.astype(np.float64), axis, -1)
    if reverse:
        a = a[..., ::-1]
    out = np.logaddexp.accumulate(a, axis=-1)
    if exclusive:
        out = np.concatenate([np.full(out.shape[:-1] + (1,), -np.inf), out[..., :-1]], -1)
    if reverse:
        out = out[..., ::-1]
    return np.moveaxis(out, -1, axis).astype(x.dtype)


def _in_top_k_ref(targets, predictions, k):
    rows = np.arange(len(targets))
    valid = (targets >= 0) & (targets < predictions.shape[1])
    safe = np.where(valid, targets, 0)
    above = (predictions > predictions[rows, safe][:, None]).sum(1)
    return valid & np.isfinite(predictions).all(1) & (above < k)


def _in_top_k_samples(rng, dtype):
    p = rng.integers(0, 4, size=(5, 6)).astype(np.float32)  # ties
    p[4, 2] = np.nan
    t = np.array([0, 1, 5, 3, 2], dtype.np_dtype)
    return [Sample((t, p, 2)), Sample((t, p, 4))]


def _confusion_ref(labels, predictions, num_classes=None):
    n = num_classes or int(max(labels.max(), predictions.max())) + 1
    out = np.zeros((n, n), np.int32)
    np.add.at(out, (labels, predictions), 1)
    return out


def _confusion_samples(rng, dtype):
    lab = rng.integers(0, 4, size=10).astype(dtype.np_dtype)
    pred = rng.integers(0, 4, size=10).astype(dtype.np_dtype)
    return [Sample((lab, pred), {"num_classes": 5})]


def _perm_samples(rng, dtype):
    return [Sample((rng.permutation(7).astype(dtype.np_dtype),)),
            Sample((np.zeros((0,), dtype.np_dtype),))]


def _k_samples(rng, dtype):
    x = rng.permutation(24).reshape(4, 6).astype(dtype.np_dtype)  # no ties
    return [Sample((x, 3)), Sample((x, 2), {"reduction_dimension": 0})]


def _max_k_ref(x, k, reduction_dimension=-1):
    a = np.moveaxis(x, reduction_dimension, -1)
    idx = np.argsort(-a, axis=-1, kind="stable")[..., :k]
    vals = np.take_along_axis(a, idx, -1)
    return (np.moveaxis(vals, -1, reduction_dimension),
            np.moveaxis(idx, -1, reduction_dimension).astype(np.int32))


def _min_k_ref(x, k, reduction_dimension=-1):
    a = np.moveaxis(x, reduction_dimension, -1)
    idx = np.argsort(a, axis=-1, kind="stable")[..., :k]
    vals = np.take_along_axis(a, idx, -1)
    return (np.moveaxis(vals, -1, reduction_dimension),
            np.moveaxis(idx, -1, reduction_dimension).astype(np.int32))


def _monotone_samples(rng, dtype):
    inc = np.cumsum(rng.integers(0, 3, size=(2, 4)), axis=None).reshape(2, 4)
    return [Sample((inc.astype(dtype.np_dtype),)),
            Sample((np.arange(6).astype(dtype.np_dtype),)),
            Sample((np.array([3, 1, 2]).astype(dtype.np_dtype),)),
            Sample((np.zeros((1,), dtype.np_dtype),))]


def _three(rng, dtype):
    shape = (2, 3) if dtype is tx.float32 else ()
    return [Sample(tuple(_f(rng, shape, dtype) for _ in range(3)))]


ENTRIES = [
    OpInfo("xlogy", tx.math.xlogy, _zero_where(0, lambda x, y: x * np.log(y)), _nan_safe(0),
           F32_64, ("xlogy",)),
    OpInfo("xlog1py", tx.math.xlog1py, _zero_where(0, lambda x, y: x * np.log1p(y)),
           _nan_safe(0, -0.8, 3.0), F32_64, ("xlog1py",)),
    OpInfo("xdivy", tx.math.xdivy, _zero_where(0, np.divide), _nan_safe(0), F32_64, ("xdivy",)),
    OpInfo("divide_no_nan", tx.math.divide_no_nan, _zero_where(1, np.divide), _nan_safe(1),
           F32_64, ("div_no_nan",)),
    OpInfo("multiply_no_nan", tx.math.multiply_no_nan, _zero_where(1, np.multiply),
           _nan_safe(1, -3.0, 3.0), F32_64, ("mul_no_nan",)),
    OpInfo("reciprocal_no_nan", tx.math.reciprocal_no_nan,
           lambda x: np.where(x == 0, 0, 1 / np.where(x == 0, 1, x)).astype(x.dtype),
           lambda rng, dt: [Sample((_f(rng, (2, 3), dt, 0.5, 3),)),
                            Sample((np.array([0.0, -2.0, 4.0], dt.np_dtype),))][
               : 1 if dt is tx.float32 else 2], F32_64, ("div_no_nan",)),
    OpInfo("truncatediv", tx.truncatediv, _trunc_div, _div_samples, (*INTS, tx.float32),
           ("divide", "floor", "ceil"), grad=GRAD_ZERO),
    OpInfo("truncatemod", tx.truncatemod, lambda x, y: np.fmod(x, y).astype(x.dtype),
           _div_samples, (*INTS, tx.float32), ("remainder",), grad="kinks: fmod's jumps"),
    OpInfo("realdiv", tx.realdiv, np.divide, _div_samples, (tx.float32,), ("divide",)),
    OpInfo("rint", tx.math.rint, np.rint,
           lambda rng, dt: [Sample((np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.3, -7.7],
                                             dt.np_dtype),))], F32_64, ("round_nearest_even",),
           grad=GRAD_ZERO),
    OpInfo("log_sigmoid", tx.math.log_sigmoid,
           lambda x: (-np.logaddexp(0, -x.astype(np.float64))).astype(x.dtype),
           lambda rng, dt: [Sample((_f(rng, (2, 3), dt, -8, 8),)),
                            Sample((np.array([-120.0, 0.0, 60.0], dt.np_dtype),))],
           F32_64, ("log1p", "exp")),
    OpInfo("add_n", lambda a, b, c: tx.math.add_n([a, b, c]), lambda a, b, c: a + b + c,
           _three, (tx.float32, tx.int32), ("add",)),
    OpInfo("accumulate_n", lambda a, b, c: tx.math.accumulate_n([a, b, c]),
           lambda a, b, c: a + b + c, _three, (tx.float32,), ("add",)),
    OpInfo("count_nonzero", tx.math.count_nonzero,
           lambda x, axis=None: np.asarray(np.count_nonzero(x, axis=axis)).astype(np.int64),
           lambda rng, dt: [Sample((_with_zeros(_f(rng, (3, 4), dt), 2),)),
                            Sample((_with_zeros(_f(rng, (3, 4), dt), 2), 1))],
           (tx.float32, tx.int32), ("compare", "reduce_sum")),
    OpInfo("reduce_euclidean_norm", tx.math.reduce_euclidean_norm,
           lambda x, axis=None: np.sqrt(np.sum(x.astype(np.float64) ** 2, axis=axis)).astype(
               x.dtype),
           lambda rng, dt: [Sample((_f(rng, (3, 4), dt),)), Sample((_f(rng, (3, 4), dt), 1)),
                            Sample((np.zeros((2, 0), dt.np_dtype), 1))],
           (tx.float32, tx.int32), ("reduce_sum", "sqrt")),
    OpInfo("cumulative_logsumexp", tx.math.cumulative_logsumexp, _logcumsumexp,
           lambda rng, dt: [Sample((_f(rng, (3, 4), dt, -5, 5),), {"axis": 1}),
                            Sample((_f(rng, (3, 4), dt, -5, 5),), {"axis": 0, "reverse": True}),
                            Sample((_f(rng, (5,), dt, -5, 5),),
                                   {"exclusive": True, "reverse": True})],
           F32_64, ("cumlogsumexp",)),
    OpInfo("in_top_k", tx.math.in_top_k, _in_top_k_ref, _in_top_k_samples, INTS,
           ("compare", "reduce_and")),
    OpInfo("confusion_matrix", tx.math.confusion_matrix, _confusion_ref, _confusion_samples,
           INTS, ("segment_sum",)),
    OpInfo("invert_permutation", tx.math.invert_permutation,
           lambda p: np.argsort(p).astype(p.dtype), _perm_samples, INTS, ("segment_sum",)),
    OpInfo("polyval", lambda c0, c1, c2, x: tx.math.polyval([c0, c1, c2], x),
           lambda c0, c1, c2, x: (c0 * x + c1) * x + c2,
           lambda rng, dt: [Sample((*(_f(rng, (), dt) for _ in range(3)), _f(rng, (2, 3), dt)))],
           (tx.float32,), ("multiply", "add")),
    OpInfo("is_non_decreasing", tx.math.is_non_decreasing,
           lambda x: np.asarray(np.all(np.diff(x.reshape(-1)) >= 0)), _monotone_samples,
           (tx.float32, tx.int32), ("compare", "reduce_and")),
    OpInfo("is_strictly_increasing", tx.math.is_strictly_increasing,
           lambda x: np.asarray(np.all(np.diff(x.reshape(-1)) > 0)), _monotone_samples,
           (tx.float32, tx.int32), ("compare", "reduce_and")),
    OpInfo("approx_max_k", tx.math.approx_max_k, _max_k_ref, _k_samples, (tx.float32, tx.int32),
           ("top_k_indices", "transpose")),
    OpInfo("approx_min_k", tx.math.approx_min_k, _min_k_ref, _k_samples, (tx.float32, tx.int32),
           ("sort", "transpose")),
    OpInfo("approx_top_k", lambda x, k, **kw: tx.approx_top_k(x, k, is_max_k=False, **kw),
           _min_k_ref, _k_samples, (tx.float32,), ("sort", "transpose")),
]
