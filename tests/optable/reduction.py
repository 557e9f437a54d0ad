"""Op table: reductions (reduce_*, reduce_mean, reduce_logsumexp) and argmax/argmin."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from tests.optable import FLOATS, INTS, NUMERIC, OpInfo, Sample, make_arg, trim

# (shape, axis, keepdims): None / int / negative / list, 0-d and empty tensors.
CASES = [
    ((), None, False),
    ((), [], True),
    ((5,), 0, False),
    ((5,), -1, True),
    ((2, 3), None, True),
    ((2, 3), 1, False),
    ((2, 3), -2, True),
    ((2, 3, 4), [0, 2], False),
    ((2, 3, 4), [-1, 0], True),
    ((2, 3, 4), (1,), False),
    ((0, 3), 0, False),
    ((0, 3), 1, True),
    ((2, 0, 3), None, False),
]
NONEMPTY = [c for c in CASES if 0 not in c[0]]
# Every case for the primary dtypes; the others: 0-d and the empty reductions (the identity
# is per dtype) plus two axis cases rotated by dtype (tests/optable/__init__.py `trim`).
KEEP = (0, 10, 12)


def _samples(cases, low=-3.0, high=3.0):
    keep = KEEP if cases is CASES else (0,)

    def fn(rng, dtype):
        return trim([Sample((make_arg(rng, s, dtype, low, high),), {"axis": a, "keepdims": k})
                     for s, a, k in cases], dtype, keep)

    return fn


def _axes(x, axis):
    if axis is None:
        return tuple(range(x.ndim))
    return tuple(np.atleast_1d(axis).astype(int).tolist()) if np.ndim(axis) else (int(axis),)


def _wide(x):
    return x.astype(np.float64) if x.dtype.kind == "f" or x.dtype.kind == "V" else x


def _np_reduce(ufunc, identity):
    def ref(x, axis=None, keepdims=False):
        w = _wide(x)
        init = identity(x.dtype) if callable(identity) else identity
        kw = {} if init is None else {"initial": init}
        r = ufunc.reduce(w, axis=_axes(x, axis), keepdims=keepdims, dtype=w.dtype, **kw)
        return np.asarray(r).astype(x.dtype)

    return ref


def _lowest(dt):
    return -np.inf if np.dtype(dt).kind in "fV" else np.iinfo(dt).min


def _highest(dt):
    return np.inf if np.dtype(dt).kind in "fV" else np.iinfo(dt).max


def _mean_ref(x, axis=None, keepdims=False):
    axes = _axes(x, axis)
    n = int(np.prod([x.shape[a] for a in axes]))
    if x.dtype.kind in "iu":  # TF: accumulate in int64, truncating division, empty -> 0
        s = np.add.reduce(x.astype(np.int64), axis=axes, keepdims=keepdims)
        q = np.abs(s) // max(n, 1) * np.sign(s)
        return np.asarray(q).astype(x.dtype)
    s = np.add.reduce(_wide(x), axis=axes, keepdims=keepdims)
    return np.asarray(s / n).astype(x.dtype)


def _logsumexp_ref(x, axis=None, keepdims=False):
    w, axes = _wide(x), _axes(x, axis)
    m = np.max(w, axis=axes, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    s = np.sum(np.exp(w - m), axis=axes, keepdims=True)
    r = np.log(s) + m
    return (r if keepdims else np.squeeze(r, axis=axes)).astype(x.dtype)


def _logsumexp_samples(rng, dtype):
    out = _samples(CASES)(rng, dtype)
    x = make_arg(rng, (3, 4), dtype)
    x[0, :] = -np.inf  # a row of -inf gives -inf, not NaN
    x[1, 2] = np.inf
    out.append(Sample((x,), {"axis": 1, "keepdims": False}))
    out.append(Sample((make_arg(rng, (2, 3), dtype, 80, 90),), {"axis": -1, "keepdims": True}))
    return out


def _with_nan(cases):
    def fn(rng, dtype):
        out = _samples(cases)(rng, dtype)
        if not dtype.is_floating:
            return out
        x = make_arg(rng, (3, 4), dtype)
        x[1, 2] = np.nan
        out.append(Sample((x,), {"axis": 1, "keepdims": False}))
        return out

    return fn


def _arg_ref(np_fn):
    def ref(x, axis=None, output_type=tx.int64):
        w = _wide(x)
        return np.asarray(np_fn(w, axis=0 if axis is None else axis)).astype(
            tx.as_dtype(output_type).np_dtype)

    return ref


def _arg_samples(rng, dtype):
    def ties(shape):  # few distinct values: many ties, first index must win
        return rng.integers(0, 3, size=shape).astype(dtype.np_dtype)

    out = trim([
        Sample((ties((5,)),), {}),
        Sample((ties((4, 3)),), {"axis": None}),
        Sample((ties((4, 3)),), {"axis": 1}),
        Sample((ties((2, 3, 4)),), {"axis": -1, "output_type": tx.int32}),
        Sample((make_arg(rng, (2, 5, 3), dtype),), {"axis": 1}),
        Sample((ties((3, 1)),), {"axis": 1}),
    ], dtype, keep=(0, 4), k=1)
    if dtype.is_floating:
        x = make_arg(rng, (3, 4), dtype)
        x[0, 1] = x[0, 3] = np.nan
        x[1, :] = -np.inf
        x[2, 2] = np.inf
        out.append(Sample((x,), {"axis": 1}))
        out.append(Sample((x,), {"axis": 0, "output_type": tx.int32}))
    return out


_F16_SUM_TOL = {"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}

ENTRIES = [
    OpInfo("reduce_sum", tx.reduce_sum, _np_reduce(np.add, None), _samples(CASES), NUMERIC,
           ops=("reduce_sum",), tol=_F16_SUM_TOL),
    OpInfo("reduce_prod", tx.reduce_prod, _np_reduce(np.multiply, None),
           _samples(CASES, -1.5, 1.5), NUMERIC, ops=("reduce_prod",)),
    OpInfo("reduce_max", tx.reduce_max, _np_reduce(np.maximum, _lowest), _with_nan(CASES),
           NUMERIC, ops=("reduce_max",)),
    OpInfo("reduce_min", tx.reduce_min, _np_reduce(np.minimum, _highest), _with_nan(CASES),
           NUMERIC, ops=("reduce_min",)),
    OpInfo("reduce_all", tx.reduce_all, _np_reduce(np.logical_and, None), _samples(CASES),
           (tx.bool,), ops=("reduce_and",)),
    OpInfo("reduce_any", tx.reduce_any, _np_reduce(np.logical_or, None), _samples(CASES),
           (tx.bool,), ops=("reduce_or",)),
    OpInfo("reduce_mean", tx.reduce_mean, _mean_ref, _samples(CASES), FLOATS,
           ops=("reduce_sum", "divide"), tol=_F16_SUM_TOL),
    OpInfo("reduce_mean_int", tx.reduce_mean, _mean_ref, _samples(NONEMPTY, -100, 100), INTS,
           ops=("reduce_sum", "divide", "convert")),
    OpInfo("reduce_logsumexp", tx.reduce_logsumexp, _logsumexp_ref, _logsumexp_samples, FLOATS,
           ops=("reduce_max", "is_finite", "select", "subtract", "exp", "reduce_sum", "log",
                "add"),
           tol={"float16": (5e-3, 5e-3), "bfloat16": (3e-2, 3e-2)}),
    OpInfo("argmax", tx.argmax, _arg_ref(np.argmax), _arg_samples, NUMERIC, ops=("argmax",)),
    OpInfo("argmin", tx.argmin, _arg_ref(np.argmin), _arg_samples, NUMERIC, ops=("argmin",)),
]
