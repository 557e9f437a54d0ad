"""`tx.keras.regularizers`: L1, L2 and L1L2 weight penalties (added to the training loss)."""
from __future__ import annotations

from typing import Any

from tfx_core.ops.math_ops import abs as _abs
from tfx_core.ops.math_ops import square
from tfx_core.ops.reduction_ops import reduce_sum


class Regularizer:
    """A callable `penalty(weight) -> scalar`."""

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """`l1 * sum(|x|) + l2 * sum(x**2)`."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x: Any) -> Any:
        total = 0.0
        if self.l1:
            total = total + self.l1 * reduce_sum(_abs(x))
        if self.l2:
            total = total + self.l2 * reduce_sum(square(x))
        return total

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """`l1 * sum(|x|)` (Keras default l1=0.01)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(L1L2):
    """`l2 * sum(x**2)` (Keras default l2=0.01)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}


def get(identifier: Any) -> Any:
    """A regularizer from a name ("l1", "l2", "l1_l2"), a `{"class_name", "config"}` entry
    of a layer's get_config ("L1", "L2", "L1L2"), an instance or any callable."""
    if isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        cls = {c.__name__: c for c in (L1, L2, L1L2)}.get(identifier["class_name"])
        if cls is None or not isinstance(identifier.get("config"), dict):
            raise ValueError(f"unknown regularizer {identifier!r}; known: L1, L2, L1L2")
        return cls.from_config(identifier["config"])
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown regularizer {identifier!r}; known: {sorted(_BY_NAME)}")
        return cls()
    if callable(identifier):
        return identifier
    raise TypeError(f"cannot interpret {identifier!r} as a regularizer")


l1, l2, l1_l2 = L1, L2, L1L2
__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2"]
