"""Issue 16's ops at realistic sizes: compiled tfx against jax.jit (the same XLA underneath),
tf.function(jit_compile=True) and TF graph mode.

    A dozen representative ops from the namespaces issue 16 adds (FFTs, stft, resize, linalg
    decompositions, segment_sum, top_k, gather with batch_dims). The tfx and TF versions are one
    source (`lib` = tx or tf); jax is written with jax.numpy / jax.lax. Every peer's output is
    checked against jax.jit's first (decompositions through sign-free invariants: |R|, singular
    values). Median of `--calls` calls, best of `--rounds` interleaved rounds. An op tfx does
    not offer yet prints "—" (so the table shows what is missing).

Usage: python bench/ops.py [--quick] [--calls N] [--rounds R] [--ops fft,qr,...] [--no-tf]
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from _report import fmt, ratio

import tfx_core as tx

jax.config.update("jax_enable_x64", False)


@dataclass
class Case:
    name: str
    inputs: Callable[[np.random.Generator, float], list[np.ndarray]]  # (rng, scale)
    lib: Callable  # lib(tx_or_tf, *args): the TF-named source shared by tfx and TF
    jax: Callable  # jax version
    canon: Callable = staticmethod(lambda out: out)  # numpy view compared across peers
    static: int = 0  # trailing inputs baked into the traced function as constants


def _n(base: int, scale: float, low: int = 4) -> int:
    return max(low, int(base * scale))


def _complex(rng, shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def _spd(rng, b, n):
    a = rng.standard_normal((b, n, n)).astype(np.float32)
    return a @ a.transpose(0, 2, 1) + n * np.eye(n, dtype=np.float32)


def _stft_jax(x, frame_length=400, step=160, fft_length=512):
    frames = 1 + (x.shape[-1] - frame_length) // step
    idx = jnp.arange(frames)[:, None] * step + jnp.arange(frame_length)[None, :]
    window = 0.5 - 0.5 * jnp.cos(2 * jnp.pi * jnp.arange(frame_length) / frame_length)
    return jnp.fft.rfft(x[..., idx] * window, n=fft_length)


def _segment_inputs(rng, scale):
    n, segments = _n(100_000, scale, 64), _n(1000, scale, 8)
    ids = np.sort(rng.integers(0, segments, n)).astype(np.int32)
    ids[-1] = segments - 1  # every run has the same number of segments
    return [rng.standard_normal((n, 32)).astype(np.float32), ids]


def _abs_r(out):
    q, r = out
    return np.abs(np.asarray(r))


CASES = [
    Case("fft [64,1024] c64", lambda rng, s: [_complex(rng, (_n(64, s), 1024))],
         lambda lib, x: lib.signal.fft(x), lambda x: jnp.fft.fft(x)),
    Case("fft2d [16,128,128] c64", lambda rng, s: [_complex(rng, (_n(16, s, 2), 128, 128))],
         lambda lib, x: lib.signal.fft2d(x), lambda x: jnp.fft.fft2(x)),
    Case("rfft [64,4096] f32",
         lambda rng, s: [rng.standard_normal((_n(64, s), 4096)).astype(np.float32)],
         lambda lib, x: lib.signal.rfft(x), lambda x: jnp.fft.rfft(x)),
    Case("stft [8,16000] 400/160/512",
         lambda rng, s: [rng.standard_normal((_n(8, s, 2), 16000)).astype(np.float32)],
         lambda lib, x: lib.signal.stft(x, 400, 160, 512), _stft_jax),
    Case("resize bilinear [8,64,64,3]→128",
         lambda rng, s: [rng.random((_n(8, s, 2), 64, 64, 3)).astype(np.float32)],
         lambda lib, x: lib.image.resize(x, [128, 128], method="bilinear"),
         lambda x: jax.image.resize(x, (x.shape[0], 128, 128, 3), "linear", antialias=False)),
    Case("cholesky [32,64,64]", lambda rng, s: [_spd(rng, _n(32, s), 64)],
         lambda lib, a: lib.linalg.cholesky(a), lambda a: jnp.linalg.cholesky(a)),
    Case("solve [32,64,64]x[32,64,8]",
         lambda rng, s: [_spd(rng, _n(32, s), 64),
                         rng.standard_normal((_n(32, s), 64, 8)).astype(np.float32)],
         lambda lib, a, b: lib.linalg.solve(a, b), lambda a, b: jnp.linalg.solve(a, b)),
    Case("qr [32,64,64]",
         lambda rng, s: [rng.standard_normal((_n(32, s), 64, 64)).astype(np.float32)],
         lambda lib, a: lib.linalg.qr(a), lambda a: jnp.linalg.qr(a), _abs_r),
    Case("svd values [16,64,64]",
         lambda rng, s: [rng.standard_normal((_n(16, s), 64, 64)).astype(np.float32)],
         lambda lib, a: lib.linalg.svd(a, compute_uv=False),
         lambda a: jnp.linalg.svd(a, compute_uv=False)),
    Case("segment_sum [100k,32]", _segment_inputs,
         lambda lib, x, ids: lib.math.segment_sum(x, ids),
         lambda x, ids: jax.ops.segment_sum(x, ids, num_segments=int(ids[-1]) + 1,
                                            indices_are_sorted=True), static=1),
    Case("top_k [256,4096] k=16",
         lambda rng, s: [rng.standard_normal((_n(256, s), 4096)).astype(np.float32)],
         lambda lib, x: lib.math.top_k(x, 16), lambda x: jax.lax.top_k(x, 16),
         lambda out: np.asarray(out[0])),
    Case("gather batch_dims=1 [64,512,32]",
         lambda rng, s: [rng.standard_normal((_n(64, s), 512, 32)).astype(np.float32),
                         rng.integers(0, 512, (_n(64, s), 128)).astype(np.int32)],
         lambda lib, p, i: lib.gather(p, i, batch_dims=1),
         lambda p, i: jnp.take_along_axis(p, i[..., None], axis=1)),
]


def _tf():
    try:
        import tensorflow as tf
    except Exception:
        return None
    tf.get_logger().setLevel("ERROR")
    return tf


def _host(out):
    if isinstance(out, (tuple, list)):
        return tuple(_host(o) for o in out)
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out)


def make_peers(case: Case, args: list[np.ndarray], tf) -> dict[str, Callable | None]:
    """peer -> a zero-argument call returning host results (None: the peer cannot run it)."""
    # segment ids as trace-time constants: the output size max(ids) + 1 must be static for
    # XLA (jax gets it as num_segments; TF's XLA bridge needs a constant too)
    k = len(args) - case.static
    dyn, const = args[:k], args[k:]
    jf = jax.jit(lambda *a: case.jax(*a, *const))
    jargs = [jax.device_put(a) for a in dyn]
    peers: dict[str, Callable | None] = {
        "jax.jit": lambda: _host(jax.block_until_ready(jf(*jargs)))}
    try:
        tf_fn = tx.function(lambda *a: case.lib(tx, *a, *[tx.constant(c) for c in const]))
        targs = [tx.constant(a) for a in dyn]
        peers["tfx"] = lambda: _host(tf_fn(*targs))
        peers["tfx"]()
    except (AttributeError, NotImplementedError):
        peers["tfx"] = None  # not offered yet
    if tf is not None:
        for label, jit in (("tf jit_compile", True), ("tf graph", False)):
            g = tf.function(lambda *a: case.lib(tf, *a, *[tf.constant(c) for c in const]),
                            jit_compile=jit)
            gargs = [tf.constant(a) for a in dyn]
            try:
                g(*gargs)
                peers[label] = (lambda g=g, gargs=gargs: _host(g(*gargs)))
            except Exception:  # an op TF's XLA bridge does not compile
                peers[label] = None
    return peers


def steady(call: Callable, n: int) -> float:
    times = []
    gc.disable()
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return statistics.median(times)


def bench_case(case: Case, scale: float, calls: int, rounds: int, tf) -> dict[str, float]:
    args = case.inputs(np.random.default_rng(0), scale)
    peers = make_peers(case, args, tf)
    want = case.canon(peers["jax.jit"]())
    for peer, call in peers.items():
        if call is None:
            continue
        got = case.canon(call())
        got, ref = np.asarray(got, np.complex128), np.asarray(want, np.complex128)
        err = float(np.max(np.abs(got - ref)) / (np.max(np.abs(ref)) + 1e-30))
        if err > 2e-3:
            raise SystemExit(f"{case.name}: {peer} disagrees with jax.jit (max rel err {err:.1e})")
    best: dict[str, float] = {}
    for _ in range(rounds):  # interleaved: load drift hits every peer alike
        for peer, call in peers.items():
            if call is not None:
                best[peer] = min(best.get(peer, float("inf")), steady(call, calls))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few calls, no TF")
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ops", default="", help="comma-separated substrings of case names")
    ap.add_argument("--no-tf", action="store_true")
    args = ap.parse_args()
    calls, rounds, scale = (2, 1, 0.05) if args.quick else (args.calls, args.rounds, 1.0)
    tf = None if args.quick or args.no_tf else _tf()
    peers = ["tfx", "jax.jit", "tf jit_compile", "tf graph"] if tf else ["tfx", "jax.jit"]
    wanted = [w for w in args.ops.split(",") if w]
    print(f"median of {calls} calls, best of {rounds} interleaved rounds; ms "
          "(results include the copy to the host)")
    print()
    cols = ["op", *peers, *(f"tfx/{p}" for p in peers[1:])]
    print("| " + " | ".join(cols) + " |")
    print("|---" * len(cols) + "|")
    for case in CASES:
        if wanted and not any(w in case.name for w in wanted):
            continue
        best = bench_case(case, scale, calls, rounds, tf)
        vals = [best.get(p, float("nan")) for p in peers]
        print(f"| {case.name} | " + " | ".join(fmt(v) for v in vals) + " | " +
              " | ".join(ratio(vals[0], v) for v in vals[1:]) + " |", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
