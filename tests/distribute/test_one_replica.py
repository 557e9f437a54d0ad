"""tx.distribute in the test process (one device): contexts, a one-replica MirroredStrategy's
run/reduce/datasets, TF's option classes accepted. Many replicas: test_strategy.py."""
from __future__ import annotations

import numpy as np
import pytest

import tfx_core as tx


def test_contexts_outside_and_inside_scope():
    d = tx.distribute
    assert not d.has_strategy() and not d.in_cross_replica_context()
    assert d.get_replica_context().num_replicas_in_sync == 1  # the default context
    s = d.MirroredStrategy(devices=[0], cross_device_ops=d.NcclAllReduce())
    with s.scope():
        assert d.has_strategy() and d.get_strategy() is s
        assert d.in_cross_replica_context() and d.get_replica_context() is None
        v = tx.Variable(1.0)
    assert tx.experimental.dtensor.fetch_layout(v) is None  # one device: nothing split
    assert not d.has_strategy()


def test_one_replica_run_reduce_and_dataset():
    s = tx.distribute.MirroredStrategy(devices=[0])
    seen = []

    def fn(x):
        ctx = tx.distribute.get_replica_context()
        seen.append(ctx.num_replicas_in_sync)
        return ctx.all_reduce("SUM", x) * 2.0

    ds = tx.data.Dataset.from_tensor_slices(np.arange(8, dtype=np.float32)).batch(4)
    sums = [float(s.reduce("SUM", s.run(fn, args=(b,)), axis=0))
            for b in s.experimental_distribute_dataset(ds, tx.distribute.InputOptions())]
    assert sums == [12.0, 44.0] and set(seen) == {1}
    assert s.experimental_local_results(3.0) == (3.0,)


def test_run_inside_run_is_refused():
    s = tx.distribute.OneDeviceStrategy()
    with pytest.raises(RuntimeError, match="inside strategy.run"):
        s.run(lambda: s.run(lambda: tx.constant(1.0)))


def test_reduce_op_names():
    assert tx.distribute.ReduceOp.SUM.value == "SUM"
    with pytest.raises(ValueError, match="SUM or MEAN"):
        tx.distribute.OneDeviceStrategy().reduce("MAX", tx.constant([1.0]))
