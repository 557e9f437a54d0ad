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

Second table, a compiled model called under an EAGER tape (the usual custom training loop):
`with tx.GradientTape() as tape: loss = compiled_model(x, y)`, `tape.gradient`, then an eager
`SGD.apply_gradients`, on a 50-layer chain `h + 0.5*tanh(h @ W)` (f32[8,64]) and on the MLP. tfx
records the call as one op: one forward executable (results + residuals) and one backward
executable. Peers: TF graph mode (the whole step, tape inside `tf.function`), the same with
`jit_compile=True`, TF's own eager tape over a `tf.function` model, and `jax.jit` of grad + update.
"op by op" is tfx's old path for this pattern (the body run op by op on the tape), measured with
`tx.config.run_functions_eagerly(True)`.

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
def jax_loss(ps, x, y):
    """The MLP's mean sparse softmax cross-entropy, in JAX."""
    h = x
    for i, (w, b) in enumerate(ps):
        h = h @ w + b
        if i + 1 < len(ps):
            h = jax.nn.relu(h)
    logp = jax.nn.log_softmax(h)
    return -jax.numpy.mean(jax.numpy.take_along_axis(logp, y[:, None], axis=1))


def jax_sgd_step(ps, x, y):
    """One SGD step on a params pytree: (new params, loss)."""
    loss, g = jax.value_and_grad(jax_loss)(ps, x, y)
    return jax.tree_util.tree_map(lambda p, d: p - LR * d, ps, g), loss


def jax_step(params):
    state = [[jax.device_put(p) for p in wb] for wb in params]
    jitted = jax.jit(jax_sgd_step, donate_argnums=0)
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


# ---------------------------------------------------------------- under an eager tape
CHAIN_LAYERS, CHAIN_WIDTH, CHAIN_BATCH = 50, 64, 8


def tape_data(kind: str, seed: int = 1):
    """Flat weights, x, y for the chain or the MLP."""
    if kind == "mlp":
        params, x, y = make_data(seed)
        return [p for wb in params for p in wb], x, y
    rng = np.random.default_rng(seed)
    ws = [(rng.standard_normal((CHAIN_WIDTH, CHAIN_WIDTH)) * 0.1).astype(np.float32)
          for _ in range(CHAIN_LAYERS)]
    x = rng.standard_normal((CHAIN_BATCH, CHAIN_WIDTH)).astype(np.float32)
    return ws, x, np.zeros(CHAIN_BATCH, np.int32)


def model_loss(lib, kind: str, vs, x, y):
    """The loss in tfx or TF (the same API)."""
    h = x
    if kind == "chain":
        for w in vs:
            h = h + 0.5 * lib.tanh(lib.matmul(h, w))
        return lib.reduce_mean(h * h)
    for i in range(0, len(vs), 2):
        h = lib.matmul(h, vs[i]) + vs[i + 1]
        if i + 2 < len(vs):
            h = lib.nn.relu(h)
    return lib.reduce_mean(lib.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))


def tfx_tape_step(kind: str, op_by_op: bool = False):
    ws, x, y = tape_data(kind)
    vs = [tx.Variable(w) for w in ws]
    opt = tx.optimizers.SGD(LR)
    model = tx.function(lambda x, y: model_loss(tx, kind, vs, x, y))
    x_t, y_t = tx.constant(x), tx.constant(y)

    def run():
        tx.config.run_functions_eagerly(op_by_op)
        try:
            with tx.GradientTape() as tape:
                loss = model(x_t, y_t)
            grads = tape.gradient(loss, vs)
            opt.apply_gradients(zip(grads, vs))
        finally:
            tx.config.run_functions_eagerly(False)
        return float(loss)

    return run


def tf_tape_step(kind: str, mode: str):
    """mode: "graph" (tape inside tf.function), "xla" (the same, jit_compile), "eager" (TF's
    eager tape over a tf.function model, the pattern tfx runs)."""
    try:
        import tensorflow as tf
    except Exception:
        return None
    ws, x, y = tape_data(kind)
    vs = [tf.Variable(w) for w in ws]
    x_t, y_t = tf.constant(x), tf.constant(y)
    if mode == "eager":
        model = tf.function(lambda x, y: model_loss(tf, kind, vs, x, y))
        opt = tf.keras.optimizers.SGD(LR)

        def run():
            with tf.GradientTape() as tape:
                loss = model(x_t, y_t)
            grads = tape.gradient(loss, vs)
            opt.apply_gradients(zip(grads, vs))
            return float(loss)

        return run

    @tf.function(jit_compile=mode == "xla")
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = model_loss(tf, kind, vs, x, y)
        grads = tape.gradient(loss, vs)
        for v, g in zip(vs, grads):
            v.assign_sub(LR * g)
        return loss

    return lambda: float(step(x_t, y_t))


