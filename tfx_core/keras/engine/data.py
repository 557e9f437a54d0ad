"""Host-side data for `fit`/`evaluate`/`predict`: arrays, validation split, batches."""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.keras.engine.keras_tensor import flatten, map_structure


def to_arrays(data: Any) -> Any:
    """Tensors and array-likes as numpy; a list/tuple/dict of arrays stays a structure
    (several model inputs), float64 becomes float32 (Keras's floatx)."""
    if data is None:
        return None

    def leaf(x: Any) -> np.ndarray:
        a = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
        return a.astype(np.float32) if a.dtype == np.float64 else a

    if isinstance(data, (list, tuple)) and data and all(
            isinstance(d, (np.ndarray, Tensor)) for d in data):
        return [leaf(d) for d in data]
    if isinstance(data, dict):
        return {k: leaf(v) for k, v in data.items()}
    return leaf(data)


def num_samples(*structures: Any) -> int:
    """The common first dimension of every array; ValueError if they differ."""
    sizes = {a.shape[0] for s in structures if s is not None for a in flatten(s)}
    if len(sizes) != 1:
        raise ValueError(f"Data cardinality is ambiguous: make sure all arrays contain the same "
                         f"number of samples, got sizes {sorted(sizes)}")
    return sizes.pop()


def take(structure: Any, index: Any) -> Any:
    """Rows `index` (a slice or an index array) of every array."""
    if structure is None:
        return None
    return map_structure(lambda a: a[index], structure)


def train_validation_split(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """The first `1 - validation_split` of the samples for training, the LAST
    `validation_split` for validation, before any shuffling (as Keras)."""
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    n = num_samples(*arrays)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split "
                         f"it into a validation and training set as specified by "
                         f"`validation_split={validation_split}`")
    return (tuple(take(a, slice(0, split_at)) for a in arrays),
            tuple(take(a, slice(split_at, n)) for a in arrays))


def batch_indices(n: int, batch_size: int, shuffle: bool) -> Iterator[Any]:
    """Slices (or, shuffled, index arrays) of `batch_size` rows; the last batch may be partial."""
    order = np.random.permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def with_class_weight(y: Any, sample_weight: Any, class_weight: dict) -> np.ndarray:
    """Per-sample weights `class_weight[class of y]` (integer labels, or the argmax of one-hot
    rows), times `sample_weight` if given."""
    if not isinstance(y, np.ndarray):
        raise ValueError("class_weight is only supported for a single target array")
    labels = y.argmax(-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
    missing = sorted(set(np.unique(labels).astype(int).tolist()) - set(class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for classes {missing}; it must contain "
                         "every class that appears in y")
    weights = np.array([class_weight[int(c)] for c in labels], np.float32)
    return weights if sample_weight is None else weights * sample_weight.astype(np.float32)


def to_tensors(structure: Any) -> Any:
    return None if structure is None else map_structure(convert_to_tensor, structure)


def check_batch_size(batch_size: Any) -> int:
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


__all__ = ["batch_indices", "check_batch_size", "num_samples", "take", "to_arrays",
           "to_tensors", "train_validation_split", "with_class_weight"]
