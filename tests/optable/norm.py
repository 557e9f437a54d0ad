"""Op table: tx.nn.moments, batch_normalization, l2_normalize (composites)."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg
from tfx_core.ops.norm_ops import batch_normalization, l2_normalize, moments

_FLOATS = (tx.float32, tx.float64)


def _moments_ref(x, axes, keepdims=False):
    x64 = x.astype(np.float64)
    return (x64.mean(tuple(axes), keepdims=keepdims).astype(x.dtype),
            x64.var(tuple(axes), keepdims=keepdims).astype(x.dtype))


def _moments_samples(rng, dtype):
    return [Sample((make_arg(rng, (4, 5, 3), dtype), [0, 1])),
            Sample((make_arg(rng, (4, 5, 3), dtype), [0, 1]), {"keepdims": True}),
            Sample((make_arg(rng, (6,), dtype), [0])),
            Sample((make_arg(rng, (2, 3), dtype, 100, 101), [1]))]  # large mean: two passes


def _bn_ref(x, mean, variance, offset, scale, variance_epsilon):
    x64 = [a.astype(np.float64) for a in (x, mean, variance, offset, scale)]
    x_, m, v, o, s = x64
    return ((x_ - m) / np.sqrt(v + variance_epsilon) * s + o).astype(x.dtype)


def _bn_samples(rng, dtype):
    return [Sample((make_arg(rng, (4, 3), dtype), make_arg(rng, (3,), dtype),
                    make_arg(rng, (3,), dtype, 0.5, 2), make_arg(rng, (3,), dtype),
                    make_arg(rng, (3,), dtype), 1e-3))]


def _l2_ref(x, axis=None, epsilon=1e-12):
    x64 = x.astype(np.float64)
    ss = (x64 * x64).sum(axis=axis if axis is None else tuple(np.atleast_1d(axis)),
                         keepdims=True)
    return (x64 / np.sqrt(np.maximum(ss, epsilon))).astype(x.dtype)


def _l2_samples(rng, dtype):
    return [Sample((make_arg(rng, (3, 4), dtype),), {"axis": -1}),
            Sample((make_arg(rng, (3, 4), dtype),), {"axis": 0}),
            Sample((make_arg(rng, (5,), dtype),)),
            Sample((np.zeros((2, 2), dtype.np_dtype),), {"axis": 1})]  # epsilon guards 0/0


ENTRIES = [
    OpInfo("nn.moments", moments, _moments_ref, _moments_samples, _FLOATS,
           ops=("reduce_sum", "subtract", "multiply"), tol={"float32": (1e-4, 1e-5)}),
    OpInfo("nn.batch_normalization", batch_normalization, _bn_ref, _bn_samples, _FLOATS,
           ops=("rsqrt", "multiply", "add")),
    OpInfo("nn.l2_normalize", l2_normalize, _l2_ref, _l2_samples, _FLOATS,
           ops=("rsqrt", "maximum", "reduce_sum"), grad="kinks: the all-zero sample sits on "
           "the epsilon clamp"),
]
