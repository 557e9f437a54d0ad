"""Op table: tx.experimental.dtensor.relayout (the sharding_constraint op) on a one-device mesh:
the identity, eagerly and compiled (the compiled program is an SPMD program of one partition)."""
from __future__ import annotations

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg


def _relayout(x, spec):
    dt = tx.experimental.dtensor
    mesh = dt.create_mesh([("x", 1)], devices=[0])
    return dt.relayout(x, dt.Layout(list(spec), mesh))


def _samples(rng, dtype):
    return [Sample((make_arg(rng, (4, 2), dtype), ("x", "unsharded"))),
            Sample((make_arg(rng, (3,), dtype), ("unsharded",))),
            Sample((make_arg(rng, (), dtype), ()))]


ENTRIES = [
    OpInfo("dtensor.relayout", _relayout, lambda x, spec: x, _samples,
           (tx.float32, tx.int32, tx.bool), ops=("sharding_constraint",)),
]


def _one_replica():
    return tx.distribute.MirroredStrategy(devices=[0])


def _run_all_reduce(x, op):
    s = _one_replica()
    per = s.experimental_distribute_values_from_function(lambda ctx: x)
    out = s.run(lambda v: tx.distribute.get_replica_context().all_reduce(op, v), args=(per,))
    return s.experimental_local_results(out)[0]


def _run_replica_id(x):
    s = _one_replica()
    out = s.run(lambda v: v + tx.cast(tx.distribute.get_replica_context()
                                      .replica_id_in_sync_group, v.dtype), args=(x,))
    return s.experimental_local_results(out)[0]


def _replica_samples(rng, dtype):
    return [Sample((make_arg(rng, (4, 2), dtype), "SUM")),
            Sample((make_arg(rng, (3,), dtype), "MEAN"))]


ENTRIES += [
    # one replica: the per-replica program (replica_map), its all-reduce and replica id are
    # the identity, eagerly and compiled; several replicas: tests/distribute (8 devices)
    OpInfo("distribute.all_reduce", _run_all_reduce, lambda x, op: x, _replica_samples,
           (tx.float32, tx.int32), ops=("replica_map", "all_reduce"),
           grad="strategy.run is not differentiable from outside (as TF)"),
    OpInfo("distribute.replica_id", _run_replica_id, lambda x: x,
           lambda rng, dtype: [Sample((make_arg(rng, (2, 3), dtype),))],
           (tx.float32,), ops=("replica_id",),
           grad="strategy.run is not differentiable from outside (as TF)"),
]
