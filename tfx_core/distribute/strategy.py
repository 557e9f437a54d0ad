"""tf.distribute strategies on XLA's SPMD partitioner: one mesh axis of replicas.

`MirroredStrategy` (this process's devices) and `MultiWorkerMirroredStrategy` (every process's)
place the Variables created in `scope()` on every replica, split distributed batches over them,
and run `strategy.run(fn)` as ONE program: fn's body once per replica (Shardy's manual
computation), optimizer updates summed across replicas inside it (all-reduce).
"""
from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from jax import tree_util

from compiler.interpreters import bind
from compiler.ops.sharding.replicas import replica_map_op
from runtime import client, sharding
from tfx_core.distribute.mesh import Mesh, create_distributed_mesh, create_mesh
from tfx_core.distribute.replica_context import (
    ReplicaContext,
    current_replica_context,
    strategy_stack,
)
from tfx_core.distribute.values import PerReplica, ReduceOp, reduce_op
from tfx_core.errors import InvalidArgumentError
from tfx_core.framework.convert import convert_to_tensor
from tfx_core.framework.tensor import Tensor
from tfx_core.framework.variables import VARIABLE_PLACEMENTS, Variable, active_trace
from tfx_core.polymorphic_function.tracer import RegionTracer, trace_callable

REPLICA_AXIS = "replica"


class InputContext:
    """What a dataset function is told about the input pipelines (tf.distribute.InputContext)."""

    def __init__(self, num_input_pipelines: int = 1, input_pipeline_id: int = 0,
                 num_replicas_in_sync: int = 1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size: int) -> int:
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"the global batch size {global_batch_size} is not divisible by "
                             f"num_replicas_in_sync {self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync


class StrategyExtended:
    """The few `strategy.extended` attributes TF code reads."""

    def __init__(self, strategy: Strategy):
        self._strategy = strategy

    @property
    def worker_devices(self) -> tuple[str, ...]:
        return tuple(self._strategy.mesh.local_devices())

    @property
    def parameter_devices(self) -> tuple[str, ...]:
        return self.worker_devices

    def variable_created_in_scope(self, v: Any) -> bool:
        return getattr(v, "_strategy_ref", lambda: None)() is self._strategy


