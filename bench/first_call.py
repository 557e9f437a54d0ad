"""First-call latency of a small MLP: tfx (trace + passes + lower + XLA) vs jax.jit's first call.

    y = softmax(relu(x @ w1 + b1) @ w2)     x f32[8,16], w1 f32[16,32], b1 f32[32], w2 f32[32,10]

Each round builds a FRESH Python function and a fresh `tx.function` / `jax.jit` around it, after
clearing tfx's in-memory compile cache (`runtime.cache.MEMORY_CACHE`, keyed by the optimized IR
text, so an identical graph would otherwise skip XLA; the persistent disk cache is off) and JAX's
caches (`jax.clear_caches()`).
The timed region is the first call up to a ready result. One unreported warm-up round first pays
for process-level one-time work (MLIR context/dialects, XLA client start-up); it is printed
separately as "cold". Reported figures are medians over the rounds.

tfx's per-stage split comes from `get_concrete_function(...).timings`; JAX's from its AOT API
(`jit(f).trace(...)`, `.lower()`, `.compile()`) in separate fresh rounds, so its stages do not
add up exactly to its first-call wall time.

Eager first use (issue 18): the first eager training steps of an MLP 784-128-10 (batch 32, SGD,
GradientTape) in FRESH processes (bench/_eager_first_use.py), tfx vs TF eager vs JAX eager (op
by op, no jit): steps 1, 2 and steady (median of steps 3-10), "cold" with TFX_CACHE_DIR (and
jax's persistent cache) pointing to an empty directory, "warm" in a second fresh process with
the same directory. Medians over --eager-repeats process pairs, frameworks alternating. Skipped
by --quick (each process costs seconds of imports).

Usage: python bench/first_call.py [--quick] [--rounds R] [--eager-repeats N] [--no-eager]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tfx_core as tx  # noqa: E402
from runtime import cache as rt_cache  # noqa: E402

# these figures are XLA compiles: keep the persistent compile cache out of them
tx.config.set_compile_cache_dir(None)

HEADER = "| stage | tfx ms | jax ms |"
STAGES = ("trace", "specialize", "passes", "lower", "xla")


def make_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16), dtype=np.float32)
    w1 = rng.standard_normal((16, 32), dtype=np.float32) * 0.25
    b1 = rng.standard_normal((32,), dtype=np.float32) * 0.1
    w2 = rng.standard_normal((32, 10), dtype=np.float32) * 0.25
    return x, w1, b1, w2


def fresh_tx_mlp():
    def mlp(x, w1, b1, w2):
        h = tx.nn.relu(tx.matmul(x, w1) + b1)
        return tx.nn.softmax(tx.matmul(h, w2))

    return tx.function(mlp)


def fresh_jax_mlp():
    def mlp(x, w1, b1, w2):
        h = jax.nn.relu(x @ w1 + b1)
        return jax.nn.softmax(h @ w2)

    return mlp


def block_tx(t):
    b = getattr(t, "block_until_ready", None)
    return b() if b is not None else t._buf.block_until_ready()


def tx_round(args) -> tuple[float, dict[str, float], object]:
    rt_cache.MEMORY_CACHE.clear()
    f = fresh_tx_mlp()
    t0 = time.perf_counter()
    out = f(*args)
    block_tx(out)
    wall = time.perf_counter() - t0
    timings = dict(f.get_concrete_function(*args).timings)  # already traced: no retrace
    if f.experimental_get_tracing_count() != 1:
        raise RuntimeError("tx.function retraced during get_concrete_function")
    if timings.get("xla", 0.0) == 0.0:
        print("warning: tfx XLA time is 0 -- the compile came from a cache", file=sys.stderr)
    return wall, timings, out


def jax_round(args) -> tuple[float, object]:
    jax.clear_caches()
    jf = jax.jit(fresh_jax_mlp())
    t0 = time.perf_counter()
    out = jf(*args)
    out.block_until_ready()
    return time.perf_counter() - t0, out


def jax_aot_round(args) -> dict[str, float]:
    jax.clear_caches()
    jf = jax.jit(fresh_jax_mlp())
    t0 = time.perf_counter()
    traced = jf.trace(*args)
    t1 = time.perf_counter()
    lowered = traced.lower()
    t2 = time.perf_counter()
    lowered.compile()
    t3 = time.perf_counter()
    return {"trace": t1 - t0, "lower": t2 - t1, "xla": t3 - t2}


def tf_round(tf, args) -> float:
    @tf.function(jit_compile=True)
    def mlp(x, w1, b1, w2):
        h = tf.nn.relu(tf.matmul(x, w1) + b1)
        return tf.nn.softmax(tf.matmul(h, w2))

    t0 = time.perf_counter()
    out = mlp(*args)
    out.numpy()
    return time.perf_counter() - t0


EAGER = ("tfx", "tf", "jax")
EAGER_LABEL = {"tfx": "tfx eager", "tf": "TF eager", "jax": "JAX eager (no jit)"}


def eager_process(which: str, cache: str) -> dict[str, float]:
    env = dict(os.environ, TFX_CACHE_DIR=os.path.join(cache, "tfx"),
               BENCH_JAX_CACHE=os.path.join(cache, "jax"))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_eager_first_use.py")
    out = subprocess.run([sys.executable, script, which], env=env, capture_output=True,
                         text=True, check=True).stdout
    rows = dict(line.split(" ", 1) for line in out.splitlines()
                if line.startswith(("im", "lo", "pr")))
    steps = [float(line.split()[2]) for line in out.splitlines() if line.startswith("step ")]
    programs = [int(n) for n in rows.get("programs1", "0 0").split()]
    return {"import": float(rows["import"]), "loss0": float(rows["loss0"]), "1": steps[0],
            "2": steps[1], "steady": statistics.median(steps[2:]), "compiles": programs[0],
            "loads": programs[1]}


def np_mlp_loss() -> float:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _eager_first_use as efu

    d = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in efu.data().items()}
    z = np.maximum(d["x"] @ d["w1"] + d["b1"], 0) @ d["w2"] + d["b2"]
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return float(-logp[np.arange(32), d["y"]].mean())


def eager_first_use(repeats: int, frameworks: tuple[str, ...]) -> None:
    want = np_mlp_loss()
    res: dict[tuple[str, str], list[dict]] = {}
    for _ in range(repeats):
        for which in frameworks:  # alternating: load drift hits every framework alike
            with tempfile.TemporaryDirectory() as d:
                for kind in ("cold", "warm"):
                    r = eager_process(which, d)
                    if abs(r["loss0"] - want) > 1e-4 * abs(want):
                        raise SystemExit(f"eager {which}: loss {r['loss0']} != numpy {want}")
                    res.setdefault((which, kind), []).append(r)
    med = {k: {f: statistics.median(r[f] for r in v) for f in v[0]} for k, v in res.items()}
    print()
    print(f"# eager first use: MLP 784-128-10 train step (batch 32, SGD), fresh processes, "
          f"median of {repeats}; ms; ratios tfx / peer")
    print()
    cols = ["cache", "step"] + [EAGER_LABEL[w] for w in frameworks]
    cols += [f"tfx/{EAGER_LABEL[w]}" for w in frameworks[1:]] + ["best peer"]
    print("| " + " | ".join(cols) + " |")
    print("|---" * len(cols) + "|")
    for kind in ("cold", "warm"):
        for step in ("import", "1", "2", "steady"):
            vals = [med[(w, kind)][step] for w in frameworks]
            best = min(zip(vals[1:], frameworks[1:]), default=(0, None))[1]
            print(f"| {kind} | {'step ' + step if step != 'import' else 'import (not a step)'}"
                  f" | " + " | ".join(ms(v) for v in vals) + " | " +
                  " | ".join(f"{vals[0] / v:.2f}×" for v in vals[1:]) +
                  f" | {EAGER_LABEL.get(best, '—')} |")
    if "tfx" in frameworks:
        cold, warm = med[("tfx", "cold")], med[("tfx", "warm")]
        print(f"\ntfx, the process up to the end of step 1: cold {cold['compiles']:.0f} XLA "
              f"compiles; warm {warm['compiles']:.0f} compiles and {warm['loads']:.0f} "
              "executables loaded from the disk cache")


def ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1e3:.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 round after warm-up (smoke test)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--no-tf", action="store_true", help="skip TensorFlow even if installed")
    ap.add_argument("--eager-repeats", type=int, default=3)
    ap.add_argument("--no-eager", action="store_true", help="skip the eager first-use table")
    args = ap.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)

    cache_dir = jax.config.jax_compilation_cache_dir
    if cache_dir:
        print(f"note: JAX persistent compilation cache is on ({cache_dir}); its first-call "
              "figures may be cache hits", file=sys.stderr)

    tf, tf_note = None, "skipped (--no-tf)"
    if not args.no_tf:
        try:
            import tensorflow as tf  # noqa: F811

            tf_note = tf.__version__
        except Exception as e:
            tf, tf_note = None, f"not available ({type(e).__name__})"

    np_args = make_inputs()
    tx_args = [tx.constant(a) for a in np_args]
    jax_args = [jax.device_put(a) for a in np_args]
    tf_args = [tf.constant(a) for a in np_args] if tf is not None else None

    # correctness first: both sides compute the same thing
    ref = np.asarray(fresh_jax_mlp()(*np_args))

    # cold (first in this process) round, then warm rounds, alternating tfx / jax / tf
    cold_tx, _, out = tx_round(tx_args)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-6)
    cold_jax, _ = jax_round(jax_args)
    cold_tf = tf_round(tf, tf_args) if tf is not None else None
    jax_aot_round(jax_args)

    tx_walls, jax_walls, tf_walls = [], [], []
    tx_stages = {k: [] for k in STAGES}
    jax_stages = {k: [] for k in ("trace", "lower", "xla")}
    for _ in range(rounds):
        wall, timings, _ = tx_round(tx_args)
        tx_walls.append(wall)
        for k in STAGES:
            tx_stages[k].append(timings.get(k, 0.0))
        jax_walls.append(jax_round(jax_args)[0])
        for k, v in jax_aot_round(jax_args).items():
            jax_stages[k].append(v)
        if tf is not None:
            tf_walls.append(tf_round(tf, tf_args))

    med = statistics.median
    tx_med = {k: med(v) for k, v in tx_stages.items()}
    jx_med = {k: med(v) for k, v in jax_stages.items()}
    tx_wall, jax_wall = med(tx_walls), med(jax_walls)
    tx_other = tx_wall - sum(tx_med.values())

    print(f"# first call of a fresh function: MLP softmax(relu(x@w1+b1)@w2), x f32[8,16], "
          f"median of {rounds} rounds (after 1 warm-up round)")
    print(f"# jax {jax.__version__} on {jax.devices()[0].platform}, tensorflow {tf_note}; "
          f"{os.cpu_count()} CPUs")
    print()
    print(HEADER)
    print("|---|---:|---:|")
    print(f"| trace (Python -> IR / jaxpr) | {ms(tx_med['trace'])} | {ms(jx_med['trace'])} |")
    print(f"| specialize | {ms(tx_med['specialize'])} | — |")
    print(f"| passes | {ms(tx_med['passes'])} | — |")
    print(f"| lower (-> StableHLO) | {ms(tx_med['lower'])} | {ms(jx_med['lower'])} |")
    print(f"| XLA compile | {ms(tx_med['xla'])} | {ms(jx_med['xla'])} |")
    print(f"| other (arg handling, execute, wait) | {ms(tx_other)} | — |")
    print(f"| **first call, wall** | **{ms(tx_wall)}** | **{ms(jax_wall)}** |")
    print(f"| cold first call (warm-up round) | {ms(cold_tx)} | {ms(cold_jax)} |")
    print()
    print(f"tfx/jax first-call ratio: **{tx_wall / jax_wall:.2f}×** (median)")
    print(f"outside XLA: tfx {ms(tx_wall - tx_med['xla'])} ms (wall minus XLA), "
          f"jax {ms(jx_med['trace'] + jx_med['lower'])} ms (AOT trace + lower)")
    print(f"tfx rounds (ms): {', '.join(ms(w) for w in tx_walls)}; "
          f"jax rounds (ms): {', '.join(ms(w) for w in jax_walls)}")
    if tf is not None:
        print(f"tf.function(jit_compile=True) first call: {ms(med(tf_walls))} ms median "
              f"(cold {ms(cold_tf)} ms)")
    print("jax stages are from separate AOT rounds (jit(f).trace/.lower/.compile); "
          "tfx stages from ConcreteFunction.timings of the timed call")
    if not (args.quick or args.no_eager):
        eager_first_use(args.eager_repeats, EAGER if tf is not None else ("tfx", "jax"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
