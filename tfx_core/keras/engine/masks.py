"""Keras masks: the boolean mask a layer attaches to its output (Keras 3's `_keras_mask`)."""
from __future__ import annotations

import weakref
from typing import Any

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.keras.engine.keras_tensor import KerasTensor
from tfx_core.ops.array_ops import expand_dims, zeros_like
from tfx_core.ops.math_ops import cast, where
from tfx_core.ops.reduction_ops import reduce_sum

# NOTE: `Tensor` has __slots__ (no `_keras_mask` attribute), so masks of tensors live in this
# side table keyed by id; the weak reference drops the entry when the tensor dies (and tells a
# reused id from the tensor it was recorded for).
_MASKS: dict[int, tuple[weakref.ref, Any]] = {}


def get_keras_mask(x: Any) -> Any:
    """The mask attached to `x` by the layer that produced it, or None."""
    if isinstance(x, KerasTensor):
        return getattr(x, "_keras_mask", None)
    entry = _MASKS.get(id(x))
    if entry is None or entry[0]() is not x:
        return None
    return entry[1]


def set_keras_mask(x: Any, mask: Any) -> None:
    """Attach `mask` (None: remove it) to the tensor `x`."""
    if isinstance(x, KerasTensor):
        x._keras_mask = mask
        return
    key = id(x)
    if mask is None:
        _MASKS.pop(key, None)
        return
    try:
        ref = weakref.ref(x, lambda _r, k=key: _drop(k, _r))
    except TypeError:  # not a tensor (a number, None, a string): it carries no mask
        return
    _MASKS[key] = (ref, mask)


def _drop(key: int, ref: weakref.ref) -> None:
    entry = _MASKS.get(key)
    if entry is not None and entry[0] is ref:
        del _MASKS[key]


__all__ = ["get_keras_mask", "set_keras_mask"]


def mask_sample_weight(y_pred: Any, sample_weight: Any, mean: bool) -> Any:
    """`sample_weight` with the mask of a single `y_pred` applied (Keras 3's `apply_mask`):
    masked elements weigh 0; for a mean (`mean=True`, a loss reduced "sum_over_batch_size")
    kept ones weigh total/kept, so the mean runs over the kept elements only. Unchanged
    without a mask."""
    if isinstance(y_pred, (list, tuple, dict)):
        return sample_weight
    mask = get_keras_mask(y_pred)
    if mask is None:
        return sample_weight
    dtype = y_pred.dtype
    weights = cast(mask, dtype)
    if mean:
        total = float(max(1, mask.shape.num_elements()))
        kept = reduce_sum(weights)
        # divide_no_nan: a batch with every element masked weighs 0, not inf
        scale = where(kept > 0, total / (kept + cast(kept <= 0, dtype)), zeros_like(kept))
        weights = weights * scale
    if sample_weight is None:
        return weights
    sw = cast(convert_to_tensor(sample_weight), dtype)
    while sw.shape.rank < weights.shape.rank:  # per-sample weights of per-step values
        sw = expand_dims(sw, -1)
    return weights * sw
