"""The tf.strided_slice specs whose answers tests/oracles/record_strided_slice.py records."""
from __future__ import annotations

import numpy as np

X = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
N_SPECS = 40


def random_spec(rng):
    n = int(rng.integers(1, 4))
    begin, end, strides, shrink = [], [], [], 0
    ellipsis = (1 << int(rng.integers(0, n))) if rng.random() < 0.3 else 0
    new_axis = int(rng.integers(0, 1 << n)) & ~ellipsis if rng.random() < 0.3 else 0
    axis = 0
    for k in range(n):
        d = X.shape[min(axis, 2)]
        begin.append(int(rng.integers(-d, d)))
        end.append(int(rng.integers(-d, d + 1)))
        strides.append(int(rng.choice([-2, -1, 1, 2, 3])))
        if not (ellipsis | new_axis) & (1 << k):
            if rng.random() < 0.25:
                shrink |= 1 << k
            axis += 1
    return (begin, end, strides, int(rng.integers(0, 1 << n)), int(rng.integers(0, 1 << n)),
            ellipsis, new_axis, shrink)


def spec(seed: int) -> tuple:
    return random_spec(np.random.default_rng(seed))
