"""Which strategy and replica the running code is in (tf.distribute's contexts), and the
per-replica collectives: `ReplicaContext.all_reduce`, gradient aggregation for optimizers."""
from __future__ import annotations

import threading
from typing import Any

from jax import tree_util

from compiler.interpreters import bind
from compiler.ops.sharding.replicas import all_reduce_op, replica_id_op
from tfx_core.distribute.values import ReduceOp, reduce_op
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor

_STATE = threading.local()


def _stack(name: str) -> list:
    s = getattr(_STATE, name, None)
    if s is None:
        s = []
        setattr(_STATE, name, s)
    return s


class ReplicaContext:
    """The replica the code runs as, inside `strategy.run` (tf.distribute.ReplicaContext)."""

    def __init__(self, strategy: Any, mesh: tuple = (), axis: str = ""):
        self._strategy = strategy
        self._mesh = mesh
        self._axis = axis

    @property
    def strategy(self) -> Any:
        return self._strategy

    @property
    def num_replicas_in_sync(self) -> int:
        return dict(self._mesh).get(self._axis, 1)

    @property
    def replica_id_in_sync_group(self) -> Any:
        """This replica's index (an int32 tensor inside strategy.run)."""
        if not self._axis:  # the default context: one replica
            return convert_to_tensor(0)
        return bind(replica_id_op, mesh=self._mesh, axis=self._axis)

    def all_reduce(self, reduce_op_: Any, value: Any, options: Any = None) -> Any:
        """Every replica gets the sum (or mean) of `value` over the replicas (a nested
        structure of tensors)."""
        op = reduce_op(reduce_op_)
        n = self.num_replicas_in_sync

        def one(x: Any) -> Any:
            t = convert_to_tensor(x)
            if self._axis:  # inside strategy.run (one replica or more)
                t = bind(all_reduce_op, t, mesh=self._mesh, axis=self._axis, reduce="sum")
            if op is ReduceOp.MEAN:
                from tfx_core.ops.math_ops import cast, divide

                mean = divide(t, convert_to_tensor(n, dtype=t.dtype))
                t = mean if mean.dtype == t.dtype else cast(mean, t.dtype)
            return t

        return tree_util.tree_map(one, value)

    def __enter__(self) -> ReplicaContext:
        _stack("replicas").append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _stack("replicas").pop()


def current_replica_context() -> ReplicaContext | None:
    """The replica context strategy.run's body is in, or None outside any."""
    s = _stack("replicas")
    return s[-1] if s else None


def strategy_stack() -> list:
    """The strategies whose scope() is open in this thread (innermost last)."""
    return _stack("strategies")


def all_reduce_gradients(pairs: list) -> list:
    """(gradient, variable) pairs with each gradient summed over the replicas when called
    inside strategy.run (what optimizers do before applying, as TF's)."""
    ctx = current_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return pairs
    return [(ctx.all_reduce(ReduceOp.SUM, g) if isinstance(g, Tensor) else g, v)
            for g, v in pairs]
