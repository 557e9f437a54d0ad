"""What a tx.data input pipeline costs, and what `prefetch` buys.

    epoch of 60k x 784 f32 + int labels, batch 128, iterated as tx.Tensors:
      from_tensor_slices.batch               (rows sliced per batch)
      from_tensor_slices.shuffle(60k).batch  (row indices shuffled, one gather per batch)
      the same element by element            (skip(0) turns the row fast paths off)
    a train loop reading the loss every step (as a progress bar does), input a generator that
    waits 8 ms per batch (file reads), step 40 matmul+tanh layers 256x256: without and with
    prefetch(2), against the input alone and the steps alone

Best of 3 rounds. Usage: python bench/data_pipeline.py [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import tfx_core as tx

Dataset = tx.data.Dataset


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def epochs(n: int, rounds: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 784)).astype(np.float32)
    y = (np.arange(n) % 10).astype(np.int64)

    def run(ds):
        return lambda: [None for _ in ds]

    src = Dataset.from_tensor_slices((x, y))
    return [
        ("from_tensor_slices.batch(128)", best(run(src.batch(128)), rounds)),
        ("from_tensor_slices.shuffle(n).batch(128)",
         best(run(src.shuffle(n, seed=1).batch(128)), rounds)),
        ("  element by element: .batch(128)", best(run(src.skip(0).batch(128)), 1)),
        ("  element by element: .shuffle(n).batch(128)",
         best(run(src.skip(0).shuffle(n, seed=1).batch(128)), 1)),
    ]


def overlap(steps: int, rounds: int) -> list[tuple[str, float]]:
    w = tx.Variable(np.eye(256, dtype=np.float32) * 0.5)

    @tx.function
    def step(a):
        h = a
        for _ in range(40):
            h = tx.tanh(tx.matmul(h, w))
        return tx.reduce_sum(h)

    x = np.random.default_rng(0).normal(size=(256, 256)).astype(np.float32)

    def gen():
        for _ in range(steps):
            time.sleep(0.008)  # reading / decoding a file: waits without holding a core
            yield x

    ds = Dataset.from_generator(gen, output_signature=tx.TensorSpec([256, 256]))
    a0 = tx.constant(x)
    float(step(a0))

    def train(d):
        def go():
            for a in d:
                float(step(a))  # the loss read every step
        return go

    return [
        ("input alone", best(lambda: [None for _ in ds], rounds)),
        ("steps alone", best(lambda: [float(step(a0)) for _ in range(steps)], rounds)),
        ("train loop, no prefetch", best(train(ds), rounds)),
        ("train loop, prefetch(2)", best(train(ds.prefetch(2)), rounds)),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, steps, rounds = (6400, 12, 1) if args.quick else (60000, 60, 3)
    print(f"| epoch, {n} x 784 f32 | s |")
    print("|---|---|")
    for name, t in epochs(n, rounds):
        print(f"| {name} | {t:.3f} |")
    print()
    print(f"| {steps} steps | s |")
    print("|---|---|")
    for name, t in overlap(steps, rounds):
        print(f"| {name} | {t:.3f} |")


if __name__ == "__main__":
    main()
