"""Non-max suppression (tf.image.non_max_suppression and its _with_scores, _padded, _overlaps and
combined_ variants): one greedy loop (tx.while_loop over a static max_output_size) on masks and
a precomputed overlap matrix, batched over leading dims, so it compiles; soft-NMS decays the
remaining scores by exp(-iou^2 / (2 sigma)) after each pick, which picks what TF's lazy queue
picks."""
from __future__ import annotations

from typing import Any

from compiler.interpreters import is_tracing
from compiler.ir.types import F32, I32
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.control_flow_ops import while_loop
from tfx_core.ops.data_dependent_ops import DataDependentShapeError
from tfx_core.ops.indexing_ops import gather, one_hot
from tfx_core.ops.sort_ops import top_k

TensorLike = Any
_NEG = float("-inf")
_EAGER_LOOPS: dict = {}  # (max_out, sigma, suppress_equal) -> the compiled greedy loop


def box_iou(a: Tensor, b: Tensor) -> Tensor:
    """[..., n, m] intersection over union of [..., n, 4] and [..., m, 4] boxes whose corners
    may come in either order (0 when either box is empty), as TF's NMS kernels define it."""
    def parts(t):
        y1, x1, y2, x2 = t[..., 0], t[..., 1], t[..., 2], t[..., 3]
        return M.minimum(y1, y2), M.minimum(x1, x2), M.maximum(y1, y2), M.maximum(x1, x2)

    ay0, ax0, ay1, ax1 = (A.expand_dims(p, -1) for p in parts(a))
    by0, bx0, by1, bx1 = (A.expand_dims(p, -2) for p in parts(b))
    area_a = (ay1 - ay0) * (ax1 - ax0)
    area_b = (by1 - by0) * (bx1 - bx0)
    ih = M.maximum(M.minimum(ay1, by1) - M.maximum(ay0, by0), 0.0)
    iw = M.maximum(M.minimum(ax1, bx1) - M.maximum(ax0, bx0), 0.0)
    inter = ih * iw
    union = area_a + area_b - inter
    ok = M.logical_and(area_a > 0.0, area_b > 0.0)
    return M.where(ok, inter / M.where(ok, union, A.ones_like(union)), A.zeros_like(union))


def _padded_iou(b: Tensor) -> Tensor:
    """IoU as TF's non_max_suppression_padded computes it (corners taken as given)."""
    y0, x0, y1, x1 = (A.expand_dims(b[..., i], -1) for i in range(4))
    v0, u0, v1, u1 = (A.expand_dims(b[..., i], -2) for i in range(4))
    inter = (M.maximum(M.minimum(x1, u1) - M.maximum(x0, u0), 0.0)
             * M.maximum(M.minimum(y1, v1) - M.maximum(y0, v0), 0.0))
    union = (y1 - y0) * (x1 - x0) + (v1 - v0) * (u1 - u0) - inter + 1e-8
    return inter / union


