"""tf.nn.collapse_repeated: merge runs of equal labels in each sequence."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.ir.types import I32
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error
from tfx_core.ops.data_dependent_ops import DataDependentShapeError
from tfx_core.ops.nn.checks import static_dims
from tfx_core.ops.sort_ops import cumsum

TensorLike = Any


def collapse_repeated(labels: TensorLike, seq_length: TensorLike, name: str | None = None,
                      ) -> tuple[Tensor, Tensor]:
    """(collapsed labels [batch, longest new length], new lengths): within each row's first
    seq_length entries, runs of one label become one entry; rows are zero-padded
    (tf.nn.collapse_repeated). The output width depends on the values, so under tx.function
    they must be known at trace time."""
    from tfx_core.polymorphic_function.tracer import get_static_value  # (tracer imports ops)

    name_ = "collapse_repeated"
    x = to_tensor(labels, name_)
    n = to_tensor(seq_length, name_)
    if x.ndim != 2 or n.ndim != 1 or not n.dtype.is_integer:
        raise op_error(name_, f"expected labels [batch, max_len] and integer seq_length [batch],"
                       f" got {x.type} and {n.type}")
    _, t = static_dims(name_, x, "labels")
    if t == 0:
        return x, n
    steps = A.range(t, dtype=n.dtype)
    in_seq = M.less(A.expand_dims(steps, 0), A.expand_dims(n, 1))
    first = M.not_equal(x[:, 1:], x[:, :-1])
    keep = M.logical_and(A.concat([M.equal(x[:, :1], x[:, :1]), first], 1), in_seq)
    keep_i = M.cast(keep, I32)
    new_len = R.reduce_sum(keep_i, 1)
    # Each kept label goes to position (number kept before it); a one-hot sum places it.
    pos = M.subtract(cumsum(keep_i, axis=1), 1)
    slot = M.logical_and(A.expand_dims(keep, 2),
                         M.equal(A.expand_dims(pos, 2), A.range(t, dtype=I32)))  # [b, t, p]
    zero = A.zeros_like(x)
    out = R.reduce_sum(M.where(slot, A.expand_dims(x, 2), A.expand_dims(zero, 2)), 1)
    longest = get_static_value(R.reduce_max(new_len)) if t else 0
    if longest is None:
        raise op_error(name_, "the output width is the longest collapsed sequence, known only "
                       "when the compiled function runs (a data-dependent shape); call it "
                       "eagerly, or pass labels and seq_length known at trace time",
                       DataDependentShapeError)
    width = max(int(np.asarray(longest)), 0)
    return out[:, :width], M.cast(new_len, n.dtype)


__all__ = ["collapse_repeated"]
