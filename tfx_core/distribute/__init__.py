"""tx.distribute: one program over many devices and processes (TF's strategies) on XLA's SPMD
partitioner; tx.experimental.dtensor's meshes and layouts live here too."""
from tfx_core.distribute import cluster_resolver
from tfx_core.distribute.options import (
    CrossDeviceOps,
    HierarchicalCopyAllReduce,
    InputOptions,
    InputReplicationMode,
    NcclAllReduce,
    ReductionToOneDevice,
    RunOptions,
)
from tfx_core.distribute.replica_context import ReplicaContext
from tfx_core.distribute.strategy import (
    DistributedDataset,
    InputContext,
    MirroredStrategy,
    MultiWorkerMirroredStrategy,
    OneDeviceStrategy,
    Strategy,
    StrategyExtended,
    ValueContext,
    experimental_set_strategy,
    get_replica_context,
    get_strategy,
    has_strategy,
    in_cross_replica_context,
)
from tfx_core.distribute.values import DistributedValues, PerReplica, ReduceOp

__all__ = [
    "CrossDeviceOps", "HierarchicalCopyAllReduce", "InputOptions", "InputReplicationMode",
    "NcclAllReduce", "ReductionToOneDevice", "RunOptions",
    "DistributedDataset", "DistributedValues", "InputContext", "MirroredStrategy",
    "MultiWorkerMirroredStrategy", "OneDeviceStrategy", "PerReplica", "ReduceOp",
    "ReplicaContext", "Strategy", "StrategyExtended", "ValueContext", "cluster_resolver",
    "experimental_set_strategy", "get_replica_context", "get_strategy", "has_strategy",
    "in_cross_replica_context",
]
