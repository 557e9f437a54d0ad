"""tf.pad's REFLECT and SYMMETRIC modes: a gather per padded axis, with TF's size limits."""
from __future__ import annotations

import numpy as np

from tfx_core.framework.operands import Tensor
from tfx_core.ops.arguments import op_error
from tfx_core.ops.indexing_ops import gather


def mirror_pad(x: Tensor, low: tuple, high: tuple, mode: str) -> Tensor:
    """Pad by mirroring: REFLECT leaves out the edge (abc -> cb|abc|ba), SYMMETRIC repeats it
    (abc -> ba|abc|cb). Pads may be at most n - 1 (REFLECT) or n (SYMMETRIC) wide."""
    edge = 1 if mode == "REFLECT" else 0
    for ax, (p, q) in enumerate(zip(low, high)):
        if p == q == 0:
            continue
        n = x.shape[ax]
        if n is None:
            raise op_error("pad", f"mode={mode}: dim {ax} of {x.type} must be known at trace "
                           "time")
        if max(p, q) > n - edge:
            raise op_error("pad", f"mode={mode}: paddings [{p}, {q}] of dim {ax} must be at "
                           f"most {n - edge} for {x.type}")
        src = np.concatenate([np.arange(p, 0, -1) - 1 + edge, np.arange(n),
                              n - 1 - edge - np.arange(q)]).astype(np.int32)
        x = gather(x, src, axis=ax)
    return x
