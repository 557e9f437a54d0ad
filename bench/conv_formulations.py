"""Convolution formulations on XLA:CPU: jax prototypes vs our lowering vs jax.jit (vs TensorFlow).

The shapes are the small CNN of bench/models.py (batch 32, 32x32x3 NHWC f32; conv3x3 3->32 SAME,
relu, conv3x3 32->64 SAME, relu, spatial mean, dense 64->10) and the convolutions its training
step adds (the input and filter gradients, with the dimension numbers our vjp emits). For each:

* `jax.jit`: the plain convolution, the baseline (ratio 1.00);
* jax prototypes of the candidate formulations (`im2col`, `extra row`, batch `split2`,
  `winograd` F(2x2,3x3), `shifted9`), and `jax.jit` compiled with YNNPACK off (an XLA flag,
  per executable), to show where the time goes;
* tfx with the lowering forced to `direct` (plain stablehlo.convolution) and with the measured
  rule (`auto`, the default) of compiler/lowering/conv_formulations.py;
* TensorFlow's tf.function (oneDNN) and tf.function(jit_compile=True), when installed.

Method: everything in one process; each round runs every candidate for about --budget ms
(blocking on each result), rounds interleave the candidates, and each figure is the median
round. The machine is noisy (2 cores shared), and formulations that use both cores suffer most
when a neighbour takes one, so compare within one run. First-call (compile) times are printed
for jax.jit and for tfx direct vs auto (fresh functions, compile caches off or cleared).

Usage: python bench/conv_formulations.py [--quick] [--rounds R] [--budget MS] [--no-tf]
                                         [--cases conv1,conv2,conv2_dx,conv2_dw,conv1_dw,cnn,
                                                  bottleneck_train] [--sweep]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
import jax.extend  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402
from jaxlib import xla_client as xc  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tfx_core as tx  # noqa: E402
from compiler.interpreters import bind
from compiler.ops.conv import convolution_op  # noqa: E402
from runtime import cache as rt_cache  # noqa: E402

tx.config.set_compile_cache_dir(None)  # first-call figures are XLA compiles, not disk loads

HEADER = "| case | candidate | ms | tfx/jax | first call ms |"
NHWC = ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
SAME = ((1, 1), (1, 1))


def _attrs(dims=NHWC, padding=SAME) -> dict:
    return dict(window_strides=(1, 1), padding=padding, lhs_dilation=(1, 1),
                rhs_dilation=(1, 1), dimension_numbers=dims, feature_group_count=1,
                batch_group_count=1)


# The cases: (lhs shape, rhs shape, attrs). dx and dw are the convolutions `_conv_vjp` emits
# for conv2 / conv1 (dx: the output cotangent with the flipped kernel; dw: the input with the
# cotangent as the kernel, batch and features swapped).
CASES = {
    "conv1": ((32, 32, 32, 3), (3, 3, 3, 32), _attrs()),
    "conv2": ((32, 32, 32, 32), (3, 3, 32, 64), _attrs()),
    "conv2_dx": ((32, 32, 32, 64), (3, 3, 32, 64),
                 _attrs(((0, 3, 1, 2), (2, 3, 0, 1), (0, 3, 1, 2)))),
    "conv2_dw": ((32, 32, 32, 32), (32, 32, 32, 64),
                 _attrs(((3, 0, 1, 2), (3, 0, 1, 2), (2, 3, 0, 1)))),
    "conv1_dw": ((32, 32, 32, 3), (32, 32, 32, 32),
                 _attrs(((3, 0, 1, 2), (3, 0, 1, 2), (2, 3, 0, 1)))),
}

# --quick (the smoke test) runs one case per code path: conv1 (NHWC: every prototype and TF;
# extra row by an output row), conv1_dw (a gradient layout: extra row by a kernel row) and the
# CNN. conv2_dw's extra-row prototype alone takes seconds a call.
QUICK = ("conv1", "conv1_dw", "cnn")


# ---------------------------------------------------------------- jax prototypes
def jconv(x, w, a):
    return lax.conv_general_dilated(
        x, w, a["window_strides"], a["padding"], a["lhs_dilation"], a["rhs_dilation"],
        lax.ConvDimensionNumbers(*a["dimension_numbers"]), precision="highest")


def j_im2col(x, w, a):
    """NHWC/HWIO, stride 1: pad, 9 slices, concatenate on channels, one dot."""
    n, h, wd, c = x.shape
    kh, kw, _, k = w.shape
    xp = jnp.pad(x, ((0, 0), *a["padding"], (0, 0)))
    oh, ow = xp.shape[1] - kh + 1, xp.shape[2] - kw + 1
    cols = [xp[:, i:i + oh, j:j + ow, :] for i in range(kh) for j in range(kw)]
    p = jnp.concatenate(cols, axis=-1).reshape(n * oh * ow, kh * kw * c)
    return (p @ w.reshape(kh * kw * c, k)).reshape(n, oh, ow, k)


def j_shifted9(x, w, a):
    """NHWC/HWIO, stride 1: one dot per kernel offset, summed."""
    kh, kw = w.shape[:2]
    xp = jnp.pad(x, ((0, 0), *a["padding"], (0, 0)))
    oh, ow = xp.shape[1] - kh + 1, xp.shape[2] - kw + 1
    acc = 0
    for i in range(kh):
        for j in range(kw):
            acc = acc + jnp.einsum("nhwc,ck->nhwk", xp[:, i:i + oh, j:j + ow, :], w[i, j])
    return acc


def j_split2(x, w, a):
    """The batch in two independent convolutions (forward layouts only)."""
    return jnp.concatenate([jconv(h, w, a) for h in jnp.split(x, 2, 0)], 0)


def j_extra_row(x, w, a):
    """The `eigen` formulation: an output (or kernel) row more than the input has rows, so
    XLA:CPU's YNNPACK matcher declines and XLA's multithreaded Eigen conv runs it."""
    ls, rs, os_ = a["dimension_numbers"]
    (lo, hi), rest = a["padding"][0], a["padding"][1:]
    in0, k0 = x.shape[ls[2]], w.shape[rs[2]]
    out0 = in0 + lo + hi - k0 + 1
    if out0 + 1 > in0:  # one more output row, sliced off
        y = jconv(x, w, {**a, "padding": ((lo, hi + 1), *rest)})
        return lax.slice_in_dim(y, 0, out0, axis=os_[2])
    widths = [(0, 0)] * w.ndim
    widths[rs[2]] = (0, 1)  # a zero kernel row and a row more of input padding: same sums
    return jconv(x, jnp.pad(w, widths), {**a, "padding": ((lo, hi + 1), *rest)})


_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float32)
_G = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], np.float32)
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float32)


def j_winograd(x, w, a):
    """Winograd F(2x2, 3x3), NHWC SAME stride 1, even H and W: 16 batched [tiles, C] x [C, K]."""
    n, h, wd, c = x.shape
    k = w.shape[-1]
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    d = jnp.stack([jnp.stack([xp[:, i:i + h:2, j:j + wd:2, :] for j in range(4)])
                   for i in range(4)])  # [4, 4, N, H/2, W/2, C]
    v = jnp.einsum("ia,jb,abnhwc->ijnhwc", _BT, _BT, d).reshape(16, -1, c)
    u = jnp.einsum("ia,jb,abck->ijck", _G, _G, w).reshape(16, c, k)
    m = jnp.einsum("tmc,tck->tmk", v, u).reshape(4, 4, n, h // 2, wd // 2, k)
    y = jnp.einsum("pi,qj,ijnhwk->pqnhwk", _AT, _AT, m)  # [2, 2, N, H/2, W/2, K]
    return jnp.transpose(y, (2, 3, 0, 4, 1, 5)).reshape(n, h, wd, k)


def jit_noynn(fn, *args):
    """jax's StableHLO for fn, compiled with XLA:CPU's YNNPACK fusions off (per executable)."""
    text = jax.jit(fn, keep_unused=True).lower(*args).as_text()
    be = jax.extend.backend.get_backend("cpu")
    opts = xc.CompileOptions()
    opts.env_option_overrides = [("xla_cpu_experimental_ynn_fusion_type", "")]
    exe = be.compile_and_load(text, xc.DeviceList((be.local_devices()[0],)), opts)
    return lambda: exe.execute_sharded(list(args)).disassemble_into_single_device_arrays()[0][0]


def jax_first_call(fn, *args) -> float:
    """ms to the first result of a fresh jax.jit(fn), jax's caches cleared."""
    jax.clear_caches()
    f = jax.jit(fn)
    t0 = time.perf_counter()
    f(*args).block_until_ready()
    return (time.perf_counter() - t0) * 1e3


