"""Dataset elements: flat lists of leaves in tx.nest order, the structure kept once in the spec."""
# Inside a pipeline an element is a flat list of leaves in `tx.nest.flatten` order; the structure
# lives once, in the dataset's `element_spec`. A leaf is a host numpy array (sources, batching,
# shuffling: cheap to slice and stack, no device round trips) or a `tx.Tensor` (what a compiled
# `map` function returns: left on the device, so `map` then iteration costs no copy back:
# 38 us per element against 49 fetching it). Leaves become `tx.Tensor`s only at the iteration
# boundary, one device transfer per component.
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from compiler.ir.types import DType
from tfx_core.framework import nest
from tfx_core.framework.convert import to_numpy_for
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.tensor_spec import TensorSpec

# A pipeline stage: (make_iter, element_spec, cardinality), `make_iter()` starting one pass.
Stage = tuple

INFINITE = -1  # tf.data.INFINITE_CARDINALITY
UNKNOWN = -2  # tf.data.UNKNOWN_CARDINALITY


def is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def to_host(leaf: Any) -> np.ndarray:
    """A leaf as a numpy array (a device tensor is copied to the host)."""
    if isinstance(leaf, np.ndarray):
        return leaf
    if isinstance(leaf, Tensor):
        return leaf.numpy()
    return np.asarray(leaf)


def to_device(leaf: Any) -> Tensor:
    """A leaf as an eager tx.Tensor: one host-to-device transfer for a numpy leaf."""
    return leaf if isinstance(leaf, Tensor) else Tensor.from_numpy(leaf)


def normalize(value: Any, dtype: Any = None) -> Any:
    """A user value as an element structure of numpy leaves, with tf.data's rules: dicts, tuples
    and namedtuples are structure; a list is ONE tensor (as tf.data converts it), as are arrays,
    tensors, Variables and Python scalars (float32 / int32 defaults)."""
    if isinstance(value, Mapping):
        return {k: normalize(value[k]) for k in value}
    if is_namedtuple(value):
        return type(value)(*[normalize(v) for v in value])
    if isinstance(value, tuple):
        return tuple(normalize(v) for v in value)
    if isinstance(value, Tensor):
        return value.numpy()
    conv = getattr(value, "_as_tensor", None)  # a Variable: its current value
    if conv is not None:
        return conv().numpy()
    return np.asarray(to_numpy_for(value, dtype))


def flatten(structure: Any) -> list:
    return nest.flatten(structure)


def pack(spec: Any, leaves: list) -> Any:
    return nest.pack_sequence_as(spec, leaves)


def spec_of(leaf: Any, shape: tuple | None = None) -> TensorSpec:
    """The TensorSpec of one leaf (numpy array or tensor), optionally with another shape."""
    dtype = leaf.dtype if isinstance(leaf, Tensor) else DType.from_numpy(leaf.dtype)
    return TensorSpec(tuple(leaf.shape) if shape is None else shape, dtype)


def map_specs(spec: Any, fn: Any) -> Any:
    """`spec` with each TensorSpec leaf replaced by fn(leaf)."""
    return pack(spec, [fn(s) for s in flatten(spec)])


def relax(spec: TensorSpec, other: TensorSpec) -> TensorSpec:
    """The most specific spec both fit (dims that differ become None)."""
    dims = tuple(a if a == b else None for a, b in zip(spec.shape, other.shape))
    return TensorSpec(dims, spec.dtype)


def describe_shape(shape: tuple) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def check_spec_structure(spec: Any, what: str) -> None:
    """A user-given signature (output_signature, padded_shapes...) must be TensorSpecs nested in
    dicts and tuples."""
    for leaf in flatten(spec):
        if not isinstance(leaf, TensorSpec):
            raise TypeError(f"{what}: expected a structure of tx.TensorSpec, got {leaf!r}")


def with_rows(make_iter: Callable, rows: list, order: Callable | None = None) -> Callable:
    """Mark `make_iter` as yielding rows of the arrays `rows` (in `order()`'s index order, or
    straight), so a following batch can slice or gather rows instead of stacking elements."""
    make_iter.rows = rows  # type: ignore[attr-defined]
    make_iter.order = order  # type: ignore[attr-defined]
    return make_iter


def rows_of(make_iter: Callable) -> tuple[list | None, Callable | None]:
    """(rows, order) set by with_rows, or (None, None) for any other stage."""
    return getattr(make_iter, "rows", None), getattr(make_iter, "order", None)
