"""`tx.keras.utils.set_random_seed`: one seed for Python, numpy and tx's random streams."""
from __future__ import annotations

import random

import numpy as np

from tfx_core.ops import random_ops


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, numpy's global generator and `tx.random` (keras.utils.
    set_random_seed): unseeded initializers, `fit(shuffle=True)`'s batch order, Dropout and
    `tx.data` shuffles without a seed then repeat from run to run."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r} "
                         f"(of type {type(seed)})")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    random_ops.set_seed(int(seed))


__all__ = ["set_random_seed"]
