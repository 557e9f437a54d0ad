"""`Model.fit` costs: tx.keras against Keras 3 (JAX backend) and tf.keras (jit_compile=True) on
the same model source; per-step overhead over a bare `@tx.function` step; the partial last batch
(compile once more for its shape vs pad + mask with sample weights).

    Frameworks: an MLP (Flatten-128-10) and a small CNN (two Conv2D+MaxPooling2D, Dense 10) on
    synthetic MNIST-sized data (60k x 28x28, batch 128, Adam 1e-3, sparse CE from logits), each
    framework in its own process (bench/_keras_peer.py), same initial weights and data order.

    MLP 32-64-64-10 (ReLU), Adam, sparse CE from logits, "accuracy"; 1000 samples, batch 128
    (7 full batches + one of 104). The persistent compile cache is off (compiles are real).

Usage: python bench/keras_fit.py [--quick] [--only-frameworks]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _report import ratio

import tfx_core as tx
from runtime import cache as rt_cache
from tfx_core import keras

PEERS = (("tfx", "tx.keras"), ("jax", "Keras 3 (JAX)"), ("tf", "tf.keras (XLA)"))
tx.config.set_compile_cache_dir(None)  # first-epoch figures include real XLA compiles


def _data(n: int = 1000):
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((10, 32)) * 0.6
    y = rng.integers(0, 10, n).astype(np.int32)
    x = (centers[y] + rng.standard_normal((n, 32))).astype(np.float32)
    return x, y


def _model() -> keras.Model:
    m = keras.Sequential([keras.Input((32,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
    m.compile(keras.optimizers.Adam(3e-3),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return m


def _epochs(fit, epochs: int) -> tuple[float, float]:
    """(first epoch seconds, median later epoch seconds); in-memory executables cleared first."""
    rt_cache.MEMORY_CACHE.clear()
    t0 = time.perf_counter()
    fit(1)
    first = time.perf_counter() - t0
    later = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        fit(1)
        later.append(time.perf_counter() - t0)
    return first, statistics.median(later)


def _peer(peer: str, kinds: list[str], n: int, epochs: int) -> dict[str, dict]:
    """Run one framework on the models in a fresh process; {} (with a message) if it fails."""
    script = Path(__file__).with_name("_keras_peer.py")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, str(script), peer, ",".join(kinds), str(n),
                           str(epochs)], capture_output=True, text=True, env=env, timeout=3600)
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[len("RESULT "):])
            out[r["model"]] = r
    if len(out) < len(kinds):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"(skipping {peer} on {kinds}: exit {proc.returncode}: {last})")
    return out


def frameworks(n: int, epochs: int, quick: bool) -> None:
    """The same model source on tx.keras, Keras 3 on JAX and tf.keras: epoch times and loss.
    Each (framework, model) runs in a fresh process; with --quick one process per framework
    runs both models (fewer imports; the CNN's first epoch then skips process start-up)."""
    nan = float("nan")
    kinds = ["mlp", "cnn"]
    print(f"{n} samples of 28x28, batch 128, {epochs} epochs (first epoch includes tracing and "
          "compiling; steady = median of the later epochs)\n")
    results: dict[tuple[str, str], dict] = {}
    for peer, _ in PEERS:
        groups = [kinds] if quick else [[k] for k in kinds]
        for group in groups:
            for kind, r in _peer(peer, group, n, epochs).items():
                results[kind, peer] = r
    print("| model | framework | first epoch s | steady epoch s | ms/step | final loss |")
    print("|---|---|---|---|---|---|")
    rows = {}
    steps = math.ceil(n / 128)
    for kind in kinds:
        for peer, label in PEERS:
            r = results.get((kind, peer))
            first = r["first"] if r else nan
            steady = statistics.median(r["later"]) if r and r["later"] else nan
            loss = r["loss"] if r else nan
            rows[kind, peer] = (first, steady)
            print(f"| {kind} | {label} | {first:.2f} | {steady:.3f} | {steady / steps * 1e3:.2f} "
                  f"| {loss:.6f} |")
    print("\n| model | time | tfx/jax | tfx/tf |")
    print("|---|---|---|---|")
    for kind in kinds:
        for i, what in enumerate(("first epoch", "steady epoch")):
            t = rows[kind, "tfx"][i]
            print(f"| {kind} | {what} | {ratio(t, rows[kind, 'jax'][i])} "
                  f"| {ratio(t, rows[kind, 'tf'][i])} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only-frameworks", action="store_true")
    args = parser.parse_args()
    # --quick (the smoke test): 2 batches, 2 epochs (a first and one steady), 1 later epoch
    frameworks(256 if args.quick else 60000, 2 if args.quick else 4, args.quick)
    if args.only_frameworks:
        return
    epochs = 1 if args.quick else 10
    x, y = _data()
    bs = 128

    # warm-up: the process's one-time costs (eager ops of the loop, first XLA compile)
    w = _model()
    w.fit(x[:64], y[:64], batch_size=bs, epochs=1, verbose=0)
    w.evaluate(x[:64], y[:64], verbose=0)

    # (A) the partial batch gets its own trace + executable
    a = _model()
    a_first, a_epoch = _epochs(lambda e: a.fit(x, y, batch_size=bs, epochs=e, verbose=0), epochs)
    probe = _model()
    probe.train_on_batch(x[:bs], y[:bs])
    rt_cache.MEMORY_CACHE.clear()
    t0 = time.perf_counter()
    probe.train_on_batch(x[:104], y[:104])
    extra_compile = time.perf_counter() - t0

    # (B) pad to a multiple of the batch size; padded rows get sample weight 0
    pad = -len(x) % bs
    xp = np.concatenate([x, np.zeros((pad, 32), np.float32)])
    yp = np.concatenate([y, np.zeros(pad, np.int32)])
    sw = np.concatenate([np.ones(len(x), np.float32), np.zeros(pad, np.float32)])
    b = _model()
    b_first, b_epoch = _epochs(
        lambda e: b.fit(xp, yp, sample_weight=sw, batch_size=bs, epochs=e, verbose=0), epochs)

    # a bare compiled step on the same model shape: tape + loss + Adam, no metrics, no loop
    c = _model()
    c(x[:bs])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt = keras.optimizers.Adam(3e-3)

    @tx.function
    def step(xb, yb):
        with tx.GradientTape() as tape:
            loss = loss_fn(yb, c(xb, training=True))
        grads = tape.gradient(loss, c.trainable_weights)
        opt.apply_gradients(zip(grads, c.trainable_weights))
        return loss

    xb, yb = tx.constant(x[:bs]), tx.constant(y[:bs])
    float(step(xb, yb))
    times = []
    for _ in range(50 if not args.quick else 2):
        t0 = time.perf_counter()
        float(step(xb, yb))
        times.append(time.perf_counter() - t0)
    bare = statistics.median(times)

    steps = -(-len(x) // bs)
    print("| partial last batch | first epoch | later epochs (median) | traces |")
    print("|---|---|---|---|")
    print(f"| own trace + executable | {a_first * 1e3:.0f} ms | {a_epoch * 1e3:.2f} ms "
          f"| {a.train_function.experimental_get_tracing_count()} |")
    print(f"| pad + mask (sample_weight) | {b_first * 1e3:.0f} ms | {b_epoch * 1e3:.2f} ms "
          f"| {b.train_function.experimental_get_tracing_count()} |")
    print(f"\nextra trace + compile for the 104-row batch: {extra_compile * 1e3:.0f} ms")
    print(f"fit, per step: {a_epoch / steps * 1e3:.3f} ms; bare @tx.function step (no metrics, "
          f"no loop): {bare * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
