"""RNN gradients (fwd+bwd), compiled: tfx vs jax.jit(jax.grad(jax.lax.scan)) at several T.

    lstm:  tx.keras.layers.LSTM(64, return_sequences=True) on x f32[32, T, 32]; loss = sum of
           squares of every output; gradients of the kernel, recurrent kernel, bias and x.
    rnn:   a hand loop: tx.while_loop over t writing tanh(x_t W + h U) into a TensorArray
           (a [T, 32, 64] buffer carried by the loop); the same loss and gradients.

The jax peer runs the same math with jax.lax.scan under jax.grad and jax.jit, in this process,
with the same weights; both must agree first. Each figure is the median over calls (each waits
for its result), best of interleaved rounds. "temp MB" is XLA's compiled temp size (the
executable's memory analysis): the gradient's saved per-step values live there.

Usage: python bench/rnn_grad.py [--quick] [--steps 50,100,200] [--calls N] [--rounds R]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _report import fmt, ratio  # noqa: E402

import tfx_core as tx  # noqa: E402

BATCH, FEATURES, UNITS = 32, 32, 64
HEADER = "| model | T | tfx ms | jax ms | tfx/jax | tfx temp MB | jax temp MB |"


def data(steps: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)

    def w(*shape):
        return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)

    return {"x": rng.standard_normal((BATCH, steps, FEATURES)).astype(np.float32),
            "k4": w(FEATURES, 4 * UNITS), "r4": w(UNITS, 4 * UNITS),
            "b4": rng.standard_normal(4 * UNITS).astype(np.float32) * 0.1,
            "k": w(FEATURES, UNITS), "r": w(UNITS, UNITS)}


# ---------------------------------------------------------------- tfx
def tfx_lstm(d: dict):
    layer = tx.keras.layers.LSTM(UNITS, return_sequences=True)
    layer(tx.constant(d["x"][:, :2]))  # build
    layer.set_weights([d["k4"], d["r4"], d["b4"]])

    @tx.function
    def grad(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tx.reduce_sum(y * y)
        return loss, tape.gradient(loss, [*layer.trainable_variables, x])
    return grad


def tfx_rnn(d: dict):
    k, r = tx.Variable(d["k"]), tx.Variable(d["r"])
    steps = d["x"].shape[1]

    @tx.function
    def grad(x):
        with tx.GradientTape() as tape:
            tape.watch(x)
            xs = tx.transpose(x, [1, 0, 2])

            def body(t, h, ta):
                h = tx.tanh(tx.matmul(xs[t], k) + tx.matmul(h, r))
                return t + 1, h, ta.write(t, h)

            _, _, ta = tx.while_loop(
                lambda t, h, ta: t < steps, body,
                (tx.constant(0), tx.zeros([BATCH, UNITS]),
                 tx.TensorArray(tx.float32, size=steps, element_shape=[BATCH, UNITS])),
                maximum_iterations=steps)
            y = ta.stack()
            loss = tx.reduce_sum(y * y)
        return loss, tape.gradient(loss, [k, r, x])
    return grad


def tfx_temp_mb(fn, x) -> float:
    try:
        c = fn.get_concrete_function(x).compiled_for((x._type,))
        return c.exe.memory_stats()["temp_size_in_bytes"] / 2**20
    except Exception:  # noqa: BLE001 (a figure we can live without)
        return float("nan")


# ---------------------------------------------------------------- jax
def jax_lstm_loss(p, x):
    def step(carry, xt):
        h, c = carry
        z = xt @ p["k4"] + h @ p["r4"] + p["b4"]
        i, f, g, o = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    zeros = jnp.zeros((x.shape[0], UNITS), x.dtype)
    _, ys = jax.lax.scan(step, (zeros, zeros), jnp.swapaxes(x, 0, 1))
    return jnp.sum(ys * ys)


def jax_rnn_loss(p, x):
    def step(h, xt):
        h = jnp.tanh(xt @ p["k"] + h @ p["r"])
        return h, h

    _, ys = jax.lax.scan(step, jnp.zeros((x.shape[0], UNITS), x.dtype), jnp.swapaxes(x, 0, 1))
    return jnp.sum(ys * ys)


def jax_grad(loss, names):
    def f(p, x):
        value, (gp, gx) = jax.value_and_grad(loss, (0, 1))(p, x)
        return value, [*(gp[n] for n in names), gx]
    return jax.jit(f)


MODELS = {"lstm": (tfx_lstm, jax_lstm_loss, ("k4", "r4", "b4")),
          "rnn": (tfx_rnn, jax_rnn_loss, ("k", "r"))}


# ---------------------------------------------------------------- timing
def steady(call, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(model: str, steps: int, calls: int, rounds: int) -> tuple:
    make_tfx, loss, names = MODELS[model]
    d = data(steps)
    x = tx.constant(d["x"])
    f = make_tfx(d)
    p = {n: jnp.asarray(d[n]) for n in names}
    xj = jnp.asarray(d["x"])
    g = jax_grad(loss, names)
    ours, theirs = f(x), g(p, xj)
    for a, b in zip([ours[0], *ours[1]], [theirs[0], *theirs[1]]):
        np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b), rtol=2e-3, atol=2e-3)

    def run_tfx():
        out = f(x)
        out[0].numpy()

    def run_jax():
        out = g(p, xj)
        out[0].block_until_ready()

    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        best[0] = min(best[0], steady(run_tfx, calls))
        best[1] = min(best[1], steady(run_jax, calls))
    jax_temp = g.lower(p, xj).compile().memory_analysis().temp_size_in_bytes / 2**20
    return (*best, tfx_temp_mb(f, x), jax_temp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="T=20, a few calls (smoke test)")
    ap.add_argument("--steps", default="50,100,200")
    ap.add_argument("--models", default="lstm,rnn")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    steps = [20] if args.quick else [int(s) for s in args.steps.split(",")]
    calls, rounds = (3, 1) if args.quick else (args.calls, args.rounds)
    print(f"batch {BATCH}, features {FEATURES}, units {UNITS}; fwd+bwd per call")
    print(HEADER)
    print("|---|---|---|---|---|---|---|")
    for model in args.models.split(","):
        for t in steps:
            ours, theirs, our_mb, their_mb = bench(model, t, calls, rounds)
            print(f"| {model} | {t} | {fmt(ours)} | {fmt(theirs)} | {ratio(ours, theirs)} | "
                  f"{our_mb:.1f} | {their_mb:.1f} |", flush=True)


if __name__ == "__main__":
    main()