class Strategy:
    """Data parallelism over a 1-D mesh of replicas (the base of TF's strategies here)."""

    def __init__(self, mesh: Mesh):
        self._mesh = mesh
        self._run_fns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.extended = StrategyExtended(self)

    # ------------------------------------------------------------ facts
    @property
    def mesh(self) -> Mesh:
        return self._mesh

    @property
    def num_replicas_in_sync(self) -> int:
        return self._mesh.size

    @property
    def _axes(self) -> tuple:
        return self._mesh.spec.axes

    # ------------------------------------------------------------ scope and variables
    @contextlib.contextmanager
    def scope(self) -> Iterator[Strategy]:
        """Variables created inside are mirrored: one copy per replica, kept equal."""
        strategy_stack().append(self)
        VARIABLE_PLACEMENTS.append(self._place_variable)
        try:
            yield self
        finally:
            VARIABLE_PLACEMENTS.pop()
            strategy_stack().pop()

    def _place_variable(self, var: Variable) -> None:
        var._strategy_ref = weakref.ref(self)
        var._mesh_layout = (self._mesh.spec, sharding.replicated(len(var.shape)))
        var._set_buffer(var._tensor._buf)

    # ------------------------------------------------------------ input
    def split_batch(self, value: Any) -> Any:
        """A global batch (nested tensors) as per-replica values: each replica gets an equal
        slice of the first dimension."""
        n = self.num_replicas_in_sync

        def one(x: Any) -> Any:
            if isinstance(x, PerReplica):
                return x
            t = convert_to_tensor(x)
            if t.shape.rank == 0 or t.shape[0] % n:
                raise InvalidArgumentError(
                    None, None, f"a batch of shape {list(t.shape)} does not split over the "
                    f"{n} replicas: the global batch size must be divisible by "
                    "num_replicas_in_sync (batch the dataset with drop_remainder=True)")
            if t._buf is None:  # traced: strategy.run splits it where the replicas begin
                return PerReplica(t, "split", n)
            spec = ((REPLICA_AXIS,),) + ((),) * (t.shape.rank - 1)
            buf = sharding.put(client.to_numpy(t._buf), self._mesh.spec, spec)
            return PerReplica(Tensor(buf, t._type), "split", n)

        return tree_util.tree_map(one, value)

    def place_global_batch(self, value: Any) -> Any:
        """A global batch (nested tensors) as tensors split over the replicas along their
        first dimension (replicated when it does not divide), for one global-view SPMD step
        (how Keras's fit runs under a strategy: XLA's partitioner adds the all-reduces)."""
        n = self.num_replicas_in_sync

        def one(x: Any) -> Any:
            if not isinstance(x, (Tensor, np.ndarray)):
                return x
            t = convert_to_tensor(x)
            rank = t.shape.rank
            split = rank > 0 and t.shape[0] % n == 0
            spec = (((REPLICA_AXIS,),) if split else ((),)) + ((),) * max(rank - 1, 0)
            if rank == 0:
                spec = ()
            return Tensor(sharding.put(client.to_numpy(t._buf), self._mesh.spec, spec),
                          t._type)

        return tree_util.tree_map(one, value)

    def experimental_distribute_dataset(self, dataset: Any, options: Any = None
                                        ) -> DistributedDataset:
        """Each element of `dataset` (a global batch) split over the replicas."""
        return DistributedDataset(self, lambda: iter(dataset))

    def distribute_datasets_from_function(self, dataset_fn: Callable, options: Any = None
                                          ) -> DistributedDataset:
        """`dataset_fn(InputContext)` gives per-replica batches; consecutive ones go to
        consecutive replicas."""
        ctx = InputContext(1, 0, self.num_replicas_in_sync)
        dataset = dataset_fn(ctx)
        n = self.num_replicas_in_sync

        def batches() -> Iterator[Any]:
            it = iter(dataset)
            while True:
                group = []
                for _ in range(n):
                    try:
                        group.append(next(it))
                    except StopIteration:
                        return
                yield tree_util.tree_map(
                    lambda *xs: np.concatenate([client.to_numpy(convert_to_tensor(x)._buf)
                                                for x in xs]), *group)

        return DistributedDataset(self, batches)

    def experimental_distribute_values_from_function(self, value_fn: Callable) -> Any:
        """Per-replica values from `value_fn(ValueContext)` for each replica, stacked."""
        parts = [value_fn(ValueContext(i, self.num_replicas_in_sync))
                 for i in range(self.num_replicas_in_sync)]
        if active_trace() is not None:
            from tfx_core.ops.array_ops import stack

            return tree_util.tree_map(
                lambda *xs: PerReplica(stack([convert_to_tensor(x) for x in xs]), "stacked",
                                       self.num_replicas_in_sync), *parts)
        stacked = tree_util.tree_map(
            lambda *xs: np.stack([np.asarray(convert_to_tensor(x).numpy()) for x in xs]), *parts)
        return tree_util.tree_map(
            lambda a: PerReplica(self._stacked_tensor(a), "stacked", self.num_replicas_in_sync),
            stacked)

    def _stacked_tensor(self, a: np.ndarray) -> Tensor:
        spec = ((REPLICA_AXIS,),) + ((),) * (a.ndim - 1)
        t = convert_to_tensor(a)
        return Tensor(sharding.put(a, self._mesh.spec, spec), t._type)

    # ------------------------------------------------------------ running
    def run(self, fn: Callable, args: tuple = (), kwargs: dict | None = None,
            options: Any = None) -> Any:
        """fn(*args, **kwargs) once per replica, each on its part of the per-replica
        arguments (others are given whole); returns per-replica results."""
        kwargs = dict(kwargs or {})
        if current_replica_context() is not None:
            raise RuntimeError("strategy.run called inside strategy.run (replica context)")
        trace = active_trace()
        if trace is None:  # eagerly: the same, compiled once per function
            from tfx_core.polymorphic_function.function import function

            step = self._run_fns.get(fn) if _weakrefable(fn) else None
            if step is None:
                step = function(lambda a, k: self.run(fn, a, k), autograph=False)
                if _weakrefable(fn):
                    self._run_fns[fn] = step
            return step(tuple(args), kwargs)
        return self._run_traced(fn, tuple(args), kwargs, trace)

    def _run_traced(self, fn: Callable, args: tuple, kwargs: dict, trace: Any) -> Any:
        n = self.num_replicas_in_sync
        leaves, tree = tree_util.tree_flatten(
            (args, kwargs), is_leaf=lambda x: isinstance(x, (PerReplica, Variable)))
        operands, split, slots = [], [], []
        for i, x in enumerate(leaves):
            if isinstance(x, PerReplica):
                t = convert_to_tensor(x.tensor)
                operands.append(t)
                split.append(True)
                slots.append((i, x.mode))
            elif isinstance(x, (Tensor, np.ndarray)) and not isinstance(x, Variable):
                operands.append(convert_to_tensor(x))
                split.append(False)
                slots.append((i, None))
        sub = RegionTracer("replica_fn", trace)
        # variables created on the first trace (optimizer slots, a model built lazily) are
        # allowed as in the function itself, and mirrored like those created in scope()
        sub.allow_variable_creation = trace.allow_variable_creation
        local = [t._type.with_shape((t.shape[0] // n,) + tuple(t.shape)[1:]) if s else t._type
                 for t, s in zip(operands, split)]
        if any(s and (t.shape.rank == 0 or t.shape[0] % n) for t, s in zip(operands, split)):
            bad = next(t for t, s in zip(operands, split) if s)
            raise InvalidArgumentError(None, None, f"strategy.run: a per-replica value of shape "
                                       f"{list(bad.shape)} does not split over {n} replicas")
        inputs = [sub.new_input(t) for t in local]
        ctx = ReplicaContext(self, self._axes, REPLICA_AXIS)

        def body(*ins: Tensor) -> Any:
            from tfx_core.ops.array_ops import expand_dims, squeeze

            real = list(leaves)
            for (pos, mode), x in zip(slots, ins):
                real[pos] = squeeze(x, [0]) if mode == "stacked" else x
            a, k = tree_util.tree_unflatten(tree, real)
            VARIABLE_PLACEMENTS.append(self._place_variable)
            try:
                with ctx:
                    out = fn(*a, **k)
            finally:
                VARIABLE_PLACEMENTS.pop()
            return tree_util.tree_map(lambda o: expand_dims(convert_to_tensor(o), 0), out)

        values, out_tree = trace_callable(sub, body, inputs, {}, convert_to_tensor)
        assigned = list(sub.assigned.values())
        graph = sub.trace.builder.build(values + [t._value for _, t, _ in assigned])
        captured = [p for p, _ in sub.trace.captures]
        results = bind(replica_map_op, *operands, *captured, body=graph, mesh=self._axes,
                       axis=REPLICA_AXIS, in_split=tuple(split) + (False,) * len(captured),
                       out_split=(True,) * len(values) + (False,) * len(assigned),
                       devices=self._mesh.spec.device_ids)
        results = list(results)
        for (var, _, _), new in zip(assigned, results[len(values):]):
            var.assign(new)
        outs = [PerReplica(r, "stacked", n) for r in results[:len(values)]]
        return tree_util.tree_unflatten(out_tree, outs)

    def reduce(self, reduce_op_: Any, value: Any, axis: int | None = None) -> Any:
        """Combine per-replica values (SUM or MEAN), also along `axis` of each part."""
        from tfx_core.ops.array_ops import reshape
        from tfx_core.ops.reduction_ops import reduce_mean, reduce_sum

        op = reduce_op(reduce_op_)
        n = self.num_replicas_in_sync

        def one(v: Any) -> Any:
            if not isinstance(v, PerReplica):
                t = convert_to_tensor(v)
                if op is ReduceOp.MEAN or n == 1:
                    return t if axis is None else (reduce_mean if op is ReduceOp.MEAN
                                                   else reduce_sum)(t, axis)
                raise ValueError(f"a value that is not per-replica ({t.type}) can't be reduced "
                                 "with SUM across replicas")
            t = convert_to_tensor(v.tensor)
            if v.mode == "split":
                t = reshape(t, [n, t.shape[0] // n] + list(t.shape)[1:])
            axes = [0] if axis is None else [0, (axis % (t.shape.rank - 1)) + 1]
            return (reduce_mean if op is ReduceOp.MEAN else reduce_sum)(t, axes)

        return tree_util.tree_map(one, value, is_leaf=lambda x: isinstance(x, PerReplica))

    def experimental_local_results(self, value: Any) -> tuple:
        """Each replica's part of `value` (a tuple of one value when it isn't per-replica)."""
        if isinstance(value, PerReplica):
            return value.values
        return (value,)

    def gather(self, value: Any, axis: int) -> Any:
        """Per-replica values concatenated along `axis`."""
        from tfx_core.ops.array_ops import concat

        if not isinstance(value, PerReplica):
            return value
        return concat(list(value.values), axis)


def _weakrefable(fn: Any) -> bool:
    try:
        weakref.ref(fn)
    except TypeError:
        return False
    return True


class ValueContext:
    """Which replica a value function builds a value for (tf.distribute.ValueContext)."""

    def __init__(self, replica_id_in_sync_group: int = 0, num_replicas_in_sync: int = 1):
        self.replica_id_in_sync_group = replica_id_in_sync_group
        self.num_replicas_in_sync = num_replicas_in_sync


class DistributedDataset:
    """Iterates a dataset's global batches as per-replica values (split over the replicas)."""

    def __init__(self, strategy: Strategy, make_iter: Callable[[], Iterator[Any]]):
        self._strategy = strategy
        self._make_iter = make_iter

    def __iter__(self) -> Iterator[Any]:
        for element in self._make_iter():
            yield self._strategy.split_batch(element)


class MirroredStrategy(Strategy):
    """Data parallelism over this process's devices (tf.distribute.MirroredStrategy)."""

    def __init__(self, devices: list[Any] | None = None, cross_device_ops: Any = None):
        if devices is not None:
            devices = list(devices)
            if not devices:
                raise ValueError("MirroredStrategy: devices is empty")
        from tfx_core.distribute.dtensor_ops import num_local_devices

        n = len(devices) if devices else num_local_devices()
        mesh = create_mesh([(REPLICA_AXIS, n)], devices=devices)
        super().__init__(mesh)


class OneDeviceStrategy(Strategy):
    """Everything on one device (tf.distribute.OneDeviceStrategy)."""

    def __init__(self, device: Any = None):
        super().__init__(create_mesh([(REPLICA_AXIS, 1)],
                                     devices=[device] if device is not None else [0]))


class MultiWorkerMirroredStrategy(Strategy):
    """Data parallelism over every device of every process (tf.distribute.
    MultiWorkerMirroredStrategy). Processes find each other from `cluster_resolver`, else
    TF_CONFIG; with neither, this one process's devices are the replicas."""

    def __init__(self, cluster_resolver: Any = None, communication_options: Any = None):
        from runtime import distributed
        from tfx_core.distribute.cluster_resolver import (
            TFConfigClusterResolver,
            initialize_from_resolver,
        )

        if not distributed.is_initialized():
            resolver = cluster_resolver or TFConfigClusterResolver()
            spec = resolver.cluster_spec()
            if spec.as_dict():
                initialize_from_resolver(resolver)
        self.cluster_resolver = cluster_resolver
        total = len(sharding.all_devices())
        super().__init__(create_distributed_mesh([(REPLICA_AXIS, total)]))


# ---------------------------------------------------------------- module functions (tf.distribute)
_DEFAULT: list[Strategy] = []


def get_strategy() -> Strategy:
    """The strategy whose scope is open, else the default one-device strategy."""
    stack = strategy_stack()
    if stack:
        return stack[-1]
    if not _DEFAULT:
        _DEFAULT.append(OneDeviceStrategy())
    return _DEFAULT[0]


def has_strategy() -> bool:
    return bool(strategy_stack())


def in_cross_replica_context() -> bool:
    return has_strategy() and current_replica_context() is None


def get_replica_context() -> ReplicaContext | None:
    """The replica context inside strategy.run; None in a strategy's scope outside it; the
    default (one replica) elsewhere."""
    ctx = current_replica_context()
    if ctx is not None:
        return ctx
    if has_strategy():
        return None
    return ReplicaContext(get_strategy())


def experimental_set_strategy(strategy: Strategy | None) -> None:
    """Enter `strategy`'s scope for good (None leaves the one entered this way)."""
    stack = strategy_stack()
    while _SET and stack and stack[-1] is _SET[-1][0]:
        _SET.pop()[1].__exit__(None, None, None)
    if strategy is not None:
        cm = strategy.scope()
        cm.__enter__()
        _SET.append((strategy, cm))


_SET: list = []
