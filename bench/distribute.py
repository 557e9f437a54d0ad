"""Sharded steps on 8 simulated CPU devices: tfx (tx.experimental.dtensor layouts) against
jax.jit with NamedSharding on the same mesh and the same layouts.

    tp block:   a Megatron-style tensor-parallel transformer block on a 2x4 (batch x model)
                mesh: batch 8 (split on "batch"), seq 128, d_model 256, 8 heads, MLP 256-1024-256;
                Q/K/V and W1 split on their output dim (heads / hidden) over "model", Wo and W2
                on their input dim (so XLA's partitioner adds one all-reduce after each).
                Rows: forward, and forward + backward (loss = sum(y²), gradients of the six
                weights, each split like its weight).
    dp mlp:     a data-parallel MLP SGD step (784-512-512-10, global batch 256) on 8 replicas:
                tfx's MirroredStrategy + strategy.run (TF's custom-loop pattern, one SPMD
                program), jax.jit with the batch split by NamedSharding, TF's
                MirroredStrategy over 8 logical CPUs (when TensorFlow is installed), and tfx
                with 2 processes × 4 devices (MultiWorkerMirroredStrategy, gloo).

All 8 "devices" share the machine's real cores, so this measures the overhead of the sharded
path, not a speed-up. tfx's weights are DVariables captured by the function; jax's a pytree
argument with in_shardings. Every peer must agree with numpy (float64) first. Figures: the
median over `--calls` calls (each waits for its results) per round, rounds alternating the
peers; the median of the round medians is printed, and tfx/jax.jit.

Usage: python bench/distribute.py [--quick] [--calls N] [--rounds R]
"""
from __future__ import annotations

import os

# NOTE: before jax (or tfx) is imported: the CPU client reads the device count once
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_force_host_platform_device_count=8").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import statistics  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _report import fmt, median_call_time, ratio  # noqa: E402
from jax.sharding import NamedSharding, PartitionSpec  # noqa: E402

import tfx_core as tx  # noqa: E402

dt = tx.experimental.dtensor
U = dt.UNSHARDED
NAMES = ("wq", "wk", "wv", "wo", "w1", "w2")
# per weight: which dim "model" splits (Megatron: column-parallel, then row-parallel)
SPLIT = {"wq": 1, "wk": 1, "wv": 1, "wo": 0, "w1": 1, "w2": 0}


def block_data(quick: bool, seed: int = 0) -> tuple[dict, np.ndarray, int]:
    b, s, d, h, f = (8, 16, 64, 8, 128) if quick else (8, 128, 256, 8, 1024)
    rng = np.random.default_rng(seed)
    shapes = {"wq": (d, d), "wk": (d, d), "wv": (d, d), "wo": (d, d), "w1": (d, f),
              "w2": (f, d)}
    params = {n: (rng.standard_normal(shapes[n]) / np.sqrt(shapes[n][0])).astype(np.float32)
              for n in NAMES}
    return params, rng.standard_normal((b, s, d)).astype(np.float32), h