# ---------------------------------------------------------------- tfx
def tfx_fn(mode: str, fn: Callable, *args) -> tuple[Callable, float]:
    """A fresh tx.function of fn lowered under conv formulation `mode`; (call, first call ms)."""
    prev = tx.config.set_conv_formulation(mode)
    rt_cache.MEMORY_CACHE.clear()  # an identical graph compiled earlier would be a cache hit
    try:
        f = tx.function(fn)
        t0 = time.perf_counter()
        f(*args)._buf.block_until_ready()
        first = (time.perf_counter() - t0) * 1e3
        tx.config.wait_for_background_compiles()  # steady state: the tuned program (tiering)
    finally:
        tx.config.set_conv_formulation(prev)
    return (lambda: f(*args)), first


# ---------------------------------------------------------------- the CNN
def cnn_params(rng):
    shapes = [(32, 32, 32, 3), (3, 3, 3, 32), (32,), (3, 3, 32, 64), (64,), (64, 10), (10,)]
    return [(rng.standard_normal(s, np.float32) * (1.0 if i == 0 else 0.2)) for i, s in
            enumerate(shapes)]


def cnn_jax(conv1, conv2):
    def f(x, w1, b1, w2, b2, wd, bd):
        h = jax.nn.relu(conv1(x, w1, CASES["conv1"][2]) + b1)
        h = jax.nn.relu(conv2(h, w2, CASES["conv2"][2]) + b2)
        return h.mean((1, 2)) @ wd + bd
    return f


