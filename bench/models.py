"""Model inference, compiled: tfx vs jax.jit vs tf.function (graph and jit_compile=True).

    cnn:          batch 32, 32x32x3 NHWC f32; conv3x3 3->32 + bias, relu, conv3x3 32->64 + bias,
                  relu (both SAME, stride 1), spatial mean, dense 64->10; also run as
                  "tfx plain conv": our convolution lowering forced to one plain
                  stablehlo.convolution, what jax.jit emits (the rule that picks a faster
                  formulation per shape is in compiler/lowering/conv_formulations.py)
    transformer:  batch 8, seq 128, d_model 256, 4 heads; pre-LN block: layer norm, multi-head
                  self-attention (einsum), residual, layer norm, GELU (erf) MLP 256-1024-256,
                  residual
    cnn_train:    issue 18's CNN training step (conv3x3 stride 2 x3 + BatchNorm training mode +
                  relu, global mean, dense, SGD), batch 32, 32x32x3; see bench/_convnets.py
    resblock:     ResNet basic block (2 conv3x3 + BN + relu + identity skip), 8x56x56x64, inference

All peers get the same weights and input and must agree with numpy (float64) first. Weights are
each framework's idiom: `tx.Variable`s / `tf.Variable`s captured by the function, a params
pytree argument for jax.jit. "first call" is trace + compile + the first result of a fresh
function after clearing compile caches (tfx's persistent disk cache is off). "steady" is the
median over calls (each waits for its result), best of interleaved rounds. Ratios: tfx / peer.
"warm cache" is the first call of the model in a FRESH process whose persistent compile cache
was filled by an earlier process (tfx: TFX_CACHE_DIR; jax: jax_compilation_cache_dir); that
process first runs one tiny unrelated function so client start-up is not counted. TensorFlow has
no persistent compile cache ("—"). "best peer" names the fastest non-tfx peer on each row.

Usage: python bench/models.py [--quick] [--calls N] [--rounds R]
                              [--models cnn,transformer,cnn_train,resblock] [--no-tf] [--no-warm]
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
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from scipy import special  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import _convnets as cv  # noqa: E402
from _report import fmt, median_call_time, ratio  # noqa: E402

import tfx_core as tx  # noqa: E402
from runtime import cache as rt_cache  # noqa: E402

WARM_CHILD = os.environ.get("BENCH_MODELS_WARM_CHILD")  # "model,peer,size" in a cache child
if not WARM_CHILD:
    tx.config.set_compile_cache_dir(None)  # first-call figures are XLA compiles

HEADS = 4


# ---------------------------------------------------------------- weights and inputs
def cnn_data(seed: int = 0) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(seed)

    def he(*shape):
        return (rng.standard_normal(shape) * np.sqrt(2 / np.prod(shape[:-1]))).astype(np.float32)

    p = {"w1": he(3, 3, 3, 32), "b1": np.full(32, 0.01, np.float32),
         "w2": he(3, 3, 32, 64), "b2": np.full(64, 0.01, np.float32),
         "wd": he(64, 10), "bd": np.zeros(10, np.float32)}
    return p, rng.standard_normal((32, 32, 32, 3)).astype(np.float32)


def transformer_data(seed: int = 0) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(seed)
    d, ff = 256, 1024

    def w(*shape):
        return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)

    p = {"q": w(d, d), "k": w(d, d), "v": w(d, d), "o": w(d, d),
         "g1": np.ones(d, np.float32), "be1": np.zeros(d, np.float32),
         "g2": np.ones(d, np.float32), "be2": np.zeros(d, np.float32),
         "w1": w(d, ff), "c1": np.zeros(ff, np.float32), "w2": w(ff, d),
         "c2": np.zeros(d, np.float32)}
    return p, rng.standard_normal((8, 128, d)).astype(np.float32)


# ---------------------------------------------------------------- numpy (float64) references
def np_cnn(p, data):
    (x,) = data if isinstance(data, tuple) else (data,)
    def conv(h, w):
        hp = np.pad(h, ((0, 0), (1, 1), (1, 1), (0, 0)))
        n, hh, ww, _ = h.shape
        return sum(hp[:, i:i + hh, j:j + ww] @ w[i, j] for i in range(3) for j in range(3))

    h = np.maximum(conv(x, p["w1"]) + p["b1"], 0)
    h = np.maximum(conv(h, p["w2"]) + p["b2"], 0)
    return h.mean(axis=(1, 2)) @ p["wd"] + p["bd"]


def np_transformer(p, data):
    (x,) = data if isinstance(data, tuple) else (data,)
    def ln(x, g, b):
        return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b

    b, s, d = x.shape
    dk = d // HEADS
    h = ln(x, p["g1"], p["be1"])
    q, k, v = (np.einsum("bsd,dhk->bshk", h, p[n].reshape(d, HEADS, dk)) for n in "qkv")
    sc = np.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(dk)
    a = np.exp(sc - sc.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    x = x + np.einsum("bhqs,bshk->bqhk", a, v).reshape(b, s, d) @ p["o"]
    u = ln(x, p["g2"], p["be2"]) @ p["w1"] + p["c1"]
    u = 0.5 * u * (1 + special.erf(u / np.sqrt(2)))
    return x + u @ p["w2"] + p["c2"]


# ---------------------------------------------------------------- tfx and tf: one source
# tx mirrors TensorFlow's API, so the same code runs with `lib` = tx or tf.
def lib_cnn(lib, p, x):
    h = lib.nn.relu(lib.nn.conv2d(x, p["w1"], strides=1, padding="SAME") + p["b1"])
    h = lib.nn.relu(lib.nn.conv2d(h, p["w2"], strides=1, padding="SAME") + p["b2"])
    return lib.matmul(lib.reduce_mean(h, axis=[1, 2]), p["wd"]) + p["bd"]


def lib_transformer(lib, p, x):
    def ln(x, g, b):
        mean, var = lib.nn.moments(x, axes=[-1], keepdims=True)
        return lib.nn.batch_normalization(x, mean, var, b, g, 1e-5)

    b, s, d = x.shape
    dk = d // HEADS
    h = ln(x, p["g1"], p["be1"])
    q, k, v = (lib.einsum("bsd,dhk->bshk", h, lib.reshape(p[n], [d, HEADS, dk])) for n in "qkv")
    att = lib.nn.softmax(lib.einsum("bqhk,bshk->bhqs", q, k) / float(np.sqrt(dk)), axis=-1)
    x = x + lib.matmul(lib.reshape(lib.einsum("bhqs,bshk->bqhk", att, v), [b, s, d]), p["o"])
    u = lib.nn.gelu(lib.matmul(ln(x, p["g2"], p["be2"]), p["w1"]) + p["c1"], approximate=False)
    return x + lib.matmul(u, p["w2"]) + p["c2"]


def make_tfx(model, params, data, conv_mode: str = "auto"):
    vs = {k: tx.Variable(v, name=k) for k, v in params.items()}
    f = tx.function(lambda *a: model(tx, vs, *a))
    xt = [tx.constant(a) for a in data]

    def call():
        prev = tx.config.set_conv_formulation(conv_mode)  # read when the first call lowers
        try:
            return f(*xt)
        finally:
            tx.config.set_conv_formulation(prev)

    return call, lambda out: out._buf.block_until_ready()


# ---------------------------------------------------------------- jax
def jax_cnn(p, x):
    def conv(h, w):
        return jax.lax.conv_general_dilated(h, w, (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))

    h = jax.nn.relu(conv(x, p["w1"]) + p["b1"])
    h = jax.nn.relu(conv(h, p["w2"]) + p["b2"])
    return jnp.mean(h, axis=(1, 2)) @ p["wd"] + p["bd"]


def jax_transformer(p, x):
    def ln(x, g, b):
        mean = x.mean(-1, keepdims=True)
        var = jnp.square(x - mean).mean(-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-5) * g + b

    b, s, d = x.shape
    dk = d // HEADS
    h = ln(x, p["g1"], p["be1"])
    q, k, v = (jnp.einsum("bsd,dhk->bshk", h, p[n].reshape(d, HEADS, dk)) for n in "qkv")
    att = jax.nn.softmax(jnp.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(dk), axis=-1)
    x = x + jnp.einsum("bhqs,bshk->bqhk", att, v).reshape(b, s, d) @ p["o"]
    u = jax.nn.gelu(ln(x, p["g2"], p["be2"]) @ p["w1"] + p["c1"], approximate=False)
    return x + u @ p["w2"] + p["c2"]


def make_jax(model, params, data):
    if model is cv.jax_train:  # a train step returns new params: carry them (donated)
        return cv.make_jax_train(model, params, data)
    f = jax.jit(model)
    pj = jax.device_put(params)
    xj = [jax.device_put(a) for a in data]
    return lambda: f(pj, *xj), lambda out: out.block_until_ready()


# ---------------------------------------------------------------- tf
def _tf():
    try:
        import tensorflow as tf
    except Exception:
        return None
    tf.get_logger().setLevel("ERROR")  # fresh functions per first-call round are on purpose
    return tf


def make_tf(jit: bool):
    def make(model, params, data):
        tf = _tf()
        if tf is None:
            return None
        vs = {k: tf.Variable(v) for k, v in params.items()}
        # no Python control flow on tensors here; autograph mis-converts the nested helpers
        f = tf.function(lambda *a: model(tf, vs, *a), jit_compile=jit, autograph=False)
        xt = [tf.constant(a) for a in data]
        return lambda: f(*xt), lambda out: out.numpy()  # CPU tensors: ready once returned

    return make


# ---------------------------------------------------------------- measuring
def _one_input(data):
    """A (params, x) data function as (size) -> (params, (x,)), the shape of the issue 18 ones."""
    def sized(size: str) -> tuple[dict, tuple]:
        p, x = data()
        return p, (x,)

    return sized


MODELS = {
    "cnn": (_one_input(cnn_data), np_cnn,
            {"tfx": lib_cnn, "jax.jit": jax_cnn, "tf graph": lib_cnn,
             "tf jit_compile": lib_cnn, "tfx plain conv": lib_cnn}),
    "transformer": (_one_input(transformer_data), np_transformer,
                    {"tfx": lib_transformer, "jax.jit": jax_transformer,
                     "tf graph": lib_transformer, "tf jit_compile": lib_transformer,
                     "tfx plain conv": None}),
    "cnn_train": (cv.train_data, cv.np_train,
                  {"tfx": cv.lib_train, "jax.jit": cv.jax_train, "tf graph": cv.lib_train,
                   "tf jit_compile": cv.lib_train, "tfx plain conv": cv.lib_train}),
    "resblock": (cv.block_data, cv.np_block,
                 {"tfx": cv.lib_block, "jax.jit": cv.jax_block, "tf graph": cv.lib_block,
                  "tf jit_compile": cv.lib_block, "tfx plain conv": cv.lib_block}),
}
WARM_PEERS = ("tfx", "jax.jit")  # the peers with a persistent compile cache
MAKERS = {"tfx": make_tfx, "jax.jit": make_jax,
          "tfx plain conv": lambda *a: make_tfx(*a, conv_mode="direct"), "tf graph": make_tf(False),
          "tf jit_compile": make_tf(True)}


def first_call(make, model, params, x):
    rt_cache.MEMORY_CACHE.clear()
    jax.clear_caches()
    made = make(model, params, x)
    if made is None:
        return float("nan"), None
    call, wait = made
    t0 = time.perf_counter()
    out = call()
    wait(out)
    took = time.perf_counter() - t0
    # tiered compilation: tfx returned the quick program's result; the tuned one is compiling
    # in the background. Wait for it (untimed), so steady state times the tuned code and the
    # next peer's first call runs on an idle machine.
    tx.config.wait_for_background_compiles()
    return took, (call, wait, np.asarray(out))


steady = median_call_time


def rel_err(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) + 1e-30))


def bench_model(name: str, calls: int, rounds: int, peers: list[str], size: str,
                only: tuple[str, ...] | None = None) -> dict:
    data, ref, impls = MODELS[name]
    params, x = data(size)
    want = np.ravel(ref({k: v.astype(np.float64) for k, v in params.items()},
                        tuple(a.astype(np.float64) for a in x)))
    applicable = [p for p in peers if impls[p] is not None and (only is None or p in only)]
    for peer in applicable if only is None else ():  # an unreported warm-up each pays
        first_call(MAKERS[peer], impls[peer], params, x)  # process-level start-up
    firsts, runs, outs = {}, {}, {}
    for peer in applicable:
        firsts[peer], made = first_call(MAKERS[peer], impls[peer], params, x)
        if made is None:
            continue
        call, wait, out = made
        outs[peer] = np.ravel(out)
        err = rel_err(outs[peer][:want.size], want)  # numpy checks the forward values
        if err > 1e-3:
            raise SystemExit(f"{name}: {peer} disagrees with numpy (max rel err {err:.2e})")
        runs[peer] = (call, wait)
    for peer, out in outs.items():  # and the rest (train: the filter gradient) peer vs jax.jit
        err = rel_err(out, outs["jax.jit"])
        if err > 2e-3:
            raise SystemExit(f"{name}: {peer} disagrees with jax.jit (max rel err {err:.2e})")
    best: dict[str, float] = {}
    for _ in range(rounds):  # interleaved rounds: load drift hits every peer alike
        for peer, (call, wait) in runs.items():
            best[peer] = min(best.get(peer, float("inf")), steady(call, wait, calls))
    return {p: (best.get(p, float("nan")), firsts.get(p, float("nan"))) for p in peers}


def warm_child(spec: str) -> None:
    """In a fresh process: one tiny function (client start-up), then the model's first call."""
    name, peer, size = spec.split(",")
    if peer == "jax.jit":
        jax.config.update("jax_compilation_cache_dir", os.environ["BENCH_JAX_CACHE"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        jax.jit(lambda a: a + 1)(np.float32(1)).block_until_ready()
    else:
        tx.function(lambda a: a + 1)(tx.constant(1.0))._buf.block_until_ready()
    data, _, impls = MODELS[name]
    params, x = data(size)
    made = MAKERS[peer](impls[peer], params, x)
    call, wait = made
    t0 = time.perf_counter()
    wait(call())
    print(f"WARM {time.perf_counter() - t0:.6f}")


def warm_first_call(name: str, peer: str, size: str, repeats: int) -> float:
    """Median first call with a warm persistent cache: fill it once, then fresh processes."""
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, BENCH_MODELS_WARM_CHILD=f"{name},{peer},{size}",
                   TFX_CACHE_DIR=os.path.join(d, "tfx"), BENCH_JAX_CACHE=os.path.join(d, "jax"))
        times = []
        for i in range(repeats + 1):  # the first child fills the cache
            out = subprocess.run([sys.executable, os.path.abspath(__file__)], env=env,
                                 capture_output=True, text=True, check=True).stdout
            if i:
                times.append(float(out.split("WARM ")[1].split()[0]))
        return statistics.median(times)


def main() -> None:
    if WARM_CHILD:
        warm_child(WARM_CHILD)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few calls, tiny shapes (smoke test)")
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--models", default=None,
                    help="default cnn,transformer,cnn_train,resblock (--quick: cnn,transformer,"
                         "cnn_train at tiny size)")
    ap.add_argument("--no-tf", action="store_true", help="skip TensorFlow")
    ap.add_argument("--no-warm", action="store_true", help="skip the warm-cache subprocesses")
    ap.add_argument("--warm-repeats", type=int, default=3)
    args = ap.parse_args()
    calls, rounds = (3, 1) if args.quick else (args.calls, args.rounds)
    size = "quick" if args.quick else "full"
    models = args.models or ("cnn,transformer,cnn_train" if args.quick
                             else "cnn,transformer,cnn_train,resblock")
    warm = not (args.quick or args.no_warm)
    peers = ["tfx", "jax.jit"] + ([] if args.no_tf or _tf() is None
                                  else ["tf graph", "tf jit_compile"]) + ["tfx plain conv"]
    note = f"; warm cache: median of {args.warm_repeats} fresh processes" if warm else ""
    print(f"median of {calls} calls, best of {rounds} interleaved rounds; ms{note}")
    print()
    cols = ["model", "", *peers, *(f"tfx/{p}" for p in peers[1:]), "best peer"]
    print("| " + " | ".join(cols) + " |")
    print("|---" * len(cols) + "|")
    for name in models.split(","):
        # --quick keeps the smoke test short: the train step only for tfx and jax.jit, no warm-up
        only = ("tfx", "jax.jit") if args.quick and name == "cnn_train" else None
        res = bench_model(name, calls, rounds, peers, size, only)
        rows = [("steady", [res[p][0] for p in peers]), ("first call", [res[p][1] for p in peers])]
        if warm and name in ("cnn_train", "resblock"):
            rows.append(("first call, warm cache",
                         [warm_first_call(name, p, size, args.warm_repeats) if p in WARM_PEERS
                          else float("nan") for p in peers]))
        for what, vals in rows:
            others = [(v, p) for p, v in zip(peers[1:], vals[1:]) if v == v and "tfx" not in p]
            top = min(others)[1] if others else "—"
            print(f"| {name} | {what} | " + " | ".join(fmt(v) for v in vals) + " | " +
                  " | ".join(ratio(vals[0], v) for v in vals[1:]) + f" | {top} |")


if __name__ == "__main__":
    main()
