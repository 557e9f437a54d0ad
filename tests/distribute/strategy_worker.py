"""Runs tx.distribute strategy checks on 8 simulated CPU devices and prints one JSON line
("RESULT {...}") for tests/distribute/test_strategy.py. Run with
XLA_FLAGS=--xla_force_host_platform_device_count=8."""
from __future__ import annotations

import json
import traceback

import numpy as np

import tfx_core as tx

STEPS = 20
RESULTS: dict = {}


def check(fn):
    try:
        RESULTS[fn.__name__] = fn()
    except Exception as e:  # reported, not raised: the other checks still run
        RESULTS[fn.__name__] = {"crashed": f"{type(e).__name__}: {e}\n"
                                           f"{traceback.format_exc()[-2000:]}"}
    return fn


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(STEPS * 32, 10)).astype(np.float32)
    y = rng.integers(0, 3, STEPS * 32).astype(np.int32)
    w1 = (rng.normal(size=(10, 32)) * 0.3).astype(np.float32)
    w2 = (rng.normal(size=(32, 3)) * 0.3).astype(np.float32)
    return x, y, w1, w2


def _mlp_losses(strategy):
    """20 steps of an MLP with a custom loop: strategy.run + all-reduced SGD (or plain)."""
    x, y, w1_0, w2_0 = _data()
    scope = strategy.scope() if strategy is not None else _Null()
    with scope:
        w1, b1 = tx.Variable(w1_0), tx.Variable(np.zeros(32, np.float32))
        w2 = tx.Variable(w2_0)
        opt = tx.optimizers.SGD(0.2, momentum=0.9)
    params = [w1, b1, w2]

    def replica_step(xb, yb):
        with tx.GradientTape() as tape:
            h = tx.nn.relu(tx.matmul(xb, w1) + b1)
            per = tx.nn.sparse_softmax_cross_entropy_with_logits(yb, tx.matmul(h, w2))
            loss = tx.nn.compute_average_loss(per, global_batch_size=32)
        opt.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss

    @tx.function
    def step(xb, yb):
        if strategy is None:
            return replica_step(xb, yb)
        per = strategy.run(replica_step, args=(xb, yb))
        return strategy.reduce("SUM", per, axis=None)

    ds = tx.data.Dataset.from_tensor_slices((x, y)).batch(32, drop_remainder=True)
    batches = strategy.experimental_distribute_dataset(ds) if strategy else ds
    losses = [float(step(*b)) for b in batches]
    return losses, params, step


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return None


@check
def data_parallel_mlp():
    strategy = tx.distribute.MirroredStrategy()
    dp, params, step = _mlp_losses(strategy)
    single, ref_params, _ = _mlp_losses(None)
    dt = tx.experimental.dtensor
    # every replica holds the same weights (the all-reduced update ran on each)
    same = all(all(np.array_equal(p.numpy(), c.numpy()) for c in dt.unpack(p)) for p in params)
    layouts = [dt.fetch_layout(p).sharding_specs for p in params]
    explain = step.get_concrete_function(*next(iter(strategy.experimental_distribute_dataset(
        tx.data.Dataset.from_tensor_slices(_data()[:2]).batch(32))))).explain() \
        if hasattr(step, "get_concrete_function") else ""
    return {"replicas": strategy.num_replicas_in_sync, "dp": dp, "single": single,
            "replicas_equal": same, "layouts": layouts,
            "weight_err": max(float(np.abs(p.numpy() - r.numpy()).max())
                              for p, r in zip(params, ref_params)),
            "all_reduce_in_explain": "all-reduce" in explain}


@check
def replica_context():
    s = tx.distribute.MirroredStrategy()
    n = s.num_replicas_in_sync

    def fn(v):
        ctx = tx.distribute.get_replica_context()
        rid = ctx.replica_id_in_sync_group
        return (tx.cast(rid, tx.float32) + v[0, 0] * 0,
                ctx.all_reduce("SUM", tx.cast(rid, tx.float32)),
                ctx.all_reduce("MEAN", v), ctx.num_replicas_in_sync)

    x = np.arange(n * 2 * 3, dtype=np.float32).reshape(n * 2, 3)
    ids, total, mean, num = s.run(fn, args=(s.split_batch(tx.constant(x)),))
    local = [t.numpy().tolist() for t in s.experimental_local_results(ids)]
    red_sum = s.reduce("SUM", ids, axis=None).numpy().tolist()
    red_mean_axis = s.reduce("MEAN", s.split_batch(tx.constant(x)), axis=0).numpy().tolist()
    return {"n": n, "ids": local, "total": s.experimental_local_results(total)[0].numpy().tolist(),
            "mean": s.experimental_local_results(mean)[0].numpy().tolist(),
            "expected_mean": x.reshape(n, 2, 3).mean(0).tolist(),
            "num": s.experimental_local_results(num)[0].numpy().tolist(),
            "reduce_sum": red_sum, "reduce_mean_axis0": red_mean_axis,
            "expected_mean_axis0": x.mean(0).tolist(),
            "in_cross_replica": tx.distribute.in_cross_replica_context()}


