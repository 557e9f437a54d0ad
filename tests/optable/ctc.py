"""Op table: tf.nn.ctc_unique_labels vs a per-row numpy reference (first-appearance order,
zero padding, int32 indices: TF 2.21's answers for the samples below)."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from tests.optable import GRAD_ZERO, OpInfo, Sample


def _ref(labels):
    uniq = np.zeros_like(labels)
    idx = np.zeros(labels.shape, np.int32)
    for r, row in enumerate(labels):
        seen: list = []
        for j, v in enumerate(row):
            if v not in seen:
                seen.append(v)
            idx[r, j] = seen.index(v)
        uniq[r, :len(seen)] = seen
    return uniq, idx


def _samples(rng, dtype):
    fixed = np.array([[3, 4, 4, 3, 0], [1, 1, 1, 1, 1], [0, 2, 0, 5, 2]])
    return [Sample((fixed.astype(dtype.np_dtype),)),
            Sample((rng.integers(0, 4, (2, 7)).astype(dtype.np_dtype),)),
            Sample((np.zeros((0, 3), dtype.np_dtype),))]


ENTRIES = [
    OpInfo("nn.ctc_unique_labels", lambda x: tuple(tx.nn.ctc_unique_labels(x)), _ref, _samples,
           (tx.int32, tx.int64), ops=("compare", "cumsum", "argmax"), grad=GRAD_ZERO),
]
