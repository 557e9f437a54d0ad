"""TF's UnconnectedGradients, VariableAggregation and VariableSynchronization enums."""
from __future__ import annotations

import enum


class UnconnectedGradients(enum.Enum):
    """What GradientTape.gradient returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


class VariableAggregation(enum.Enum):
    """How a distributed Variable combines per-replica updates; tfx runs one replica, so every
    value behaves as NONE does, and is recorded on the Variable."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


class VariableSynchronization(enum.Enum):
    """When a distributed Variable is synchronized; with one replica there is nothing to sync,
    so the value is only recorded on the Variable."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


__all__ = ["UnconnectedGradients", "VariableAggregation", "VariableSynchronization"]