@check
def keras_fit():
    keras = tx.keras
    rng = np.random.default_rng(1)
    x = rng.normal(size=(128, 10)).astype(np.float32)
    y = rng.integers(0, 3, 128)
    out = {}
    for name, strategy in (("mirrored", tx.distribute.MirroredStrategy()), ("single", None)):
        scope = strategy.scope() if strategy is not None else _Null()
        with scope:
            keras.utils.set_random_seed(3)
            model = keras.Sequential([keras.layers.Dense(16, activation="relu"),
                                      keras.layers.Dense(3)])
            model.build((None, 10))
            model.compile(optimizer=keras.optimizers.SGD(0.1),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        hist = model.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
        out[name] = hist.history["loss"]
        if strategy is not None:
            out["layout"] = tx.experimental.dtensor.fetch_layout(model.weights[0]).sharding_specs
    return out


@check
def datasets_from_function():
    s = tx.distribute.MirroredStrategy()
    seen = []

    def dataset_fn(ctx):
        seen.append((ctx.num_replicas_in_sync, ctx.get_per_replica_batch_size(16)))
        return tx.data.Dataset.from_tensor_slices(np.arange(32, dtype=np.float32)).batch(2)

    got = [s.reduce("SUM", s.run(lambda v: tx.reduce_sum(v), args=(b,)), axis=None).numpy()
           .tolist() for b in s.distribute_datasets_from_function(dataset_fn)]
    return {"seen": seen, "sums": got}


@check
def errors():
    s = tx.distribute.MirroredStrategy()
    out = {}
    try:
        s.split_batch(tx.constant(np.zeros((12, 2), np.float32)))
    except Exception as e:
        out["indivisible"] = f"{type(e).__name__}: {e}"
    try:
        s.reduce("SUM", tx.constant(1.0))
    except Exception as e:
        out["sum_of_plain"] = f"{type(e).__name__}: {e}"
    return out


@check
def eager_tape_over_sharded_call():
    dt = tx.experimental.dtensor
    mesh = dt.create_mesh([("x", 8)])
    a_np = np.random.default_rng(2).normal(size=(16, 4)).astype(np.float32)
    w = tx.Variable(np.ones((4, 3), np.float32))

    @tx.function
    def f(a):
        return tx.reduce_sum(tx.tanh(tx.matmul(a, w)))

    grads = []
    for a in (dt.copy_to_mesh(tx.constant(a_np), dt.Layout(["x", dt.UNSHARDED], mesh)),
              tx.constant(a_np)):
        with tx.GradientTape() as tape:
            y = f(a)
        grads.append(tape.gradient(y, w).numpy())
    return {"err": float(np.abs(grads[0] - grads[1]).max())}


@check
def mesh_hygiene():
    from runtime import sharding

    dt = tx.experimental.dtensor
    mesh = dt.create_mesh([("x", 8)])
    col = dt.Layout([dt.UNSHARDED, "x"], mesh)
    w = tx.Variable(dt.copy_to_mesh(tx.constant(np.ones((4, 16), np.float32)), col))
    w.assign(tx.zeros([4, 16]))  # a one-device value: w keeps its layout (as TF's DTensor)
    opt = tx.optimizers.Adam(0.1)
    x = dt.copy_to_mesh(tx.constant(np.ones((8, 4), np.float32)),
                        dt.Layout(["x", dt.UNSHARDED], mesh))

    @tx.function
    def step(x):
        with tx.GradientTape() as t:
            loss = tx.reduce_sum(tx.matmul(x, w) ** 2)
        opt.apply_gradients([(t.gradient(loss, w), w)])
        return loss

    # 400 calls with collectives queued without waiting: XLA:CPU deadlocks past ~200 unless
    # the runtime bounds the calls in flight
    for _ in range(400):
        loss = step(x)
    slots = [dt.fetch_layout(v).sharding_specs for v in opt.variables if len(v.shape) == 2]
    try:
        sharding.devices_of(sharding.MeshSpec(("x",), (2,), (0, 99)))
        missing = "no error"
    except Exception as e:
        missing = f"{type(e).__name__}: {e}"
    return {"w_layout": dt.fetch_layout(w).sharding_specs, "slots": slots,
            "loss": float(loss), "missing": missing}


print("RESULT " + json.dumps(RESULTS))
