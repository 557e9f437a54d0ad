"""Sharded steps on 8 simulated CPU devices: tfx (tx.experimental.dtensor layouts) against
jax.jit with NamedSharding on the same mesh and the same layouts.

    tp block:   a Megatron-style tensor-parallel transformer block on a 2x4 (batch x model)
                mesh: batch 8 (split on "batch"), seq 128, d_model 256, 8 heads, MLP 256-1024-256;
                Q/K/V and W1 split on their output dim (heads / hidden) over "model", Wo and W2
                on their input dim (so XLA's partitioner adds one all-reduce after each).
                Rows: forward, and forward + backward (loss = sum(y²), gradients of the six
                weights, each split like its weight).
    dp mlp:     the data-parallel MLP step (tx.distribute.MirroredStrategy): PENDING, the
                lead adds it (see `data_parallel_mlp` below).

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
import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _report import fmt, ratio  # noqa: E402
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


def timed_round(call: Callable, wait: Callable, n: int) -> float:
    times = []
    gc.disable()
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            wait(call())
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return statistics.median(times)


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


def data_parallel_mlp(quick: bool, calls: int, rounds: int) -> dict[str, float] | None:
    """PENDING (lead): the data-parallel MLP training step with tx.distribute.MirroredStrategy
    over the 8 devices against jax.jit with the batch split on NamedSharding; return
    {"tfx": seconds, "jax.jit": seconds}. None prints the row as pending."""
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small shapes, a few calls (smoke)")
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    calls, rounds = (3, 2) if args.quick else (args.calls, args.rounds)
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
    if dp is None:
        print("| dp mlp step | replica 8 | pending | pending | pending |")
    else:
        print(f"| dp mlp step | replica 8 | {fmt(dp['tfx'])} | {fmt(dp['jax.jit'])} | "
              f"{ratio(dp['tfx'], dp['jax.jit'])} |")


if __name__ == "__main__":
    main()
