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


def seeded_generator(seed: int | None) -> random_ops.Generator:
    """A layer's own random stream (Dropout, RNN dropout): from `seed`, else from a seed drawn
    from numpy's global generator, so `set_random_seed` makes unseeded layers repeat as
    Keras 3's SeedGenerator does (numpy seeds itself from OS entropy at start)."""
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    return random_ops.Generator.from_seed(int(seed))


__all__ = ["seeded_generator", "set_random_seed"]