def cnn_tfx(x, w1, b1, w2, b2, wd, bd):
    h = tx.nn.relu(tx.nn.conv2d(x, w1, 1, "SAME") + b1)
    h = tx.nn.relu(tx.nn.conv2d(h, w2, 1, "SAME") + b2)
    return tx.matmul(tx.reduce_mean(h, axis=(1, 2)), wd) + bd


def cnn_tf(tf):
    def f(x, w1, b1, w2, b2, wd, bd):
        h = tf.nn.relu(tf.nn.conv2d(x, w1, 1, "SAME") + b1)
        h = tf.nn.relu(tf.nn.conv2d(h, w2, 1, "SAME") + b2)
        return tf.matmul(tf.reduce_mean(h, axis=(1, 2)), wd) + bd
    return f


# ---------------------------------------------------------------- a bottleneck's train step
# ResNet bottleneck, 8x56x56x64: 1x1 64->64, 3x3 64->64, 1x1 64->256, + a 1x1 64->256
# projection, relu between; loss = sum(out * r); the step's result: the four filter gradients
# (flattened, concatenated). Exercises the 1x1 rules (dot forward / dx, im2col_t dw).
BOTTLENECK = [(1, 64, 64), (3, 64, 64), (1, 64, 256), (1, 64, 256)]


def bottleneck_params(rng):
    x = rng.standard_normal((8, 56, 56, 64), np.float32)
    ws = [(rng.standard_normal((k, k, c, o)) / np.sqrt(k * k * c)).astype(np.float32)
          for k, c, o in BOTTLENECK]
    return [x, *ws, rng.standard_normal((8, 56, 56, 256), np.float32)]


