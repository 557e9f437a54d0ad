"""`Model.fit` costs: per-step overhead over a bare `@tx.function` step, and the partial last batch
(compile once more for its shape vs pad + mask with sample weights).

    MLP 32-64-64-10 (ReLU), Adam, sparse CE from logits, "accuracy"; 1000 samples, batch 128
    (7 full batches + one of 104). The persistent compile cache is off (compiles are real).

Usage: python bench/keras_fit.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import tfx_core as tx
from runtime import cache as rt_cache
from tfx_core import keras

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    epochs = 2 if args.quick else 10
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
    for _ in range(50 if not args.quick else 5):
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
