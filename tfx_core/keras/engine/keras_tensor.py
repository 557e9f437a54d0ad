"""Symbolic `KerasTensor`s and the `Node`s that record which layer call produced them."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from compiler.ir.types import F32, DType


class KerasTensor:
    """A placeholder with a shape (None = unknown, the batch dimension) and a dtype.

    Calling a layer on KerasTensors computes the output specs without running anything and
    records a `Node`; `Model(inputs, outputs)` walks these records back to the inputs.
    """

    def __init__(self, shape: tuple[int | None, ...], dtype: Any = F32, name: str | None = None,
                 history: tuple[Any, int] | None = None) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = DType.from_any(dtype)
        self.name = name
        # (node that produced this tensor, its output index)
        self.history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, "
                f"name={self.name}>")

    def __bool__(self) -> bool:  # a symbolic value has no truth value (as Keras)
        raise TypeError("A KerasTensor is symbolic: it has no truth value (it is a placeholder "
                        "for a layer's input or output, not a value)")


class Node:
    """One call of `layer` on symbolic arguments: `args`/`kwargs` hold KerasTensors as leaves."""

    def __init__(self, layer: Any, args: tuple, kwargs: dict, outputs: Any) -> None:
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.input_tensors = [t for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)]
        self.output_tensors = [t for t in flatten(outputs) if isinstance(t, KerasTensor)]


def flatten(structure: Any) -> list[Any]:
    """The leaves of nested lists, tuples and dicts (dict values in sorted key order)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, Mapping):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    return [structure]


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """`structure` with every leaf replaced by `fn(leaf)` (lists, tuples, dicts kept)."""
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*(map_structure(fn, s) for s in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, s) for s in structure)
    if isinstance(structure, Mapping):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def any_symbolic(structure: Any) -> bool:
    """Whether any leaf is a KerasTensor."""
    return any(isinstance(t, KerasTensor) for t in flatten(structure))


__all__ = ["KerasTensor", "Node", "any_symbolic", "flatten", "map_structure"]
