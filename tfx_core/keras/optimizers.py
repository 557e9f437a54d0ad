"""`tx.keras.optimizers`: tx's optimizers under their Keras names, `schedules`, and `get`."""
from __future__ import annotations

from typing import Any

from tfx_core.keras import schedules
from tfx_core.training.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Lion,
    Nadam,
    Optimizer,
    RMSprop,
)

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
            "nadam": Nadam, "lion": Lion}


def get(identifier: Any) -> Optimizer:
    """An optimizer instance from a name ("adam", "sgd", "rmsprop", "adamw", "adagrad",
    "nadam", "lion") or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}; "
                             f"known: {sorted(_BY_NAME)}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Lion", "Nadam", "Optimizer", "RMSprop", "get",
           "schedules"]