def greedy(overlaps: Tensor, scores: Tensor, max_out: int, threshold: Any, score_threshold: Any,
           sigma: float = 0.0, suppress_equal: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """(indices [..., max_out] int32 (0-padded), their scores [..., max_out] (0-padded), counts
    [...]) of the greedy selection over [..., n] scores and [..., n, n] overlaps: repeatedly
    take the best remaining score above score_threshold, then drop the boxes it overlaps by
    more than threshold (or as much, with suppress_equal) and, with sigma > 0, decay the
    others. overlaps[i, j] is candidate j's overlap with pick i."""
    n = scores.shape[-1]
    thr = M.cast(to_tensor(threshold, "non_max_suppression"), F32)
    sthr = M.cast(to_tensor(score_threshold, "non_max_suppression"), F32)
    lead = list(scores.shape[:-1])
    idx0 = A.zeros([*lead, max_out], I32)
    sc0 = A.zeros([*lead, max_out], F32)
    count0 = A.zeros(lead, I32)
    if n == 0 or max_out == 0:
        return idx0, sc0, count0
    scale = -0.5 / sigma if sigma > 0 else 0.0

    def body(i, cur, idx, sc, count):
        live = cur > sthr
        masked = M.where(live, cur, A.fill(cur.shape, _NEG, F32) if None not in cur.shape
                         else cur * 0.0 + _NEG)
        best = M.cast(R.argmax(masked, -1), I32)  # the first of equal scores, as TF
        best_score = R.reduce_max(masked, -1)
        found = best_score > sthr
        slot = M.logical_and(M.cast(one_hot(i, max_out, dtype=I32), "bool"),
                             A.expand_dims(found, -1))
        idx = M.where(slot, A.expand_dims(best, -1) + A.zeros_like(idx), idx)
        sc = M.where(slot, A.expand_dims(best_score, -1) + A.zeros_like(sc), sc)
        row = gather(overlaps, best, axis=len(lead), batch_dims=len(lead))  # [..., n]
        kept = row < thr if suppress_equal else row <= thr
        weight = M.where(kept, M.exp(row * row * scale), A.zeros_like(row))
        picked = M.cast(one_hot(best, n, dtype=I32), "bool")
        gone = M.logical_or(picked, M.logical_not(kept))  # suppressed: out for good
        decayed = M.where(gone, A.zeros_like(cur) + _NEG, cur * weight)
        cur = M.where(A.expand_dims(found, -1), decayed, cur)
        return i + 1, cur, idx, sc, count + M.cast(found, I32)

    if not is_tracing():  # eagerly: one compiled call, not max_out Python trips of many ops
        key = (max_out, sigma, suppress_equal)
        if key not in _EAGER_LOOPS:
            from tfx_core.polymorphic_function.function import function  # (it imports ops)
            _EAGER_LOOPS[key] = function(
                lambda o, s, t, st: greedy(o, s, max_out, t, st, sigma, suppress_equal))
        return tuple(_EAGER_LOOPS[key](overlaps, M.cast(scores, F32), thr, sthr))
    start = (A.zeros([], I32), M.cast(scores, F32), idx0, sc0, count0)
    _, _, idx, sc, count = while_loop(lambda i, *_: i < max_out, body, start,
                                      maximum_iterations=max_out)
    return idx, sc, count


def _boxes_scores(name: str, boxes: TensorLike, scores: TensorLike, batched: bool = False):
    b = M.cast(to_tensor(boxes, name), F32)
    s = M.cast(to_tensor(scores, name), F32)
    if b.ndim < 2 or b.shape[-1] not in (4, None) or (b.ndim != 2 and not batched):
        raise op_error(name, f"boxes must be [num_boxes, 4], got {b.type}")
    if s.shape != b.shape[:-1]:
        raise op_error(name, f"scores must be [num_boxes] matching boxes, got {s.type} for "
                       f"boxes {b.type}")
    if None in b.shape:
        raise op_error(name, f"boxes need a shape known at trace time, got {b.type}")
    return b, s


def _trim(name: str, idx: Tensor, count: Tensor, *more: Tensor) -> tuple[Tensor, ...]:
    """The first `count` entries: a shape known only from values, so eager only."""
    if is_tracing():
        raise op_error(name, "the number of selected boxes depends on run-time values, which a "
                       "compiled program cannot return; use tx.image.non_max_suppression_padded "
                       "(pad_to_max_output_size=True)", DataDependentShapeError)
    k = int(count.numpy())
    return tuple(t[:k] for t in (idx, *more))


def non_max_suppression(boxes: TensorLike, scores: TensorLike, max_output_size: Any,
                        iou_threshold: Any = 0.5, score_threshold: Any = _NEG,
                        name: str | None = None) -> Tensor:
    """Indices of up to max_output_size boxes picked greedily by descending score, dropping
    boxes whose IoU with a picked one exceeds iou_threshold (tf.image.non_max_suppression).
    Eager only (the result's length depends on the values); compiled code uses
    non_max_suppression_padded."""
    op = "non_max_suppression"
    b, s = _boxes_scores(op, boxes, scores)
    k = static_int(max_output_size, op, "max_output_size")
    idx, _, count = greedy(box_iou(b, b), s, k, iou_threshold, score_threshold)
    return _trim(op, idx, count)[0]


def non_max_suppression_with_scores(boxes: TensorLike, scores: TensorLike, max_output_size: Any,
                                    iou_threshold: Any = 0.5, score_threshold: Any = _NEG,
                                    soft_nms_sigma: float = 0.0,
                                    name: str | None = None) -> tuple[Tensor, Tensor]:
    """(indices, scores) of the greedy selection; soft_nms_sigma > 0 decays the scores of the
    boxes a pick overlaps (Soft-NMS, Bodla et al.) (tf.image.non_max_suppression_with_scores).
    Eager only, like non_max_suppression."""
    op = "non_max_suppression_with_scores"
    b, s = _boxes_scores(op, boxes, scores)
    k = static_int(max_output_size, op, "max_output_size")
    sigma = float(soft_nms_sigma)
    if sigma < 0:
        raise op_error(op, f"soft_nms_sigma must be non-negative, got {sigma}")
    idx, sc, count = greedy(box_iou(b, b), s, k, iou_threshold, score_threshold, sigma)
    return _trim(op, idx, count, sc)


def non_max_suppression_overlaps(overlaps: TensorLike, scores: TensorLike, max_output_size: Any,
                                 overlap_threshold: Any = 0.5, score_threshold: Any = _NEG,
                                 name: str | None = None) -> Tensor:
    """non_max_suppression with a given [n, n] overlap matrix in place of IoU
    (tf.image.non_max_suppression_overlaps). Eager only."""
    op = "non_max_suppression_overlaps"
    o = M.cast(to_tensor(overlaps, op), F32)
    s = M.cast(to_tensor(scores, op), F32)
    if o.ndim != 2 or s.ndim != 1 or o.shape != (s.shape[0], s.shape[0]):
        raise op_error(op, f"overlaps must be [n, n] and scores [n], got {o.type} and {s.type}")
    k = static_int(max_output_size, op, "max_output_size")
    # TF compares overlaps[candidate, pick]: the transpose of the greedy loop's convention
    idx, _, count = greedy(A.transpose(o), s, k, overlap_threshold, score_threshold)
    return _trim(op, idx, count)[0]


def non_max_suppression_padded(boxes: TensorLike, scores: TensorLike, max_output_size: Any,
                               iou_threshold: Any = 0.5, score_threshold: Any = _NEG,
                               pad_to_max_output_size: bool = False, name: str | None = None,
                               sorted_input: bool = False, canonicalized_coordinates: bool = False,
                               tile_size: int = 512) -> tuple[Tensor, Tensor]:
    """(indices, number valid): with pad_to_max_output_size the indices are [..., max_output_size]
    padded with 0 (batched boxes [..., n, 4] allowed; compiles), otherwise the valid prefix
    (eager only) (tf.image.non_max_suppression_padded)."""
    op = "non_max_suppression_padded"
    b, s = _boxes_scores(op, boxes, scores, batched=True)
    if not pad_to_max_output_size and b.ndim > 2:
        raise op_error(op, f"'pad_to_max_output_size' (value {pad_to_max_output_size}) must be "
                       f"True for batched input")
    k = static_int(max_output_size, op, "max_output_size")
    # TF's padded algorithm (a tiled loop) differs from the kernel in details kept here: boxes
    # take the corner order of the first box, IoU has no empty-box rule but a 1e-8 in the
    # union, an IoU equal to the threshold suppresses, and only boxes with a positive
    # coordinate (after the score filter zeroes the others) can be picked
    live = s > M.cast(to_tensor(score_threshold, op), F32)
    b = b * A.expand_dims(M.cast(live, F32), -1)
    if not canonicalized_coordinates:
        flat = A.reshape(b, [-1, 4])
        y_first = flat[0, 0] <= flat[0, 2]
        x_first = flat[0, 1] <= flat[0, 3]
        y0 = M.where(y_first, b[..., 0], b[..., 2])
        y1 = M.where(y_first, b[..., 2], b[..., 0])
        x0 = M.where(x_first, b[..., 1], b[..., 3])
        x1 = M.where(x_first, b[..., 3], b[..., 1])
        b = A.stack([y0, x0, y1, x1], -1)
    eligible = M.logical_and(live, R.reduce_any(b > 0.0, -1))
    s = M.where(eligible, s, A.zeros_like(s) + _NEG)
    idx, _, count = greedy(_padded_iou(b), s, k, iou_threshold, _NEG, suppress_equal=True)
    if pad_to_max_output_size:
        return idx, count
    return _trim(op, idx, count)[0], count


def combined_non_max_suppression(boxes: TensorLike, scores: TensorLike,
                                 max_output_size_per_class: Any, max_total_size: Any,
                                 iou_threshold: Any = 0.5, score_threshold: Any = _NEG,
                                 pad_per_class: bool = False, clip_boxes: bool = True,
                                 name: str | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per image and class NMS, then the best max_total_size picks over all classes:
    (boxes [b, d, 4], scores [b, d], classes [b, d] (float), valid [b]), zero-padded
    (tf.image.combined_non_max_suppression). Compiles (static output sizes)."""
    op = "combined_non_max_suppression"
    b = M.cast(to_tensor(boxes, op), F32)
    s = M.cast(to_tensor(scores, op), F32)
    if b.ndim != 4 or b.shape[-1] != 4 or s.ndim != 3 or None in b.shape or None in s.shape:
        raise op_error(op, f"boxes must be [batch, num_boxes, q, 4] and scores [batch, "
                       f"num_boxes, num_classes] of known shapes, got {b.type} and {s.type}")
    batch, n, q, _ = b.shape
    classes = s.shape[2]
    if s.shape[:2] != (batch, n) or q not in (1, classes):
        raise op_error(op, f"boxes {b.type} and scores {s.type} do not match (q must be 1 or "
                       f"num_classes)")
    per_class = static_int(max_output_size_per_class, op, "max_output_size_per_class")
    total = static_int(max_total_size, op, "max_total_size")
    if per_class <= 0 or total <= 0:
        raise op_error(op, f"max_output_size_per_class and max_total_size must be > 0, got "
                       f"{per_class} and {total}")
    cls_boxes = A.transpose(A.tile(b, [1, 1, classes, 1]) if q == 1 else b, [0, 2, 1, 3])
    cls_scores = A.transpose(s, [0, 2, 1])  # [batch, classes, n]
    idx, sc, count = greedy(box_iou(cls_boxes, cls_boxes), cls_scores, per_class,
                            iou_threshold, score_threshold)
    valid = M.less(A.reshape(A.range(per_class), [1, 1, per_class]), A.expand_dims(count, -1))
    flat_scores = A.reshape(M.where(valid, sc, A.zeros_like(sc) + _NEG), [batch, -1])
    flat_boxes = A.reshape(gather(cls_boxes, idx, axis=2, batch_dims=2),
                           [batch, classes * per_class, 4])
    flat_classes = A.reshape(M.cast(A.zeros_like(idx) + A.reshape(A.range(classes),
                                                                  [1, classes, 1]), F32),
                             [batch, -1])
    det = min(total, per_class * classes) if pad_per_class else total
    k = min(det, classes * per_class)
    top = top_k(flat_scores, k)
    keep = top.values > _NEG
    out_scores = M.where(keep, top.values, A.zeros_like(top.values))
    out_boxes = gather(flat_boxes, top.indices, axis=1, batch_dims=1)
    out_boxes = M.where(A.expand_dims(keep, -1), out_boxes, A.zeros_like(out_boxes))
    if clip_boxes:
        out_boxes = M.clip_by_value(out_boxes, 0.0, 1.0)
    out_classes = M.where(keep, gather(flat_classes, top.indices, axis=1, batch_dims=1),
                          A.zeros_like(out_scores))
    if det > k:  # fewer candidates than detections: pad
        pad = [[0, 0], [0, det - k]]
        out_boxes = A.pad(out_boxes, [*pad, [0, 0]])
        out_scores, out_classes = A.pad(out_scores, pad), A.pad(out_classes, pad)
    return out_boxes, out_scores, out_classes, R.reduce_sum(M.cast(keep, I32), -1)
