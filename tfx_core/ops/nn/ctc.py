"""tf.nn.ctc_loss on dense labels: the CTC forward algorithm in log space, scanned over time."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from compiler.ir.types import I32
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error
from tfx_core.ops.control_flow_ops import scan
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.nn_ops import log_softmax
from tfx_core.ops.sort_ops import cumsum

TensorLike = Any


def _logsumexp(*xs: Tensor) -> Tensor:
    """log(sum(exp(xs))) elementwise, -inf where every term is -inf, with gradients that stay
    finite there (no -inf - -inf, no log(0) on the path a cotangent takes)."""
    top = xs[0]
    for x in xs[1:]:
        top = M.maximum(top, x)
    finite = M.is_finite(top)
    shift = M.where(finite, top, A.zeros_like(top))
    total = xs[0] - shift
    total = M.exp(total)
    for x in xs[1:]:
        total = total + M.exp(x - shift)
    alive = M.greater(total, 0)
    safe = M.where(alive, total, A.ones_like(total))
    return M.where(alive, M.log(safe) + shift, _ninf_like(top))


def _ninf_like(x: Tensor) -> Tensor:
    return A.zeros_like(x) + M.cast(-math.inf, x.dtype)


def _shift_right(x: Tensor, k: int) -> Tensor:
    """x[..., s - k] along the last axis, -inf for s < k."""
    pad = [[0, 0]] * (x.ndim - 1) + [[k, 0]]
    return A.pad(x, pad, constant_values=-math.inf)[..., :x.shape[-1]]


def _int_vector(name: str, v: TensorLike, what: str, batch: int) -> Tensor:
    t = to_tensor(v, name)
    if not t.dtype.is_integer or t.shape.as_list() != [batch]:
        raise op_error(name, f"{what} must be an integer vector of shape [{batch}], got {t.type}")
    return M.cast(t, I32)


def ctc_loss(labels: TensorLike, logits: TensorLike, label_length: TensorLike,
             logit_length: TensorLike, logits_time_major: bool = True, unique: Any = None,
             blank_index: Any = None, name: str | None = None) -> Tensor:
    """The negative log-likelihood of each dense label sequence under CTC (tf.nn.ctc_loss):
    [batch] losses, inf where a label cannot fit in its logit_length frames.

    `labels` is [batch, max_label_length] (entries past label_length are ignored); `logits`
    are unnormalized, [frames, batch, classes] (or batch-major); `blank_index` (default 0,
    negative counts from the end) is the blank class, as TF. SparseTensor labels and `unique`
    are not supported (sparse tensors are outside tfx).
    """
    name_ = "ctc_loss"
    if unique is not None:
        raise op_error(name_, "unique= (the ctc_unique_labels form) is not supported", TypeError)
    x = to_tensor(logits, name_)
    if not x.dtype.is_floating or x.ndim != 3 or None in x.shape:
        raise op_error(name_, f"logits must be a floating [frames, batch, classes] tensor of "
                       f"known shape, got {x.type}")
    if not logits_time_major:
        x = A.transpose(x, [1, 0, 2])
    frames, batch, classes = x.shape
    if frames == 0 or classes == 0:
        raise op_error(name_, f"logits need at least one frame and one class, got {x.type}")
    y = to_tensor(labels, name_)
    if not y.dtype.is_integer or y.ndim != 2 or y.shape[0] != batch or y.shape[1] is None:
        raise op_error(name_, f"labels must be a dense integer [batch={batch}, max_length] "
                       f"tensor, got {y.type}")
    y = M.cast(y, I32)
    n_lab = _int_vector(name_, label_length, "label_length", batch)
    n_log = _int_vector(name_, logit_length, "logit_length", batch)
    blank = 0 if blank_index is None else int(blank_index)
    if not -classes <= blank < classes:
        raise op_error(name_, f"blank_index {blank} is out of range for {classes} classes")
    blank %= classes
    logp = log_softmax(x)  # [T, B, C]
    if blank:  # as TF: move the blank class to 0, shift the labels below it up by one
        logp = A.concat([logp[:, :, blank:blank + 1], logp[:, :, :blank],
                         logp[:, :, blank + 1:]], 2)
        y = M.where(M.less(y, blank), y + 1, y)
    u = y.shape[1]
    s_len = 2 * u + 1
    # the extended sequence: blank, l1, blank, l2, ..., blank -> class ids [B, S]
    odd = np.arange(s_len) % 2 == 1
    pick = np.where(odd, (np.arange(s_len) - 1) // 2, 0).astype(np.int32)
    ext = M.where(odd, gather(y, pick, axis=1), A.zeros_like(gather(y, pick, axis=1)))
    # a non-blank may follow the label before last directly when the two differ
    prev2 = A.concat([A.fill([batch, 2], -1), ext[:, :-2]], 1) if s_len > 2 else ext
    skip = M.logical_and(odd, M.not_equal(ext, prev2))
    emit = gather(logp, A.tile(ext[None], [frames, 1, 1]), axis=2, batch_dims=2)  # [T, B, S]
    positions = np.arange(s_len, dtype=np.int32)
    # t = 0: a path starts with the first blank or the first label
    start = M.logical_and(positions < 2, M.less(positions, (2 * n_lab + 1)[:, None]))
    first = M.where(start, emit[0], _ninf_like(emit[0]))
    steps = M.less(np.arange(1, frames, dtype=np.int32)[:, None], n_log[None])  # [T-1, B]

    def step(alpha: Tensor, elems: tuple) -> Tensor:
        e, live = elems
        jump = _shift_right(alpha, 2)
        nxt = _logsumexp(alpha, _shift_right(alpha, 1), M.where(skip, jump, _ninf_like(jump)))
        return M.where(live[:, None], nxt + e, alpha)  # past logit_length the state holds

    alpha = first
    if frames > 1:
        alpha = scan(step, (emit[1:], steps), initializer=first)[-1]
    end = 2 * n_lab  # the last blank; the last label sits at end - 1
    last = gather(alpha, end[:, None], batch_dims=1)[:, 0]
    before = gather(alpha, M.maximum(end - 1, 0)[:, None], batch_dims=1)[:, 0]
    before = M.where(M.greater(n_lab, 0), before, _ninf_like(before))
    return M.negative(_logsumexp(last, before))


def ctc_unique_labels(labels: TensorLike, name: str | None = None) -> list[Tensor]:
    """Per batch row, the distinct labels in order of first appearance (padded with 0) and
    each position's index among them (tf.nn.ctc_unique_labels): [unique, idx (int32)].

    Pairwise comparisons along the row (static shapes, no data-dependent sizes), so it
    compiles and runs the same eagerly."""
    name_ = "ctc_unique_labels"
    x = to_tensor(labels, name_)
    if x.shape.rank != 2 or not x.dtype.is_integer:
        raise op_error(name_, f"labels must be a [batch, max_label_length] integer tensor, "
                       f"got {x.type}")
    n = x.shape[1]
    if n is None:
        raise op_error(name_, "max_label_length must be known at trace time")
    same = M.equal(A.expand_dims(x, 2), A.expand_dims(x, 1))  # [b, j, k]: x[j] == x[k]
    earlier = to_tensor(np.tril(np.ones((n, n), bool), -1), name_)  # k < j
    first = M.logical_not(R.reduce_any(M.logical_and(same, earlier), axis=2))  # [b, j]
    slot = cumsum(M.cast(first, I32), axis=1) - 1  # where each first occurrence goes
    # a position's index is the slot of its label's first occurrence (the smallest k)
    owner = R.argmax(M.cast(M.logical_and(same, A.expand_dims(first, 1)), I32), axis=2,
                     output_type=I32)
    idx = gather(slot, owner, batch_dims=1)
    onto = M.logical_and(A.expand_dims(first, 1),
                         M.equal(A.expand_dims(slot, 1),
                                 A.reshape(A.range(n, dtype=I32), [1, n, 1])))  # [b, p, j]
    unique = R.reduce_sum(M.multiply(M.cast(onto, x.dtype), A.expand_dims(x, 1)), axis=2)
    return [unique, idx]


__all__ = ["ctc_loss", "ctc_unique_labels"]