def bottleneck_jax(x, w1, w2, w3, wp, r):
    def loss(ws):
        c = lambda h, w: lax.conv_general_dilated(  # noqa: E731
            h, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        h = jax.nn.relu(c(x, ws[0]))
        h = jax.nn.relu(c(h, ws[1]))
        return (jax.nn.relu(c(h, ws[2]) + c(x, ws[3])) * r).sum()
    return jnp.concatenate([g.ravel() for g in jax.grad(loss)([w1, w2, w3, wp])])


def bottleneck_tfx(x, w1, w2, w3, wp, r):
    ws = [w1, w2, w3, wp]
    with tx.GradientTape() as tape:
        tape.watch(ws)
        h = tx.nn.relu(tx.nn.conv2d(x, w1, 1, "SAME"))
        h = tx.nn.relu(tx.nn.conv2d(h, w2, 1, "SAME"))
        y = tx.nn.relu(tx.nn.conv2d(h, w3, 1, "SAME") + tx.nn.conv2d(x, wp, 1, "SAME"))
        loss = tx.reduce_sum(y * r)
    return tx.concat([tx.reshape(g, [-1]) for g in tape.gradient(loss, ws)], 0)


def bottleneck_tf(tf):
    def f(x, w1, w2, w3, wp, r):
        ws = [w1, w2, w3, wp]
        with tf.GradientTape() as tape:
            tape.watch(ws)
            h = tf.nn.relu(tf.nn.conv2d(x, w1, 1, "SAME"))
            h = tf.nn.relu(tf.nn.conv2d(h, w2, 1, "SAME"))
            y = tf.nn.relu(tf.nn.conv2d(h, w3, 1, "SAME") + tf.nn.conv2d(x, wp, 1, "SAME"))
            loss = tf.reduce_sum(y * r)
        return tf.concat([tf.reshape(g, [-1]) for g in tape.gradient(loss, ws)], 0)
    return f


# ---------------------------------------------------------------- candidates per case
def candidates(case: str, tf) -> tuple[list[tuple[str, Callable, Callable]], dict, np.ndarray]:
    """[(name, call, block)], {name: first call ms}, and the reference result."""
    rng = np.random.default_rng(0)
    cands, first = [], {}
    blk_j = lambda r: r.block_until_ready()  # noqa: E731
    blk_t = lambda r: r._buf.block_until_ready()  # noqa: E731
    blk_tf = lambda r: r.numpy()  # noqa: E731
    if case == "bottleneck_train":
        ps = bottleneck_params(rng)
        js = [jax.device_put(p) for p in ps]
        ts = [tx.constant(p) for p in ps]
        first["jax.jit"] = jax_first_call(bottleneck_jax, *js)
        base = jax.jit(bottleneck_jax)
        ref = np.asarray(base(*js))
        cands.append(("jax.jit", lambda: base(*js), blk_j))
        for mode in ("direct", "auto"):
            call, first[f"tfx {mode}"] = tfx_fn(mode, bottleneck_tfx, *ts)
            cands.append((f"tfx {mode}", call, blk_t))
        if tf is not None:
            tps = [tf.constant(p) for p in ps]
            g = tf.function(bottleneck_tf(tf))
            gx = tf.function(bottleneck_tf(tf), jit_compile=True)
            cands.append(("tf.function", lambda: g(*tps), blk_tf))
            cands.append(("tf.function(jit_compile)", lambda: gx(*tps), blk_tf))
        return cands, first, ref
    if case == "cnn":
        ps = cnn_params(rng)
        js = [jax.device_put(p) for p in ps]
        ts = [tx.constant(p) for p in ps]
        first["jax.jit"] = jax_first_call(cnn_jax(jconv, jconv), *js)
        base = jax.jit(cnn_jax(jconv, jconv))
        ref = np.asarray(base(*js))
        cands.append(("jax.jit", lambda: base(*js), blk_j))
        proto = jax.jit(cnn_jax(j_im2col, j_extra_row))
        cands.append(("jax im2col + extra row", lambda: proto(*js), blk_j))
        cands.append(("jax.jit, YNNPACK off (flag)", jit_noynn(cnn_jax(jconv, jconv), *js),
                      blk_j))
        for mode in ("direct", "auto"):
            call, first[f"tfx {mode}"] = tfx_fn(mode, cnn_tfx, *ts)
            cands.append((f"tfx {mode}", call, blk_t))
        if tf is not None:
            tps = [tf.constant(p) for p in ps]
            g = tf.function(cnn_tf(tf))
            gx = tf.function(cnn_tf(tf), jit_compile=True)
            cands.append(("tf.function", lambda: g(*tps), blk_tf))
            cands.append(("tf.function(jit_compile)", lambda: gx(*tps), blk_tf))
        return cands, first, ref
    ls_, rs_, a = CASES[case]
    xn = rng.standard_normal(ls_, np.float32)
    wn = rng.standard_normal(rs_, np.float32)
    xj, wj = jax.device_put(xn), jax.device_put(wn)
    first["jax.jit"] = jax_first_call(lambda x, w: jconv(x, w, a), xj, wj)
    base = jax.jit(lambda x, w: jconv(x, w, a))
    ref = np.asarray(base(xj, wj))
    cands.append(("jax.jit", lambda: base(xj, wj), blk_j))
    protos = {"jax extra row": j_extra_row}
    if a["dimension_numbers"] == NHWC:
        protos = {"jax im2col": j_im2col, **protos, "jax split2": j_split2,
                  "jax winograd F(2x2,3x3)": j_winograd, "jax shifted9": j_shifted9}
    for name, p in protos.items():
        f = jax.jit(lambda x, w, p=p: p(x, w, a))
        cands.append((name, lambda f=f: f(xj, wj), blk_j))
    cands.append(("jax.jit, YNNPACK off (flag)", jit_noynn(lambda x, w: jconv(x, w, a), xj, wj),
                  blk_j))
    xt, wt = tx.constant(xn), tx.constant(wn)
    for mode in ("direct", "auto"):
        call, first[f"tfx {mode}"] = tfx_fn(mode, lambda x, w: bind(convolution_op, x, w, **a),
                                            xt, wt)
        cands.append((f"tfx {mode}", call, blk_t))
    if tf is not None and a["dimension_numbers"] == NHWC:
        xf, wf = tf.constant(xn), tf.constant(wn)
        g = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
        gx = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"), jit_compile=True)
        cands.append(("tf.function", lambda: g(xf, wf), blk_tf))
        cands.append(("tf.function(jit_compile)", lambda: gx(xf, wf), blk_tf))
    return cands, first, ref


def check(cands, ref) -> None:
    scale = float(np.abs(ref).max()) or 1.0
    for name, call, _ in cands:
        r = call()
        got = np.asarray(r.numpy() if hasattr(r, "numpy") else r)
        err = float(np.abs(got - ref).max()) / scale
        if not err < 1e-4:
            raise AssertionError(f"{name}: max error {err:.2e} (relative to the largest value)")


def measure(cands, rounds: int, budget_s: float) -> dict[str, float]:
    iters = {}
    for name, call, block in cands:  # warm up, and size each candidate's round to the budget
        block(call())
        t0 = time.perf_counter()
        block(call())
        iters[name] = max(1, min(500, int(budget_s / max(time.perf_counter() - t0, 1e-6))))
    times: dict[str, list[float]] = {name: [] for name, _, _ in cands}
    for _ in range(rounds):
        for name, call, block in cands:
            n = iters[name]
            t0 = time.perf_counter()
            for _ in range(n):
                block(call())
            times[name].append((time.perf_counter() - t0) / n * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: few, short rounds")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--budget", type=float, default=60.0, help="ms per candidate per round")
    ap.add_argument("--no-tf", action="store_true")
    ap.add_argument("--cases", default=None, help="default: all; --quick: " + ",".join(QUICK))
    ap.add_argument("--sweep", action="store_true",
                    help="every formulation of fwd/dx/dw convs at convnet shapes (SWEEP)")
    ap.add_argument("--dtypes", default="f32,bf16", help="--sweep: f32 and/or bf16")
    ap.add_argument("--only", default=None, help="--sweep: comma-separated parts of conv names")
    args = ap.parse_args()
    if args.sweep:
        print(f"jax {jax.__version__}, {os.cpu_count()} CPUs, {args.rounds} rounds x "
              f"~{args.budget:g} ms; ratios to direct; load {os.getloadavg()}\n", flush=True)
        sweep(args.rounds, args.budget / 1e3, args.dtypes.split(","), args.only)
        print(f"\nload {os.getloadavg()}")
        return
    rounds, budget = (2, 1.0) if args.quick else (args.rounds, args.budget)
    every = [*CASES, "cnn", "bottleneck_train"]
    cases = args.cases or ",".join(QUICK if args.quick else every)
    tf = None
    if not args.no_tf:
        try:
            import tensorflow as tf
        except ImportError:
            tf = None
    print(f"jax {jax.__version__}, {os.cpu_count()} CPUs, {rounds} rounds x ~{budget:g} ms; "
          f"tfx auto rule: compiler/lowering/conv_formulations.py\n")
    print(HEADER)
    print("|---|---|---:|---:|---:|")
    for case in cases.split(","):
        cands, first, ref = candidates(case, tf)
        check(cands, ref)
        ms = measure(cands, rounds, budget / 1e3)
        base = ms["jax.jit"]
        for name, _, _ in cands:
            fc = f"{first[name]:.0f}" if name in first else ""
            print(f"| {case} | {name} | {ms[name]:.3f} | {ms[name] / base:.2f} | {fc} |",
                  flush=True)
    print("\ntfx/jax: candidate ms / jax.jit ms for the same case (lower is better).")


# ---------------------------------------------------------------- the sweep (--sweep)
# (name, N, H=W, C_in, C_out, kernel, stride): convnet layers, N*OH*OW from ~500 to ~33k.
SWEEP = [
    ("cnn conv1", 32, 32, 3, 32, 3, 1), ("s16 16-32", 32, 16, 16, 32, 3, 1),
    ("cnn conv2", 32, 16, 32, 64, 3, 1), ("s8 16-32", 32, 8, 16, 32, 3, 1),
    ("s16 64-64", 16, 16, 64, 64, 3, 1), ("res 64-64", 8, 56, 64, 64, 3, 1),
    ("s8 128-128", 32, 8, 128, 128, 3, 1), ("s28 128-128", 8, 28, 128, 128, 3, 1),
    ("s14 256-256", 16, 14, 256, 256, 3, 1),
    ("train conv1 /2", 32, 32, 3, 32, 3, 2), ("train conv2 /2", 32, 16, 32, 64, 3, 2),
    ("train conv3 /2", 32, 8, 64, 128, 3, 2), ("s56 64-128 /2", 8, 56, 64, 128, 3, 2),
    ("s28 128-256 /2", 8, 28, 128, 256, 3, 2),
    ("1x1 s56 64-256", 8, 56, 64, 256, 1, 1), ("1x1 s28 128-128", 16, 28, 128, 128, 1, 1),
    ("1x1 s16 32-64", 32, 16, 32, 64, 1, 1), ("1x1 s14 256-256", 16, 14, 256, 256, 1, 1),
    ("1x1 s56 64-128 /2", 8, 56, 64, 128, 1, 2), ("1x1 s28 128-256 /2", 16, 28, 128, 256, 1, 2),
    ("c3 s16 3-32", 8, 16, 3, 32, 3, 1), ("c3 s32 3-16 /2", 8, 32, 3, 16, 3, 2),
    ("c3 s64 3-32 /2", 16, 64, 3, 32, 3, 2), ("1x1 s8 64-64", 32, 8, 64, 64, 1, 1),
    ("s56 32-64 /2", 8, 56, 32, 64, 3, 2), ("s56 64-128 /2 n16", 16, 56, 64, 128, 3, 2),
    ("s28 64-128 /2", 8, 28, 64, 128, 3, 2),
]
MODES = ("direct", "im2col", "eigen", "im2col_t")


def _same(size: int, k: int, s: int) -> tuple[int, tuple[int, int]]:
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, (total // 2, total - total // 2)


def sweep_convs(n, hw, c, k, ks, s) -> dict[str, tuple[tuple, tuple, dict]]:
    """The forward conv (NHWC/HWIO, SAME) and the two convs its vjp emits (compiler/ops/conv.py
    `_conv_vjp`: dx by `conv_transpose_lhs`, dw with batch and features swapped): name ->
    (lhs shape, rhs shape, attrs)."""
    o, (lo, hi) = _same(hw, ks, s)
    pad = ((lo, hi), (lo, hi))
    fwd = dict(window_strides=(s, s), padding=pad, lhs_dilation=(1, 1), rhs_dilation=(1, 1),
               dimension_numbers=NHWC, feature_group_count=1, batch_group_count=1)
    pl = ks - 1 - lo
    dx_pad = (pl, (hw - 1) + ks - pl - ((o - 1) * s + 1))
    dx = {**fwd, "window_strides": (1, 1), "padding": (dx_pad, dx_pad), "lhs_dilation": (s, s),
          "dimension_numbers": ((0, 3, 1, 2), (2, 3, 0, 1), (0, 3, 1, 2))}
    dw_pad = (lo, (ks - 1) + (o - 1) * s + 1 - hw - lo)
    dw = {**fwd, "window_strides": (1, 1), "padding": (dw_pad, dw_pad), "rhs_dilation": (s, s),
          "dimension_numbers": ((3, 0, 1, 2), (3, 0, 1, 2), (2, 3, 0, 1))}
    return {"fwd": ((n, hw, hw, c), (ks, ks, c, k), fwd),
            "dx": ((n, o, o, k), (ks, ks, c, k), dx),
            "dw": ((n, hw, hw, c), (n, o, o, k), dw)}


def sweep(rounds: int, budget_s: float, dtypes: list[str], only: str | None) -> None:
    """Every exact formulation of every sweep conv, forced through tfx, against the plain one."""
    from compiler.ir.types import BF16, F32, TensorType
    from compiler.lowering import conv_formulations as cf
    from compiler.lowering.options import LoweringOptions

    tx.config.set_tiered_compilation(False)  # steady state of the forced formulation
    rng = np.random.default_rng(0)
    print("| conv | pass | dtype | N*OH*OW | direct ms | im2col | eigen | im2col_t | auto | best |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|---|")
    for name, n, hw, c, k, ks, s in SWEEP:
        if only and not any(o in name for o in only.split(",")):
            continue
        for dt in dtypes:
            for pas, (sl, sr, a) in sweep_convs(n, hw, c, k, ks, s).items():
                ddt = {"f32": F32, "bf16": BF16}[dt]
                xn = rng.standard_normal(sl).astype(np.float32)
                wn = (rng.standard_normal(sr) / np.sqrt(np.prod(sr[:-1]))).astype(np.float32)
                x, w = tx.cast(tx.constant(xn), dt.replace("f", "float")), tx.cast(
                    tx.constant(wn), dt.replace("f", "float"))
                opts = LoweringOptions("cpu", "auto")
                call_t = [TensorType(ddt, sl), TensorType(ddt, sr)]
                out_t = TensorType(ddt, tuple(bind(convolution_op, tx.constant(
                    np.zeros(sl, np.float32)), tx.constant(np.zeros(sr, np.float32)),
                    **a).shape))
                auto = cf.choose(opts, *call_t, out_t, a)
                cands, ref = [], None
                for mode in MODES:
                    if cf.choose(LoweringOptions("cpu", mode), *call_t, out_t, a) != mode \
                            and mode != "direct":
                        continue
                    if (mode == "im2col") == (pas == "dw") and mode in ("im2col", "im2col_t"):
                        continue  # patches over a window of N*OH*OW positions: never
                    call, _ = tfx_fn(mode, lambda x, w, a=a: bind(convolution_op, x, w, **a),
                                     x, w)
                    got = np.asarray(tx.cast(call(), "float32").numpy(), np.float64)
                    if ref is None:
                        ref = got
                    err = np.abs(got - ref).max() / (np.abs(ref).max() or 1.0)
                    if not err < (1e-4 if dt == "f32" else 1e-2):
                        raise AssertionError(f"{name} {pas} {dt} {mode}: error {err:.2e}")
                    cands.append((mode, call, lambda r: r._buf.block_until_ready()))
                ms = measure(cands, rounds, budget_s)
                base = ms["direct"]
                cols = [f"{ms[m] / base:.2f}" if m in ms else "-" for m in MODES[1:]]
                best = min(ms, key=ms.get)
                m = n * (-(-hw // s)) ** 2
                print(f"| {name} | {pas} | {dt} | {m} | {base:.3f} | {' | '.join(cols)} "
                      f"| {auto} | {best} |", flush=True)


if __name__ == "__main__":
    main()
