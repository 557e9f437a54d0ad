"""Child process for bench/first_call.py: eager MLP training steps timed one by one, fresh process.

    python bench/_eager_first_use.py {tfx,tf,jax}

MLP 784-128-10 (relu, mean sparse softmax cross-entropy), batch 32, SGD lr 0.1, one step =
forward + gradients (GradientTape; jax.value_and_grad op by op, no jit) + weight update, waited
on. Prints "import <s>" and "step <i> <s>" lines, then "loss0 <value>" (the first step's loss,
which the parent checks against numpy); tfx also prints "programs1 <XLA compiles> <disk cache
loads>" for its first step. tfx's persistent compile cache follows TFX_CACHE_DIR;
jax's follows BENCH_JAX_CACHE when set (min compile time 0, so eager op programs are cached).
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

STEPS = 10
LR = 0.1


def data():
    rng = np.random.default_rng(0)
    return {"w1": (rng.standard_normal((784, 128)) / 28).astype(np.float32),
            "b1": np.zeros(128, np.float32),
            "w2": (rng.standard_normal((128, 10)) / np.sqrt(128)).astype(np.float32),
            "b2": np.zeros(10, np.float32),
            "x": rng.standard_normal((32, 784)).astype(np.float32),
            "y": rng.integers(0, 10, 32).astype(np.int32)}


def lib_steps(lib, d):
    """tfx and TF share the source: tx mirrors TensorFlow's API."""
    vs = [lib.Variable(d[k]) for k in ("w1", "b1", "w2", "b2")]
    x, y = lib.constant(d["x"]), lib.constant(d["y"])

    def step():
        with lib.GradientTape() as tape:
            h = lib.nn.relu(lib.matmul(x, vs[0]) + vs[1])
            logits = lib.matmul(h, vs[2]) + vs[3]
            loss = lib.reduce_mean(
                lib.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        for v, g in zip(vs, tape.gradient(loss, vs)):
            v.assign_sub(LR * g)
        return float(loss.numpy()), vs[0].numpy()  # waits for the step's last update

    return step


def jax_steps(d):
    import jax

    if os.environ.get("BENCH_JAX_CACHE"):
        jax.config.update("jax_compilation_cache_dir", os.environ["BENCH_JAX_CACHE"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    p = [jax.device_put(d[k]) for k in ("w1", "b1", "w2", "b2")]
    x, y = jax.device_put(d["x"]), jax.device_put(d["y"])

    def loss_fn(p):
        h = jax.nn.relu(x @ p[0] + p[1])
        logp = jax.nn.log_softmax(h @ p[2] + p[3])
        return -jax.numpy.take_along_axis(logp, y[:, None], 1).mean()

    def step():
        loss, g = jax.value_and_grad(loss_fn)(p)
        p[:] = [a - LR * b for a, b in zip(p, g)]
        return float(loss), np.asarray(p[0])

    return step


def main(which: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()
    if which == "tfx":
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import tfx_core as tx

        step = lib_steps(tx, data())
    elif which == "tf":
        import tensorflow as tf

        step = lib_steps(tf, data())
    else:
        step = jax_steps(data())
    print(f"import {time.perf_counter() - t0:.6f}")
    for i in range(1, STEPS + 1):
        t = time.perf_counter()
        loss, _ = step()
        print(f"step {i} {time.perf_counter() - t:.6f}")
        if i == 1:
            print(f"loss0 {loss!r}")
            if which == "tfx":
                from runtime.compile import counts

                c = counts()
                print(f"programs1 {c['xla_compiles']} {c['disk_loads']}")


if __name__ == "__main__":
    main(sys.argv[1])
