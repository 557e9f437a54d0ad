"""`Dataset.shuffle`: TF's buffer algorithm (fill `buffer_size` elements, emit a random one,
refill its slot from the input), deterministic with a seed; a new order per pass or the same."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from tfx_core.ops.arguments import op_error, static_int

Stage = tuple  # (make_iter, element_spec, cardinality)


def shuffle(stage: Stage, buffer_size: Any, seed: Any = None,
            reshuffle_each_iteration: bool = True) -> Stage:
    size = static_int(buffer_size, "Dataset.shuffle", "buffer_size")
    if size == 0 or size < -1:
        raise op_error("Dataset.shuffle", f"buffer_size must be greater than zero (or -1 for "
                       f"the whole dataset), got {size}", ValueError)
    base = None if seed is None else static_int(seed, "Dataset.shuffle", "seed")
    # NOTE: with no seed each dataset draws one at random (TF: from the global seed when set).
    if base is None:
        base = int(np.random.SeedSequence().generate_state(1)[0])
    passes = itertools.count()
    make = stage[0]

    def make_iter() -> Iterator[list]:
        epoch = next(passes) if reshuffle_each_iteration else 0
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([base, epoch])))
        source = make()
        buffer = list(itertools.islice(source, None if size == -1 else size))
        while buffer:
            j = int(rng.integers(len(buffer)))
            out = buffer[j]
            nxt = next(source, None)
            if nxt is not None:
                buffer[j] = nxt
            else:  # input exhausted: the buffer drains, its last element fills the hole
                buffer[j] = buffer[-1]
                buffer.pop()
            yield out

    return make_iter, stage[1], stage[2]
