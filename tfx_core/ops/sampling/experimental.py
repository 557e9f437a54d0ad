"""`tx.random.experimental` (tf.random.experimental): the seed helpers and generators under
their experimental names, stateless_shuffle and index_shuffle."""
from __future__ import annotations

from typing import Any

from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error
from tfx_core.ops.array.index_shuffle import random_index_shuffle
from tfx_core.ops.random_ops import Generator, get_global_generator, set_global_generator
from tfx_core.ops.sampling.categorical_sampler import stateless_shuffle
from tfx_core.ops.sampling.seeds import Algorithm, create_rng_state
from tfx_core.ops.sampling.seeds import fold_in as stateless_fold_in
from tfx_core.ops.sampling.seeds import split as stateless_split

_PAD = 498247692  # TF pads the [2] seed to the raw op's [3] with this word in front


def index_shuffle(index: Any, seed: Any, max_index: Any) -> Tensor:
    """The position of `index` (scalar or vector) in the permutation of [0, max_index] that
    the [2] `seed` picks, TF's permutation (tf.random.experimental.index_shuffle). Batched
    [n, 2] seeds are not supported."""
    s = to_tensor(seed, "index_shuffle")
    if s.dtype.kind not in "iu" or tuple(s.shape) != (2,):
        raise op_error("index_shuffle", f"seed must be a shape [2] integer tensor, got {s.type}",
                       TypeError if s.dtype.kind not in "iu" else ValueError)
    key = A.concat([M.cast(to_tensor([_PAD], "index_shuffle"), s.dtype), s], 0)
    return random_index_shuffle(index, key, max_index)


__all__ = [
    "Algorithm", "Generator", "create_rng_state", "get_global_generator", "index_shuffle",
    "set_global_generator", "stateless_fold_in", "stateless_shuffle", "stateless_split",
]
