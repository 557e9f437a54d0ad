"""Host-side data for `fit`/`evaluate`/`predict`: arrays or a tx.data.Dataset, as batches."""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from tfx_core.data.dataset import Dataset
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


def unpack(data: Any) -> tuple[Any, Any, Any]:
    """(x, y, sample_weight) of a batch given as x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(data, tuple) and 1 <= len(data) <= 3:
        return (*data, *(None,) * (3 - len(data)))
    return data, None, None


def batch_tuple(arrays: tuple, index: Any) -> tuple:
    """The step's input: (x, y) or (x, y, sample_weight) tensors of rows `index`."""
    x, y, sw = (to_tensors(take(a, index)) for a in arrays)
    return (x, y) if sw is None else (x, y, sw)


class Batches:
    """The batches of one `fit`/`evaluate`/`predict` call, epoch after epoch.

    Arrays are cut into `batch_size` rows (shuffled per epoch if asked). A Dataset yields
    its elements as the batches: a fresh pass per epoch, or, with `steps` (steps_per_epoch),
    one iterator that goes on across epochs, as Keras 3. When that iterator reaches the end
    of a finite dataset the epoch is cut short (with a warning) and the next epoch starts a
    fresh pass (Keras 3.15); `exhausted` is set only if a fresh pass yields nothing.
    """

    def __init__(self, x: Any, y: Any, sample_weight: Any, batch_size: Any, steps: Any,
                 what: str, shuffle: bool = False, class_weight: Any = None,
                 arrays: tuple | None = None) -> None:
        if steps is not None and (isinstance(steps, bool) or not isinstance(
                steps, (int, np.integer)) or steps <= 0):
            raise ValueError(f"{what}: steps must be a positive int or None, got {steps!r}")
        self.steps_cap = None if steps is None else int(steps)
        self.class_weight = class_weight
        self.exhausted = False
        self._iterator: Iterator[Any] | None = None
        self._seen = 0  # batches the current iterator has yielded
        self._known: int | None = None  # the dataset's batches, once known
        self.dataset = x if isinstance(x, Dataset) else None
        if self.dataset is not None:
            for arg, value in (("y", y), ("sample_weight", sample_weight),
                               ("batch_size", batch_size)):
                if value is not None:
                    raise ValueError(f"{what}: the `{arg}` argument is not supported when the "
                                     "input is a tx.data.Dataset (its elements are the batches: "
                                     "(x, y) or (x, y, sample_weight))")
            n = int(self.dataset.cardinality().numpy())
            if n == -1 and steps is None:  # -1: INFINITE_CARDINALITY (-2, unknown, is fine)
                raise ValueError(f"{what}: the dataset is infinite: pass steps (e.g. "
                                 "steps_per_epoch) to say how many batches make an epoch")
            self.steps = self.steps_cap if self.steps_cap is not None else (n if n >= 0 else None)
            self._known = n if n >= 0 else None
            return
        self.batch_size = check_batch_size(batch_size)
        if arrays is None:
            arrays = (to_arrays(x), to_arrays(y), to_arrays(sample_weight))
            if class_weight is not None:
                arrays = (arrays[0], arrays[1],
                          with_class_weight(arrays[1], arrays[2], class_weight))
        self.arrays = arrays
        self.shuffle = shuffle
        self.n = num_samples(*(a for a in arrays if a is not None))
        full = math.ceil(self.n / self.batch_size)
        self.steps = full if self.steps_cap is None else min(full, self.steps_cap)

    def epoch(self) -> Iterator[tuple]:
        """The batches of the next epoch, each a tuple (x, y[, sample_weight]) of tensors."""
        if self.dataset is None:
            indices = batch_indices(self.n, self.batch_size, self.shuffle)
            for k, index in enumerate(indices):
                if self.steps_cap is not None and k >= self.steps_cap:
                    return
                yield batch_tuple(self.arrays, index)
            return
        if self.steps_cap is None:
            for element in self.dataset:
                yield self._dataset_batch(element)
            return
        if self._iterator is None or (self._known is not None and self._seen >= self._known):
            self._iterator, self._seen = iter(self.dataset), 0
        fresh = self._seen == 0
        for _ in range(self.steps_cap):
            element = None
            if self._known is None or self._seen < self._known:
                try:
                    element = next(self._iterator)
                except StopIteration:
                    self._known = self._seen  # the dataset's length, now known
            if element is None:
                if fresh and self._seen == 0:  # an empty dataset: nothing to train on
                    self.exhausted = True
                self._iterator = None  # the next epoch starts a fresh pass
                warnings.warn("Your input ran out of data; interrupting training. Make sure "
                              "that your dataset can generate at least `steps_per_epoch * "
                              "epochs` batches. You may need to use the `.repeat()` "
                              "function when building your dataset.", stacklevel=3)
                return
            self._seen += 1
            yield self._dataset_batch(element)

    def _dataset_batch(self, element: Any) -> tuple:
        x, y, sw = unpack(element)
        if self.class_weight is not None and y is not None:
            y_np = y.numpy() if isinstance(y, Tensor) else np.asarray(y)
            sw_np = None if sw is None else (sw.numpy() if isinstance(sw, Tensor)
                                             else np.asarray(sw))
            sw = convert_to_tensor(with_class_weight(y_np, sw_np, self.class_weight))
        x, y, sw = (None if a is None else map_structure(_tensor, a) for a in (x, y, sw))
        if y is None:
            return (x,)
        return (x, y) if sw is None else (x, y, sw)


def _tensor(a: Any) -> Tensor:
    """A batch component as a tensor; float64 arrays become float32 (floatx), as `to_arrays`."""
    if isinstance(a, Tensor):
        return a
    a = np.asarray(a)
    return convert_to_tensor(a.astype(np.float32) if a.dtype == np.float64 else a)


__all__ = ["Batches", "batch_indices", "batch_tuple", "check_batch_size", "num_samples", "take",
           "to_arrays", "to_tensors", "train_validation_split", "unpack", "with_class_weight"]
