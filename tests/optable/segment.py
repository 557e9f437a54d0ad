"""Op table: tf.math segment_{prod,min,max,mean} and unsorted_segment_{prod,min,max,mean,sqrt_n}.

References loop over the rows in Python (independent of the OpDef's np.multiply.at): empty
segments get TF's values (recorded in tests/oracles/array_more.npz and checked there too).
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg


def _wide(x):
    return x.astype(np.float64) if x.dtype.kind == "f" or x.dtype.kind == "V" else x


def _extreme(dtype, lowest: bool):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else ml_dtypes.finfo(dtype)
    return info.min if lowest else info.max


def _fold(kind: str, sorted_ids: bool):
    """A reference: rows grouped by id, reduced with `kind`, TF's value where a group is empty."""
    def ref(data, segment_ids, num_segments=None):
        ids = np.asarray(segment_ids)
        n = int(ids.max()) + 1 if num_segments is None else num_segments
        w = _wide(data)
        inner = data.shape[ids.ndim:]
        groups: list[list] = [[] for _ in range(n)]
        for pos in np.ndindex(ids.shape):
            if 0 <= ids[pos] < n:
                groups[int(ids[pos])].append(w[pos])
        out = np.zeros((n, *inner), w.dtype)
        for s, rows in enumerate(groups):
            if not rows:
                if kind == "prod":
                    out[s] = 1
                elif kind in ("max", "min") and not sorted_ids:
                    out[s] = _extreme(data.dtype, kind == "max")
                continue
            r = np.stack(rows)
            if kind == "prod":
                out[s] = np.prod(r, axis=0)
            elif kind == "max":
                out[s] = r.max(axis=0)
            elif kind == "min":
                out[s] = r.min(axis=0)
            elif kind == "mean" and data.dtype.kind in "iu":
                out[s] = np.trunc(r.sum(axis=0) / len(rows))  # C++ integer division
            elif kind == "mean":
                out[s] = r.sum(axis=0) / len(rows)
            else:  # sqrt_n
                out[s] = r.sum(axis=0) / np.sqrt(len(rows))
        return out.astype(data.dtype)

    return ref


def _unsorted_samples(low, high):
    def fn(rng, dtype):
        def ids(shape, n):
            return rng.integers(-1, n, size=shape).astype(np.int32)

        x = make_arg(rng, (6, 2), dtype, low, high)
        if dtype.is_floating:  # zeros, one and two in a segment: the prod rule's cases
            x[0, 0] = x[3, 1] = x[4, 1] = 0
        return [
            Sample((x, np.array([1, 3, 1, 2, 2, 2], np.int32)), {"num_segments": 4}),
            Sample((make_arg(rng, (2, 3, 2), dtype, low, high), ids((2, 3), 3).astype(np.int64)),
                   {"num_segments": 3}),
        ]

    return fn


def _sorted_samples(low, high):
    def fn(rng, dtype):
        x = make_arg(rng, (6, 2), dtype, low, high)
        if dtype.is_floating:
            x[1, 0] = x[2, 1] = x[3, 1] = 0
        return [Sample((x, [0, 0, 2, 2, 2, 5]), {}),
                Sample((make_arg(rng, (4,), dtype, low, high), [1, 1, 1, 3]), {})]

    return fn


F32_I32 = (tx.float32, tx.int32)
ENTRIES = [
    OpInfo("unsorted_segment_prod", tx.math.unsorted_segment_prod, _fold("prod", False),
           _unsorted_samples(-2, 2), F32_I32,
           ops=("segment_prod",)),
    OpInfo("unsorted_segment_max", tx.math.unsorted_segment_max, _fold("max", False),
           _unsorted_samples(-3, 3), F32_I32, ops=("scatter",)),
    OpInfo("unsorted_segment_min", tx.math.unsorted_segment_min, _fold("min", False),
           _unsorted_samples(-3, 3), F32_I32, ops=("scatter",)),
    OpInfo("unsorted_segment_mean", tx.math.unsorted_segment_mean, _fold("mean", False),
           _unsorted_samples(-3, 3), (tx.float32,), ops=("segment_sum",)),
    OpInfo("unsorted_segment_sqrt_n", tx.math.unsorted_segment_sqrt_n, _fold("sqrt_n", False),
           _unsorted_samples(-3, 3), (tx.float32,), ops=("segment_sum", "sqrt")),
    OpInfo("segment_prod", tx.math.segment_prod, _fold("prod", True), _sorted_samples(-2, 2),
           F32_I32, ops=("segment_prod",)),
    OpInfo("segment_max", tx.math.segment_max, _fold("max", True), _sorted_samples(-3, 3),
           F32_I32, ops=("scatter", "select")),
    OpInfo("segment_min", tx.math.segment_min, _fold("min", True), _sorted_samples(-3, 3),
           F32_I32, ops=("scatter", "select")),
    OpInfo("segment_mean", tx.math.segment_mean, _fold("mean", True), _sorted_samples(-9, 9),
           F32_I32, ops=("segment_sum",)),
]