def np_block(p: dict, x: np.ndarray, heads: int) -> np.ndarray:
    b, s, d = x.shape

    def split(t):
        return t.reshape(b, s, heads, d // heads).transpose(0, 2, 1, 3)

    q, k, v = (split(x @ p[n]) for n in ("wq", "wk", "wv"))
    sc = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // heads)
    e = np.exp(sc - sc.max(-1, keepdims=True))
    o = ((e / e.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(b, s, d)
    h = x + o @ p["wo"]
    return h + np.maximum(h @ p["w1"], 0) @ p["w2"]


# ---------------------------------------------------------------- tfx
def tfx_block(p: dict, x, heads: int):
    b, s, d = x.shape

    def split(t):
        return tx.transpose(tx.reshape(t, [b, s, heads, d // heads]), [0, 2, 1, 3])

    q, k, v = (split(tx.matmul(x, p[n])) for n in ("wq", "wk", "wv"))
    att = tx.nn.softmax(tx.matmul(q, k, transpose_b=True) / float(np.sqrt(d // heads)), axis=-1)
    o = tx.reshape(tx.transpose(tx.matmul(att, v), [0, 2, 1, 3]), [b, s, d])
    h = x + tx.matmul(o, p["wo"])
    return h + tx.matmul(tx.nn.relu(tx.matmul(h, p["w1"])), p["w2"])


def make_tfx(params: dict, x: np.ndarray, heads: int, grad: bool):
    mesh = dt.create_mesh([("batch", 2), ("model", 4)])
    vs = {}
    for n in NAMES:
        specs = [U, U]
        specs[SPLIT[n]] = "model"
        vs[n] = dt.DVariable(tx.constant(params[n]), layout=dt.Layout(specs, mesh), name=n)
    xt = dt.copy_to_mesh(tx.constant(x), dt.Layout(["batch", U, U], mesh))

    @tx.function
    def forward(x):
        return tfx_block(vs, x, heads)

    @tx.function
    def step(x):
        with tx.GradientTape() as tape:
            y = tfx_block(vs, x, heads)
            loss = tx.reduce_sum(y * y)
        return loss, tape.gradient(loss, [vs[n] for n in NAMES])

    def wait(out):
        for t in jax.tree_util.tree_leaves(out):
            t._buf.block_until_ready()
        return out

    def value(out):
        return out.numpy() if not grad else [out[0].numpy()] + [g.numpy() for g in out[1]]

    f = step if grad else forward
    return (lambda: f(xt)), wait, value


# ---------------------------------------------------------------- jax
def jax_block(p: dict, x, heads: int):
    b, s, d = x.shape

    def split(t):
        return t.reshape(b, s, heads, d // heads).transpose(0, 2, 1, 3)

    q, k, v = (split(x @ p[n]) for n in ("wq", "wk", "wv"))
    att = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // heads), axis=-1)
    o = (att @ v).transpose(0, 2, 1, 3).reshape(b, s, d)
    h = x + o @ p["wo"]
    return h + jax.nn.relu(h @ p["w1"]) @ p["w2"]


def make_jax(params: dict, x: np.ndarray, heads: int, grad: bool):
    devs = np.array(jax.devices()[:8]).reshape(2, 4)
    mesh = jax.sharding.Mesh(devs, ("batch", "model"))
    shard = {n: NamedSharding(mesh, PartitionSpec(*[("model" if i == SPLIT[n] else None)
                                                    for i in range(2)])) for n in NAMES}
    x_sh = NamedSharding(mesh, PartitionSpec("batch", None, None))
    pj = {n: jax.device_put(params[n], shard[n]) for n in NAMES}
    xj = jax.device_put(x, x_sh)

    def loss(p, x):
        y = jax_block(p, x, heads)
        return jnp.sum(y * y)

    def step(p, x):
        val, g = jax.value_and_grad(loss)(p, x)
        return val, [g[n] for n in NAMES]

    fn = step if grad else (lambda p, x: jax_block(p, x, heads))
    f = jax.jit(fn, in_shardings=(shard, x_sh))

    def value(out):
        return np.asarray(out) if not grad else [np.asarray(out[0])] + [np.asarray(g)
                                                                        for g in out[1]]

    return (lambda: f(pj, xj)), jax.block_until_ready, value


# ---------------------------------------------------------------- checking and timing
def reference(params: dict, x: np.ndarray, heads: int, grad: bool) -> list[np.ndarray]:
    """numpy (float64): the forward's output, or the step's loss (the step's gradients are
    checked tfx against jax instead, below)."""
    p64 = {n: v.astype(np.float64) for n, v in params.items()}
    y = np_block(p64, x.astype(np.float64), heads)
    return [np.sum(y * y)] if grad else [y]


def agree(got: list[np.ndarray], want: list[np.ndarray], what: str) -> None:
    for g, w in zip(got, want):
        err = float(np.max(np.abs(np.asarray(g, np.float64) - w)) / (np.max(np.abs(w)) + 1e-30))
        if err > 1e-3:
            raise SystemExit(f"{what} disagrees with its reference (max rel err {err:.2e})")


timed_round = median_call_time


def bench_block(quick: bool, grad: bool, calls: int, rounds: int) -> dict[str, float]:
    params, x, heads = block_data(quick)
    want = reference(params, x, heads, grad)
    runs = {}
    for peer, make in (("tfx", make_tfx), ("jax.jit", make_jax)):
        call, wait, value = make(params, x, heads, grad)
        got = value(wait(call()))  # compiles; checked before any timing
        agree(got if grad else [got], want, f"{peer} {'step' if grad else 'forward'}")
        runs[peer] = (call, wait, got)
    if grad:  # gradients: tfx against jax (same float32 math, same layouts)
        agree(runs["tfx"][2][1:], [np.asarray(g, np.float64) for g in runs["jax.jit"][2][1:]],
              "tfx gradients vs jax's")
    medians: dict[str, list[float]] = {p: [] for p in runs}
    for _ in range(rounds):  # alternating rounds: load drift hits both peers alike
        for peer, (call, wait, _) in runs.items():
            medians[peer].append(timed_round(call, wait, calls))
    return {p: statistics.median(m) for p, m in medians.items()}


# ---------------------------------------------------------------- data-parallel MLP
def mlp_data(quick: bool, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    b, sizes = (32, (16, 32, 32, 4)) if quick else (256, (784, 512, 512, 10))
    rng = np.random.default_rng(seed)
    ws = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        ws += [(rng.normal(size=(i, o)) / np.sqrt(i)).astype(np.float32),
               np.zeros(o, np.float32)]
    x = rng.normal(size=(b, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], b).astype(np.int32)
    return ws, x, y


LR = 0.01


def make_tfx_dp(ws: list[np.ndarray], x: np.ndarray, y: np.ndarray, strategy=None):
    """strategy.run of a per-replica SGD step (TF's custom-loop pattern): one SPMD program."""
    strategy = strategy or tx.distribute.MirroredStrategy()
    with strategy.scope():
        params = [tx.Variable(w) for w in ws]
        opt = tx.optimizers.SGD(LR)
    gb = x.shape[0]

    def replica_step(xb, yb):
        with tx.GradientTape() as tape:
            h = xb
            for i in range(0, len(params) - 2, 2):
                h = tx.nn.relu(tx.matmul(h, params[i]) + params[i + 1])
            logits = tx.matmul(h, params[-2]) + params[-1]
            per = tx.nn.sparse_softmax_cross_entropy_with_logits(yb, logits)
            loss = tx.nn.compute_average_loss(per, global_batch_size=gb)
        opt.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss

    @tx.function
    def step(xb, yb):
        return strategy.reduce("SUM", strategy.run(replica_step, args=(xb, yb)), axis=None)

    xs, ys = strategy.split_batch((tx.constant(x), tx.constant(y)))
    return (lambda: step(xs, ys)), (lambda out: out._buf.block_until_ready()), params


def make_jax_dp(ws: list[np.ndarray], x: np.ndarray, y: np.ndarray):
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:8]), ("replica",))
    rep = NamedSharding(mesh, PartitionSpec())
    split = NamedSharding(mesh, PartitionSpec("replica"))
    params = [jax.device_put(w, rep) for w in ws]
    xs, ys = jax.device_put(x, split), jax.device_put(y, split)

    def loss_fn(p, xb, yb):
        h = xb
        for i in range(0, len(p) - 2, 2):
            h = jax.nn.relu(h @ p[i] + p[i + 1])
        logits = h @ p[-2] + p[-1]
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    @jax.jit
    def step(p, xb, yb):
        loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)
        return loss, [a - LR * b for a, b in zip(p, g)]

    state = {"p": params}

    def call():
        loss, state["p"] = step(state["p"], xs, ys)
        return loss

    return call, (lambda out: out.block_until_ready())


def make_tf_dp(ws: list[np.ndarray], x: np.ndarray, y: np.ndarray):
    """tf.distribute.MirroredStrategy over 8 logical CPU devices (None without TensorFlow)."""
    try:
        import tensorflow as tf
    except ImportError:
        return None
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * 8)
    except RuntimeError:  # already initialized
        pass
    devices = [d.name for d in tf.config.list_logical_devices("CPU")][:8]
    if len(devices) < 8:
        return None
    strategy = tf.distribute.MirroredStrategy(devices)
    with strategy.scope():
        params = [tf.Variable(w) for w in ws]
        opt = tf.keras.optimizers.SGD(LR)
    gb = x.shape[0]

    def replica_step(xb, yb):
        with tf.GradientTape() as tape:
            h = xb
            for i in range(0, len(params) - 2, 2):
                h = tf.nn.relu(tf.matmul(h, params[i]) + params[i + 1])
            logits = tf.matmul(h, params[-2]) + params[-1]
            per = tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits)
            loss = tf.nn.compute_average_loss(per, global_batch_size=gb)
        opt.apply_gradients(zip(tape.gradient(loss, params), params))
        return loss

    ds = tf.data.Dataset.from_tensors((x, y)).repeat()
    it = iter(strategy.experimental_distribute_dataset(ds))
    batch = next(it)

    @tf.function
    def step(b):
        return strategy.reduce("SUM", strategy.run(replica_step, args=b), axis=None)

    return (lambda: step(batch)), (lambda out: out.numpy())


def data_parallel_mlp(quick: bool, calls: int, rounds: int) -> dict[str, float]:
    """The data-parallel MLP SGD step on 8 replicas: tfx (MirroredStrategy, strategy.run),
    jax.jit (batch split by NamedSharding, params replicated), TF's MirroredStrategy."""
    ws, x, y = mlp_data(quick)
    tfx_call, tfx_wait, _ = make_tfx_dp(ws, x, y)
    jax_call, jax_wait = make_jax_dp(ws, x, y)
    first = {"tfx": float(np.asarray(tfx_call()._buf)),
             "jax.jit": float(jax_call())}
    if abs(first["tfx"] - first["jax.jit"]) > 1e-4 * max(1.0, abs(first["jax.jit"])):
        raise SystemExit(f"dp mlp: first losses differ: {first}")
    runs = {"tfx": (tfx_call, tfx_wait), "jax.jit": (jax_call, jax_wait)}
    tf_run = make_tf_dp(ws, x, y)
    if tf_run is not None:
        tf_run[0]()  # trace
        runs["tf MirroredStrategy"] = tf_run
    medians: dict[str, list[float]] = {p: [] for p in runs}
    for _ in range(rounds):
        for peer, (call, wait) in runs.items():
            medians[peer].append(timed_round(call, wait, calls))
    out = {p: statistics.median(m) for p, m in medians.items()}
    out.setdefault("tf MirroredStrategy", float("nan"))
    return out


# ---------------------------------------------------------------- two processes
def two_process_worker(index: int, port: int, quick: bool, calls: int) -> None:
    """One of two processes × 4 devices (TF_CONFIG): the same DP step, timed; prints ms."""
    import json

    os.environ["TF_CONFIG"] = json.dumps({
        "cluster": {"worker": [f"localhost:{port}", f"localhost:{port + 1}"]},
        "task": {"type": "worker", "index": index}})
    strategy = tx.distribute.MultiWorkerMirroredStrategy()
    ws, x, y = mlp_data(quick)
    call, wait, _ = make_tfx_dp(ws, x, y, strategy)
    wait(call())
    times = [timed_round(call, wait, calls) for _ in range(3)]
    print(f"STEP_MS {statistics.median(times) * 1e3:.3f}", flush=True)


def two_processes(quick: bool, calls: int) -> float:
    """The DP step's time with 2 processes × 4 devices (gloo between them), seconds."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    cmd = [sys.executable, __file__, "--worker", "{}", "--port", str(port), "--calls",
           str(calls)] + (["--quick"] if quick else [])
    procs = [subprocess.Popen([c.replace("{}", str(i)) for c in cmd], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in (0, 1)]
    outs = [p.communicate(timeout=600) for p in procs]
    ms = []
    for p, (out, err) in zip(procs, outs):
        lines = [ln for ln in out.splitlines() if ln.startswith("STEP_MS ")]
        if p.returncode or not lines:
            raise SystemExit(f"two-process worker failed:\n{err[-3000:]}")
        ms.append(float(lines[-1].split()[1]))
    return max(ms) / 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small shapes, a few calls (smoke)")
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    calls, rounds = (3, 2) if args.quick else (args.calls, args.rounds)
    if args.worker is not None:
        two_process_worker(args.worker, args.port, args.quick, calls)
        return
    if len(jax.devices()) < 8:
        raise SystemExit(f"needs 8 devices, jax sees {len(jax.devices())} (XLA_FLAGS?)")
    print(f"8 simulated CPU devices; median of {calls} calls per round, median of {rounds} "
          "alternating rounds; ms")
    print()
    print("| step | mesh | tfx | jax.jit | tfx/jax.jit |")
    print("|---|---|---|---|---|")
    for label, grad in (("tp block forward", False), ("tp block fwd+bwd", True)):
        r = bench_block(args.quick, grad, calls, rounds)
        print(f"| {label} | batch 2 × model 4 | {fmt(r['tfx'])} | {fmt(r['jax.jit'])} | "
              f"{ratio(r['tfx'], r['jax.jit'])} |")
    dp = data_parallel_mlp(args.quick, calls, rounds)
    print(f"| dp mlp SGD step | replica 8 | {fmt(dp['tfx'])} | {fmt(dp['jax.jit'])} | "
          f"{ratio(dp['tfx'], dp['jax.jit'])} |")
    print()
    print("| dp mlp SGD step | ms | vs tfx |")
    print("|---|---|---|")
    print(f"| tf.distribute.MirroredStrategy (8 logical CPUs) | "
          f"{fmt(dp['tf MirroredStrategy'])} | {ratio(dp['tf MirroredStrategy'], dp['tfx'])} |")
    two = two_processes(args.quick, calls)
    print(f"| tfx, 2 processes × 4 devices (gloo) | {fmt(two)} | {ratio(two, dp['tfx'])} |")


if __name__ == "__main__":
    main()
