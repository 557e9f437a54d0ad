"""One process of a test cluster (run by test_multiprocess.py): joins, runs collectives over
every process's devices through the runtime's compile path, prints one `RESULT {json}` line.

usage: python -m tests.distribute.multiprocess_worker MODE PORT NUM_PROCESSES PROCESS_ID
MODE: direct | tf_config (how to join) | hold | hold_busy (join, print READY, then idle or
run all-reduces forever: the test kills a peer) | join (join only, report the error if any).
"""
from __future__ import annotations

import json
import os
import sys
import time

import jax
import numpy as np
from jaxlib import xla_client as xc

from runtime import client, distributed, process_gather

# generous joining and exit barrier (a loaded machine may run one process seconds behind the
# other; both return as soon as every process arrived), short heartbeats (a dead peer is
# noticed within 3 s)
TIMEOUTS = {"timeout_seconds": 30, "heartbeat_timeout_seconds": 3, "shutdown_timeout_seconds": 20}

# every device contributes its global position + 1: the sum over 8 devices is 36
ALL_REDUCE = """
module @all_reduce attributes {mhlo.num_replicas = 8 : i32, mhlo.num_partitions = 1 : i32} {
  func.func public @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = "stablehlo.all_reduce"(%x) ({
      ^bb0(%a: tensor<f32>, %b: tensor<f32>):
        %s = stablehlo.add %a, %b : tensor<f32>
        stablehlo.return %s : tensor<f32>
    }) {replica_groups = dense<[[0, 1, 2, 3, 4, 5, 6, 7]]> : tensor<1x8xi64>}
       : (tensor<4xf32>) -> tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}
"""

# the SPMD partitioner (Shardy) splits a sum over a vector sharded across all 8 devices
SPMD_SUM = """
module @spmd_sum attributes {mhlo.num_replicas = 1 : i32, mhlo.num_partitions = 8 : i32} {
  sdy.mesh @mesh = <["x"=8]>
  func.func public @main(%x: tensor<32xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"x"}]>})
      -> (tensor<f32> {sdy.sharding = #sdy.sharding<@mesh, []>}) {
    %z = stablehlo.constant dense<0.0> : tensor<f32>
    %0 = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0]
       : (tensor<32xf32>, tensor<f32>) -> tensor<f32>
    return %0 : tensor<f32>
  }
}
"""


def compile_global(text: str, replicas: int, partitions: int):
    """Compile for every device of every process (device assignment [replicas, partitions]).

    NOTE: runtime.client.compile_and_load takes one device today, so this goes to the
    backend's own compile_and_load with the global DeviceList.
    """
    devs = distributed.global_devices()
    opts = xc.CompileOptions()
    opts.num_replicas, opts.num_partitions = replicas, partitions
    ids = np.array([d.id for d in devs]).reshape(replicas, partitions)
    opts.device_assignment = xc.DeviceAssignment.create(ids)
    if partitions > 1:
        opts.executable_build_options.use_spmd_partitioning = True
        opts.executable_build_options.use_shardy_partitioner = True
    return client.backend().compile_and_load(text, xc.DeviceList(tuple(devs)), opts)


def sharded_input():
    """f32[32] split over the 8 global devices; device i holds 4 copies of i + 1."""
    devs = distributed.global_devices()
    position = {d.id: i for i, d in enumerate(devs)}
    shards = [client.device_put(np.full(4, position[d.id] + 1, np.float32), d)
              for d in distributed.local_devices()]
    mesh = jax.sharding.Mesh(np.array(devs), ("x",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("x"))
    return jax.make_array_from_single_device_arrays((32,), sharding, shards)


def matrix_on_2d_mesh():
    """f32[8, 6] = arange, rows split over mesh axis "x" (4), columns over "y" (2)."""
    devs = distributed.global_devices()
    mesh = jax.sharding.Mesh(np.array(devs).reshape(4, 2), ("x", "y"))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("x", "y"))
    whole = np.arange(48, dtype=np.float32).reshape(8, 6)
    pieces = [client.device_put(whole[index], d)
              for d, index in sharding.addressable_devices_indices_map(whole.shape).items()]
    return jax.make_array_from_single_device_arrays(whole.shape, sharding, pieces)


def regression_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.normal(size=(64, 5)).astype(np.float32),
            rng.normal(size=(64, 1)).astype(np.float32))


