"""Options TF code passes to strategies (tf.distribute.InputOptions, RunOptions, the
cross-device ops): accepted for compatibility; XLA's partitioner chooses the collectives."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class InputReplicationMode(enum.Enum):
    """How input pipelines map to replicas (tf.distribute.InputReplicationMode)."""

    PER_WORKER = "PER_WORKER"
    PER_REPLICA = "PER_REPLICA"


@dataclass
class InputOptions:
    """tf.distribute.InputOptions: recorded; batches are split over the replicas as given."""

    experimental_fetch_to_device: bool | None = None
    experimental_replication_mode: InputReplicationMode = InputReplicationMode.PER_WORKER
    experimental_place_dataset_on_device: bool = False
    experimental_per_replica_buffer_size: int = 1


@dataclass
class RunOptions:
    """tf.distribute.RunOptions: recorded (XLA compiles every step here)."""

    experimental_enable_dynamic_batch_size: bool = True
    experimental_bucketizing_dynamic_shape: bool = False
    experimental_xla_options: object = None


class CrossDeviceOps:
    """How replicas' values are combined (tf.distribute.CrossDeviceOps). tfx always lets XLA
    emit its collectives (all-reduce over the replica axis), so every subclass behaves alike;
    they exist so TF code that names one runs unchanged."""

    def __init__(self, *args: object, **kwargs: object):
        self.args, self.kwargs = args, kwargs

    def __repr__(self) -> str:
        return f"{type(self).__name__}() (XLA collectives)"


class NcclAllReduce(CrossDeviceOps):
    """tf.distribute.NcclAllReduce (on GPU, XLA's collectives are NCCL's)."""


class HierarchicalCopyAllReduce(CrossDeviceOps):
    """tf.distribute.HierarchicalCopyAllReduce."""


class ReductionToOneDevice(CrossDeviceOps):
    """tf.distribute.ReductionToOneDevice."""
