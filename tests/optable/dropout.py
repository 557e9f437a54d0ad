"""Op table: tx.nn.stateless_dropout, against numpy drawing the same threefry bits."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from tests.optable import FLOATS, OpInfo, Sample, make_arg, trim
from tests.optable.random_ops import _uniform_ref


def _dropout_ref(x, rate, seed, noise_shape=None):
    dt = tx.as_dtype(x.dtype)
    u = _uniform_ref(x.shape if noise_shape is None else noise_shape, seed, dtype=dt)
    keep = u >= np.asarray(rate, x.dtype)
    scaled = x * x.dtype.type(1.0 / (1.0 - rate))
    return np.where(keep, scaled, np.zeros_like(x)).astype(x.dtype)


def _dropout_samples(rng, dtype):
    seed = np.array([3, 4], np.int32)
    # float32 every sample; other dtypes noise_shape, the specials and one rotated (`trim`)
    return trim([Sample((make_arg(rng, (4, 6), dtype), 0.5, seed)),
            Sample((make_arg(rng, (3, 5, 2), dtype), 0.2, np.array([9, -1], np.int64))),
            Sample((make_arg(rng, (4, 6), dtype), 0.75, seed), {"noise_shape": (4, 1)}),
            Sample((make_arg(rng, (5,), dtype), 0.0, seed)),  # rate 0: x itself
            Sample((np.array([np.nan, np.inf, -np.inf, 1.0] * 4, dtype.np_dtype), 0.5, seed))],
                dtype, keep=(2, 4), k=1)


ENTRIES = [
    OpInfo("nn.stateless_dropout", tx.nn.stateless_dropout, _dropout_ref, _dropout_samples,
           FLOATS, ops=("rng_bit_generator", "compare", "select")),
]
