"""One SGD training step of an MLP, compiled: tfx vs jax.jit vs tf.function(jit_compile=True).

    MLP 784-512-512-10, ReLU, batch 128, sparse softmax cross-entropy, SGD (lr 0.01)

- tfx: `@tx.function` around GradientTape + `tx.optimizers.SGD.apply_gradients` over
  `tx.Variable`s: forward, backward and update compile into one XLA executable, with the
  variables' buffers donated (updated in place).
- jax: `jax.jit(step, donate_argnums=0)` where step = value_and_grad + the SGD update on a
  params pytree (the idiomatic equivalent).
- tf: `tf.function(jit_compile=True)` with GradientTape and `v.assign_sub(lr * g)` per variable.

All three start from the same weights and data. "first call" is trace + compile + the first
step (a fresh function in a fresh state, after clearing compile caches; tfx's persistent
disk cache is off). "step" is the median
of the steady-state step time (each step waits for its loss). Ratios are tfx / peer.

Usage: python bench/train_step.py [--quick] [--steps N] [--no-tf]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _report import fmt, ratio  # noqa: E402

import tfx_core as tx  # noqa: E402
from runtime import cache as rt_cache  # noqa: E402

# these figures are XLA compiles: keep the persistent compile cache out of them
tx.config.set_compile_cache_dir(None)

HEADER = "| | tfx | jax.jit | tf.function | tfx/jax | tfx/tf |"
SIZES = (784, 512, 512, 10)
BATCH = 128
LR = 0.01


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        w = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(np.float32)
        params.append((w, np.zeros(fan_out, np.float32)))
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH).astype(np.int32)
    return params, x, y


# ---------------------------------------------------------------- tfx
def tfx_step(params):
    vs = [tx.Variable(a, name=f"p{i}") for i, a in enumerate(np.asarray(p) for wb in params
                                                             for p in wb)]
    opt = tx.optimizers.SGD(LR)

    @tx.function
    def step(x, y):
        with tx.GradientTape() as tape:
            h = x
            for i in range(0, len(vs), 2):
                h = tx.matmul(h, vs[i]) + vs[i + 1]
                if i + 2 < len(vs):
                    h = tx.nn.relu(h)
            loss = tx.reduce_mean(tx.nn.sparse_softmax_cross_entropy_with_logits(y, h))
        grads = tape.gradient(loss, vs)
        opt.apply_gradients(zip(grads, vs))
        return loss

    x_t, y_t = None, None

    def run(x, y):
        nonlocal x_t, y_t
        if x_t is None:
            x_t, y_t = tx.constant(x), tx.constant(y)
        return float(step(x_t, y_t))

    return run


# ---------------------------------------------------------------- jax
def jax_step(params):
    state = [[jax.device_put(p) for p in wb] for wb in params]

    def loss_fn(ps, x, y):
        h = x
        for i, (w, b) in enumerate(ps):
            h = h @ w + b
            if i + 1 < len(ps):
                h = jax.nn.relu(h)
        logp = jax.nn.log_softmax(h)
        return -jax.numpy.mean(jax.numpy.take_along_axis(logp, y[:, None], axis=1))

    def step(ps, x, y):
        loss, g = jax.value_and_grad(loss_fn)(ps, x, y)
        return jax.tree_util.tree_map(lambda p, d: p - LR * d, ps, g), loss

    jitted = jax.jit(step, donate_argnums=0)
    x_j, y_j = None, None

    def run(x, y):
        nonlocal state, x_j, y_j
        if x_j is None:
            x_j, y_j = jax.device_put(x), jax.device_put(y)
        state, loss = jitted(state, x_j, y_j)
        return float(loss)

    return run


# ---------------------------------------------------------------- tf
def tf_step(params):
    try:
        import tensorflow as tf
    except Exception:
        return None
    vs = [tf.Variable(p) for wb in params for p in wb]

    @tf.function(jit_compile=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            h = x
            for i in range(0, len(vs), 2):
                h = tf.matmul(h, vs[i]) + vs[i + 1]
                if i + 2 < len(vs):
                    h = tf.nn.relu(h)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, h))
        grads = tape.gradient(loss, vs)
        for v, g in zip(vs, grads):
            v.assign_sub(LR * g)
        return loss

    x_t, y_t = None, None

    def run(x, y):
        nonlocal x_t, y_t
        if x_t is None:
            x_t, y_t = tf.constant(x), tf.constant(y)
        return float(step(x_t, y_t))

    return run


# ---------------------------------------------------------------- measuring
def first_call(make, params, x, y) -> tuple[float, object]:
    rt_cache.MEMORY_CACHE.clear()
    jax.clear_caches()
    run = make(params)
    if run is None:
        return float("nan"), None
    t0 = time.perf_counter()
    run(x, y)
    return time.perf_counter() - t0, run


def steady(run, x, y, steps: int) -> float:
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        run(x, y)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few steps (smoke test)")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--no-tf", action="store_true", help="skip TensorFlow")
    args = ap.parse_args()
    steps = 5 if args.quick else args.steps
    params, x, y = make_data()

    makers = {"tfx": tfx_step, "jax": jax_step, "tf": (lambda p: None) if args.no_tf else tf_step}
    # One warm-up of each framework pays process-level start-up (not reported).
    for make in makers.values():
        first_call(make, params, x, y)

    firsts, runs, losses = {}, {}, {}
    for name, make in makers.items():
        firsts[name], runs[name] = first_call(make, params, x, y)
        if runs[name] is not None:
            losses[name] = [runs[name](x, y) for _ in range(3)]
    step_t = {}
    for _ in range(2):  # interleave rounds so drifting machine load hits everyone alike
        for name, run in runs.items():
            if run is not None:
                t = steady(run, x, y, steps)
                step_t[name] = min(step_t.get(name, float("inf")), t)
    for name in makers:
        step_t.setdefault(name, float("nan"))

    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, SGD; median of {steps} steps, "
          "best of 2 rounds")
    print()
    print(HEADER)
    print("|---|---|---|---|---|---|")
    print(f"| steady-state step (ms) | {fmt(step_t['tfx'])} | {fmt(step_t['jax'])} | "
          f"{fmt(step_t['tf'])} | {ratio(step_t['tfx'], step_t['jax'])} | "
          f"{ratio(step_t['tfx'], step_t['tf'])} |")
    print(f"| first call (ms) | {fmt(firsts['tfx'])} | {fmt(firsts['jax'])} | "
          f"{fmt(firsts['tf'])} | {ratio(firsts['tfx'], firsts['jax'])} | "
          f"{ratio(firsts['tfx'], firsts['tf'])} |")
    print()
    shown = {k: ", ".join(f"{v:.5f}" for v in vs) for k, vs in losses.items()}
    print("losses of steps 2-4 (same data and weights):", shown)


if __name__ == "__main__":
    main()
