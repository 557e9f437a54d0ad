"""Values with one part per replica (TF's PerReplica / DistributedValues) and `ReduceOp`.

A `PerReplica` holds ONE tensor over the whole mesh: "split" values (a distributed batch) give
each replica a slice of the first dimension; "stacked" values (what `strategy.run` returns)
give replica r row r. It is a pytree node, so @tx.function sees which kind it was given.
"""
from __future__ import annotations

import enum
from typing import Any

from jax import tree_util

from tfx_core.framework.tensor import Tensor


class ReduceOp(enum.Enum):
    """How `strategy.reduce` / `all_reduce` combine replicas' values (tf.distribute.ReduceOp)."""

    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_variable_aggregation(aggregation: Any) -> ReduceOp:
        name = getattr(aggregation, "name", str(aggregation)).upper()
        if name in ("SUM", "MEAN"):
            return ReduceOp[name]
        raise ValueError(f"no ReduceOp for variable aggregation {aggregation!r}")


def reduce_op(op: Any) -> ReduceOp:
    """`op` as a ReduceOp (a ReduceOp, or "SUM"/"MEAN" in any case)."""
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, str) and op.upper() in ("SUM", "MEAN"):
        return ReduceOp[op.upper()]
    raise ValueError(f"reduce_op must be tx.distribute.ReduceOp.SUM or MEAN, got {op!r}")


class DistributedValues:
    """Base of values with one part per replica (tf.distribute.DistributedValues)."""


class PerReplica(DistributedValues):
    """A value with one part per replica: `tensor` spans the mesh, `mode` is "split" (replica
    r gets rows [r*k, (r+1)*k)) or "stacked" (replica r gets row r)."""

    __slots__ = ("tensor", "mode", "num_replicas")

    def __init__(self, tensor: Any, mode: str, num_replicas: int):
        if mode not in ("split", "stacked"):
            raise ValueError(f"PerReplica mode must be 'split' or 'stacked', got {mode!r}")
        self.tensor = tensor
        self.mode = mode
        self.num_replicas = int(num_replicas)

    @property
    def values(self) -> tuple[Any, ...]:
        """Each replica's part (eagerly; TF's `.values`)."""
        from tfx_core.ops.array_ops import split, squeeze

        parts = split(self.tensor, self.num_replicas, axis=0)
        if self.mode == "stacked":
            parts = [squeeze(p, [0]) for p in parts]
        return tuple(parts)

    def __repr__(self) -> str:
        t = self.tensor
        kind = type(t).__name__ if not isinstance(t, Tensor) else f"{t.dtype.name}{list(t.shape)}"
        return f"PerReplica({self.mode}, {self.num_replicas} replicas, {kind})"


tree_util.register_pytree_node(
    PerReplica,
    lambda p: ((p.tensor,), (p.mode, p.num_replicas)),
    lambda aux, children: PerReplica(children[0], *aux),
)
