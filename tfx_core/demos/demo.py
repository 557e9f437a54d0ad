"""`make demo`: a small MLP run eagerly and compiled (IR, stage and call times), then trained."""
from __future__ import annotations

import sys
import time

import numpy as np

import tfx_core as tx


def mlp(x, w1, b1, w2, b2):
    h = tx.nn.relu(tx.matmul(x, w1) + b1)
    return tx.nn.softmax(h @ w2 + b2)


def _per_call_us(fn, args, n: int = 300) -> float:
    fn(*args).numpy()  # warm up (and compile, for the compiled version)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            out = fn(*args)
        out.numpy()  # wait for the last asynchronous dispatch
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def main(batch: int = 64, d_in: int = 128, d_hidden: int = 256, d_out: int = 10) -> int:
    rng = np.random.default_rng(0)
    args = [
        tx.constant(rng.standard_normal((batch, d_in)).astype(np.float32)),
        tx.constant((rng.standard_normal((d_in, d_hidden)) / np.sqrt(d_in)).astype(np.float32)),
        tx.constant(np.zeros(d_hidden, np.float32)),
        tx.constant((rng.standard_normal((d_hidden, d_out)) / np.sqrt(d_hidden))
                    .astype(np.float32)),
        tx.constant(np.zeros(d_out, np.float32)),
    ]
    print(f"tfx demo: MLP {d_in} -> {d_hidden} (relu) -> {d_out} (softmax), batch {batch}")
    print(f"devices: {tx.config.list_physical_devices()}")

    eager_out = mlp(*args).numpy()
    compiled = tx.function(mlp)
    t0 = time.perf_counter()
    compiled_out = compiled(*args).numpy()
    first_call = time.perf_counter() - t0

    ir = compiled.experimental_get_compiler_ir(*args)
    cf = compiled.get_concrete_function(*args)
    print("\n== our IR (after passes) ==")
    print(ir("ir_optimized"))
    shlo = ir("stablehlo")
    print(f"\nIR: {len(cf.graph.ops)} ops; StableHLO: {len(shlo.splitlines())} lines, "
          f"{len(shlo)} chars; optimized HLO: {len(ir('optimized_hlo').splitlines())} lines")
    print(f"\n== first call: {first_call * 1e3:.1f} ms ==")
    print(cf.explain())

    eager_us = _per_call_us(mlp, args)
    compiled_us = _per_call_us(compiled, args)
    print("\n== per call ==")
    print(f"eager    {eager_us:9.1f} us  ({len(cf.graph.ops)} ops, one XLA dispatch each)")
    print(f"compiled {compiled_us:9.1f} us  (one XLA executable)   "
          f"speed-up x{eager_us / compiled_us:.1f}")

    ref = _numpy_mlp(*[a.numpy() for a in args])
    ok = np.allclose(eager_out, compiled_out, rtol=1e-5, atol=1e-6) and np.allclose(
        compiled_out, ref, rtol=1e-4, atol=1e-6)
    print(f"\neager == compiled == numpy: {'yes' if ok else 'NO'} "
          f"(max |eager - compiled| = {np.abs(eager_out - compiled_out).max():.2e})")
    print(f"tracing count: {compiled.experimental_get_tracing_count()}")

    from tfx_core.demos.training import train

    trained = train()
    return 0 if ok and trained else 1


def _numpy_mlp(x, w1, b1, w2, b2):
    h = np.maximum(x @ w1 + b1, 0)
    z = h @ w2 + b2
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


if __name__ == "__main__":
    sys.exit(main())
