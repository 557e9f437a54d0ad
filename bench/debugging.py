"""What debugging inside compiled code costs: the MLP train step of bench/train_step.py with
`tx.debugging.enable_check_numerics()` (every floating op result checked for NaN/Inf), and with
one passing assertion, against the same step without; JAX's `checkify` (float checks) on
`jax.jit` of the same step is the peer.

    MLP 784-512-512-10, ReLU, batch 128, SGD; median step time, interleaved rounds

Ratios are checked / unchecked within each framework, then tfx-checked / jax-checked.

Usage: python bench/debugging.py [--quick] [--steps N]
"""
from __future__ import annotations

import argparse
import os
import sys

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _report import fmt, ratio  # noqa: E402
from train_step import LR, jax_sgd_step, make_data, model_loss, steady  # noqa: E402

import tfx_core as tx  # noqa: E402

tx.config.set_compile_cache_dir(None)


def tfx_step(params, assert_finite: bool = False):
    """A fresh tfx train step (traced now: enable_check_numerics applies to new traces)."""
    vs = [tx.Variable(np.asarray(p)) for wb in params for p in wb]
    opt = tx.optimizers.SGD(LR)

    @tx.function
    def step(x, y):
        with tx.GradientTape() as tape:
            loss = model_loss(tx, "mlp", vs, x, y)
        if assert_finite:
            tx.debugging.assert_all_finite(loss, "loss")
        grads = tape.gradient(loss, vs)
        opt.apply_gradients(zip(grads, vs))
        return loss

    return step


def jax_step(params, checked: bool):
    from jax.experimental import checkify

    state = [[jax.device_put(p) for p in wb] for wb in params]
    step = jax_sgd_step

    if checked:
        fn = jax.jit(checkify.checkify(step, errors=checkify.float_checks), donate_argnums=0)

        def run(x, y):
            nonlocal state
            err, (state, loss) = fn(state, x, y)
            err.throw()
            return float(loss)
    else:
        fn = jax.jit(step, donate_argnums=0)

        def run(x, y):
            nonlocal state
            state, loss = fn(state, x, y)
            return float(loss)

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few steps (smoke test)")
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    steps = 3 if args.quick else args.steps
    params, x, y = make_data()
    xt, yt = tx.constant(x), tx.constant(y)
    xj, yj = jax.device_put(x), jax.device_put(y)

    plain = tfx_step(params)
    asserting = tfx_step(params, assert_finite=True)
    tx.debugging.enable_check_numerics()
    try:
        numerics = tfx_step(params)
        runs = {
            "tfx": lambda: float(plain(xt, yt)),
            "tfx + assert_all_finite(loss)": lambda: float(asserting(xt, yt)),
            "tfx + enable_check_numerics": lambda: float(numerics(xt, yt)),
        }
        for run in runs.values():  # trace + compile outside the timing
            run()
    finally:
        tx.debugging.disable_check_numerics()
    jplain, jchecked = jax_step(params, False), jax_step(params, True)
    runs["jax.jit"] = lambda: jplain(xj, yj)
    runs["jax.jit + checkify(float_checks)"] = lambda: jchecked(xj, yj)
    for run in runs.values():
        run()
    best: dict[str, float] = {}
    for _ in range(3):  # interleaved rounds: drifting load hits everyone alike
        for name, run in runs.items():
            t = steady(lambda a, b, run=run: run(), x, y, steps)
            best[name] = min(best.get(name, float("inf")), t)
    base = {"tfx": best["tfx"], "jax": best["jax.jit"]}
    print(f"MLP train step, batch 128; median of {steps} steps, best of 3 rounds")
    print("| | step | vs unchecked |")
    print("|---|---|---|")
    for name, t in best.items():
        ref = base["jax" if name.startswith("jax") else "tfx"]
        print(f"| {name} | {fmt(t)} | {ratio(t, ref)} |")
    print(f"\ntfx+check_numerics / jax+checkify: "
          f"{ratio(best['tfx + enable_check_numerics'], best['jax.jit + checkify(float_checks)'])}")


if __name__ == "__main__":
    main()