def train_data_parallel(steps: int = 5) -> tuple[list[float], list]:
    """Linear regression by SGD, the batch split over all 8 devices of both processes, the
    weights a replicated DVariable (tx.experimental.dtensor over the global mesh)."""
    import tfx_core as tx

    dt = tx.experimental.dtensor
    mesh = dt.create_distributed_mesh([("batch", 8)])
    features, labels = regression_data()
    x = dt.copy_to_mesh(features, dt.Layout(["batch", dt.UNSHARDED], mesh))
    y = dt.copy_to_mesh(labels, dt.Layout(["batch", dt.UNSHARDED], mesh))
    w = dt.DVariable(np.zeros((5, 1), np.float32), layout=dt.Layout.replicated(mesh, 2))

    @tx.function
    def step(x, y):
        with tx.GradientTape() as tape:
            loss = tx.reduce_mean(tx.square(tx.matmul(x, w) - y))
        w.assign_sub(0.1 * tape.gradient(loss, w))
        return loss

    losses = [float(step(x, y).numpy()) for _ in range(steps)]
    return losses, w.numpy().tolist()


def train_multi_worker_mirrored(steps: int = 5) -> tuple[list[float], list]:
    """The same regression under tx.distribute.MultiWorkerMirroredStrategy: one replica per
    device of both processes, each global batch of 64 split over the 8 replicas, gradients
    all-reduced inside the one compiled step."""
    import tfx_core as tx

    strategy = tx.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 8
    features, labels = regression_data()
    with strategy.scope():
        w = tx.Variable(np.zeros((5, 1), np.float32))

    @tx.function
    def train_step(x, y):
        def step_fn(x, y):
            with tx.GradientTape() as tape:
                loss = tx.reduce_sum(tx.square(tx.matmul(x, w) - y)) / 64.0
            grad = tx.distribute.get_replica_context().all_reduce("SUM", tape.gradient(loss, w))
            w.assign_sub(0.1 * grad)
            return loss

        return strategy.reduce("SUM", strategy.run(step_fn, args=(x, y)), axis=None)

    data = tx.data.Dataset.from_tensor_slices((features, labels)).batch(64).repeat(steps)
    losses = [float(train_step(x, y).numpy())
              for x, y in strategy.experimental_distribute_dataset(data)]
    return losses, w.numpy().tolist()


def run(exe, x) -> list[float]:
    outs = exe.execute_sharded([x]).disassemble_into_single_device_arrays()
    return [np.asarray(a).tolist() for a in outs[0]]


def join(mode: str, port: int, num_processes: int, process_id: int) -> None:
    if mode == "tf_config":  # TF_CONFIG comes from the environment the test set
        # imported here: tfx_core takes a second to import, the other modes don't need it
        from tfx_core.distribute.cluster_resolver import (
            TFConfigClusterResolver,
            initialize_from_resolver,
        )

        initialize_from_resolver(TFConfigClusterResolver(), **TIMEOUTS)
    else:
        # the test shortens the join timeout to see a missing coordinator reported
        timeouts = dict(TIMEOUTS, timeout_seconds=float(os.environ.get("TFX_JOIN_TIMEOUT", 30)))
        distributed.initialize(f"localhost:{port}", num_processes, process_id, **timeouts)


def main() -> None:
    mode, port, num_processes, process_id = sys.argv[1], *map(int, sys.argv[2:5])
    start = time.monotonic()
    if mode == "join":
        try:
            join(mode, port, num_processes, process_id)
        except Exception as e:  # reported to the test, which checks class and message
            print("RESULT " + json.dumps({"error": type(e).__name__, "message": str(e),
                                          "seconds": time.monotonic() - start}), flush=True)
            return
        print("RESULT " + json.dumps({"error": None}), flush=True)
        return
    join(mode, port, num_processes, process_id)
    devs = distributed.global_devices()
    x = sharded_input()
    all_reduce = compile_global(ALL_REDUCE, 8, 1)
    summed = run(all_reduce, x)
    if mode.startswith("hold"):
        print("READY", flush=True)
        while True:  # until a peer's death ends this process
            if mode == "hold_busy":
                run(all_reduce, x)
            time.sleep(0.05)
    spmd = compile_global(SPMD_SUM, 1, 8)
    trained = {}
    if mode == "tf_config":
        trained["dtensor"] = train_data_parallel()
        trained["mirrored"] = train_multi_worker_mirrored()
    result = {
        "trained": trained,
        "process_index": distributed.process_index(),
        "process_count": distributed.process_count(),
        "backend_process_index": client.backend().process_index(),
        "global_device_ids": [d.id for d in devs],
        "device_processes": [d.process_index for d in devs],
        "local_device_ids": [d.id for d in distributed.local_devices()],
        "all_reduce": summed,
        "spmd_sum": run(spmd, x),
        "spmd_hlo_all_reduce": "all-reduce" in spmd.hlo_modules()[0].to_string(),
        "fully_addressable": x.is_fully_addressable,
        "gathered": process_gather.host_value(x).tolist(),
        "gathered_2d": process_gather.host_value(matrix_on_2d_mesh()).tolist(),
        "seconds": time.monotonic() - start,
    }
    print("RESULT " + json.dumps(result), flush=True)
    distributed.shutdown()


if __name__ == "__main__":
    main()