def jax_tape_step(kind: str):
    ws, x, y = tape_data(kind)
    jnp = jax.numpy

    def loss_fn(ps, x, y):
        h = x
        if kind == "chain":
            for w in ps:
                h = h + 0.5 * jnp.tanh(h @ w)
            return jnp.mean(h * h)
        for i in range(0, len(ps), 2):
            h = h @ ps[i] + ps[i + 1]
            if i + 2 < len(ps):
                h = jax.nn.relu(h)
        logp = jax.nn.log_softmax(h)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def step(ps, x, y):
        loss, g = jax.value_and_grad(loss_fn)(ps, x, y)
        return [p - LR * d for p, d in zip(ps, g)], loss

    jitted = jax.jit(step, donate_argnums=0)
    state = [jax.device_put(w) for w in ws]
    x_j, y_j = jax.device_put(x), jax.device_put(y)

    def run():
        nonlocal state
        state, loss = jitted(state, x_j, y_j)
        return float(loss)

    return run


TAPE_HEADER = ("| model | tfx under tape | tfx op by op (before) | TF graph | tf.function(jit) | "
               "TF eager tape | jax.jit(grad) | tfx/TF graph | tfx/TF jit | tfx/TF eager tape | "
               "tfx/jax |")


def tape_table(steps: int, no_tf: bool, quick: bool = False) -> None:
    """Median ms per step of the eager-tape pattern, and the ratios (--quick: one warm-up call,
    one round, one op-by-op step: the smoke test only needs the table)."""
    warm, rounds = (1, 1) if quick else (3, 2)
    print()
    print(f"Compiled model under an eager GradientTape + eager SGD update; median of {steps} "
          f"steps (ms), best of {rounds} round(s)")
    print()
    print(TAPE_HEADER)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("chain", "mlp"):
        runs = {"tfx": tfx_tape_step(kind), "op": tfx_tape_step(kind, op_by_op=True),
                "jax": jax_tape_step(kind)}
        for mode in ("graph", "xla", "eager"):
            runs[mode] = None if no_tf else tf_tape_step(kind, mode)
        for run in runs.values():
            if run is not None:
                for _ in range(warm):  # compile, and warm up
                    run()
        best = {k: float("nan") for k in runs}
        op_steps = 1 if quick else max(3, steps // 10)  # the old path is slow: fewer steps
        for _ in range(rounds):
            for k, run in runs.items():
                if run is None:
                    continue
                times = []
                for _ in range(op_steps if k == "op" else steps):
                    t0 = time.perf_counter()
                    run()
                    times.append(time.perf_counter() - t0)
                t = statistics.median(times)
                best[k] = t if best[k] != best[k] else min(best[k], t)
        name = f"chain {CHAIN_LAYERS}x f32[{CHAIN_BATCH},{CHAIN_WIDTH}]" if kind == "chain" \
            else f"MLP {'-'.join(map(str, SIZES))}"
        print(f"| {name} | {fmt(best['tfx'])} | {fmt(best['op'])} | {fmt(best['graph'])} | "
              f"{fmt(best['xla'])} | {fmt(best['eager'])} | {fmt(best['jax'])} | "
              f"{ratio(best['tfx'], best['graph'])} | {ratio(best['tfx'], best['xla'])} | "
              f"{ratio(best['tfx'], best['eager'])} | {ratio(best['tfx'], best['jax'])} |")


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
    # One warm-up of each framework pays process-level start-up (not reported; --quick skips
    # it, so its first calls include that start-up).
    for make in () if args.quick else makers.values():
        first_call(make, params, x, y)

    firsts, runs, losses = {}, {}, {}
    for name, make in makers.items():
        firsts[name], runs[name] = first_call(make, params, x, y)
        if runs[name] is not None:
            losses[name] = [runs[name](x, y) for _ in range(3)]
    step_t = {}
    rounds = 1 if args.quick else 2
    for _ in range(rounds):  # interleave rounds so drifting machine load hits everyone alike
        for name, run in runs.items():
            if run is not None:
                t = steady(run, x, y, steps)
                step_t[name] = min(step_t.get(name, float("inf")), t)
    for name in makers:
        step_t.setdefault(name, float("nan"))

    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, SGD; median of {steps} steps, "
          f"best of {rounds} round(s)")
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
    tape_table(steps, args.no_tf, args.quick)


if __name__ == "__main__":
    main()
