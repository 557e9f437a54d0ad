"""Cold start of saved models: a fresh process loads an artifact and makes its first call.

Two models (float32, fixed seeds; `--quick` shrinks the shapes and, unless `--models` is
given, runs only the transformer: the smoke test's end-to-end run), written once against a small
ops table so tfx, jax and TF compute the same math with the same weights (built in NumPy):

* `mlp`: 784-512-512-10, batch 128, ReLU, softmax.
* `transformer`: one pre-LN block, B=4 T=128 D=256, 4 heads, layernorm by hand, softmax
  attention, MLP 256-1024-256 with exact GELU (the shapes of bench/passes.py; reshapes use -1
  for the batch so the same code also traces with a `None` batch).

The parent process saves each model three ways:

* tfx: a `tx.Module` whose weights are `tx.Variable`s and whose `__call__` is a
  `@tx.function(input_signature=[TensorSpec([B, ...])])`, via `tx.saved_model.save` -> one
  `model.tfx` (a static signature: its StableHLO is in the file and is compiled during `load`).
  A second artifact with a `None` batch dim is compiled from the IR at the first call instead.
* TF: a `tf.Module` with `tf.Variable` weights and a
  `tf.function(input_signature=..., jit_compile=True)` `__call__`, via `tf.saved_model.save`
  (a directory; its size is the total of its files). XLA compiles at the first call.
* jax: `jax.export.export(jax.jit(f))(ShapeDtypeStruct).serialize()` written to one file, with
  the weights **baked in as constants** (closed-over NumPy arrays), so it is a single artifact
  like the other two. `Exported.call` compiles at the first call.

Each cold start runs in a FRESH child process (`subprocess.run([sys.executable, "-c", CHILD])`).
The child loads the input `.npy` with NumPy (imported before the clock starts, for everyone),
then times, with `time.perf_counter`:

* import: `import tfx_core` / `import tensorflow` / `import jax` (tfx's import includes jax's);
* load: `tx.saved_model.load` / `tf.saved_model.load` / reading the file + `jax.export.deserialize`;
* first call: the call on the NumPy input until the result is a NumPy array on the host
  (`.numpy()` / `np.asarray`, which blocks).

The headline **cold start = load + first call**; imports are reported separately (TF's alone
takes seconds). "process" is the child's whole wall time seen by the parent (interpreter start,
imports, teardown). Rows, each run as R children (default 5; medians, min-max shown):

* tfx, compiling: `TFX_CACHE_DIR` is a new empty directory for every child (so a persistent
  cache, if there is one, misses and also pays for writing its entry: a first run ever).
* tfx, cache warm: one unmeasured child fills a cache directory, then the measured children
  use it. If the cache directory stays empty (no persistent cache in this tree yet), the row
  says so: it is then a second "compiling" row.
* tfx, `allow_compiled`: bundled executables (`save(..., include_compiled=True)`,
  `load(..., allow_compiled=True)`); printed as "not implemented yet" while those keywords
  don't exist.
* tfx with a `None` batch (compiling, cache warm): the trace is specialized, optimized, lowered
  and compiled at the first call.
* TF SavedModel and jax.export; plus jax.export with JAX's own persistent compilation cache warm
  (`JAX_COMPILATION_CACHE_DIR`, min compile time 0), the peer of tfx's warm cache.

Every child's output is compared (allclose) with `jax.jit` of the same math in the parent, and
a mismatch is flagged. No child inherits `JAX_COMPILATION_CACHE_DIR` or `TFX_CACHE_DIR` unless
its row sets them. Rounds interleave the rows (each round runs every row once), so a busy
neighbour slows them all alike. `tfx/tf` and `tfx/jax` divide tfx's cold start by TF
SavedModel's and jax.export's (lower is better); the aim printed below the tables: with a warm
cache or bundled executables at least 5x faster than TF SavedModel, and an artifact no larger
than TF's.

Usage: python bench/export.py [--quick] [--rounds R] [--models mlp,transformer] [--no-tf]
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import tfx_core as tx  # noqa: E402
from runtime.artifact import read_artifact  # noqa: E402

HEADER = ("| row | import ms | load ms | first call ms | cold start ms | min–max | process ms "
          "| XLA in child ms | tfx/tf | tfx/jax |")
SIZE_HEADER = "| artifact | bytes | vs TF | what is in it |"
AIM_SPEEDUP = 5.0

# The child: numpy first (outside the clock), then import / load / first call, timed inside.
CHILD = r"""
import json, sys, time
import numpy as np
kind, path, inp, outp = sys.argv[1:5]
x = np.load(inp)
info = {}
t0 = time.perf_counter()
if kind in ("tfx", "tfx_compiled"):
    import tfx_core as tx
    t1 = time.perf_counter()
    if kind == "tfx_compiled":
        m = tx.saved_model.load(path, allow_compiled=True)
    else:
        m = tx.saved_model.load(path)
    t2 = time.perf_counter()
    y = m(x).numpy()
    t3 = time.perf_counter()
    cf = m.signatures["__call__"]
    c = cf._latest() if hasattr(cf, "_latest") else None
    if c is not None:
        info["xla"] = float(c.timings.get("xla", float("nan")))
        info["cache_hit"] = bool(getattr(c, "cache_hit", False) or getattr(c, "disk_hit", False))
elif kind == "tf":
    import tensorflow as tf
    t1 = time.perf_counter()
    m = tf.saved_model.load(path)
    t2 = time.perf_counter()
    y = m(x).numpy()
    t3 = time.perf_counter()
elif kind == "jax":
    import jax
    import jax.export
    t1 = time.perf_counter()
    with open(path, "rb") as f:
        exp = jax.export.deserialize(bytearray(f.read()))
    t2 = time.perf_counter()
    y = np.asarray(exp.call(x))
    t3 = time.perf_counter()
else:
    raise SystemExit("unknown kind " + kind)
np.save(outp, y)
print("RESULT " + json.dumps({"import": t1 - t0, "load": t2 - t1, "first": t3 - t2, **info}))
"""


# ---------------------------------------------------------------- the models, once per framework
def _ops_tx():
    return SimpleNamespace(
        matmul=tx.matmul, relu=tx.nn.relu,
        gelu=lambda z, approx=False: tx.nn.gelu(z, approximate=approx),
        softmax=lambda z: tx.nn.softmax(z, axis=-1), sqrt=tx.sqrt, square=tx.square,
        mean=lambda z: tx.reduce_mean(z, axis=-1, keepdims=True),
        reshape=tx.reshape, transpose=tx.transpose)


def _ops_jax():
    return SimpleNamespace(
        matmul=jnp.matmul, relu=jax.nn.relu,
        gelu=lambda z, approx=False: jax.nn.gelu(z, approximate=approx),
        softmax=lambda z: jax.nn.softmax(z, axis=-1), sqrt=jnp.sqrt, square=jnp.square,
        mean=lambda z: jnp.mean(z, axis=-1, keepdims=True),
        reshape=jnp.reshape, transpose=jnp.transpose)


def _ops_tf(tf):
    return SimpleNamespace(
        matmul=tf.matmul, relu=tf.nn.relu,
        gelu=lambda z, approx=False: tf.nn.gelu(z, approximate=approx),
        softmax=lambda z: tf.nn.softmax(z, axis=-1), sqrt=tf.sqrt, square=tf.square,
        mean=lambda z: tf.reduce_mean(z, axis=-1, keepdims=True),
        reshape=tf.reshape, transpose=tf.transpose)


@dataclass
class Model:
    name: str
    title: str
    x: np.ndarray
    params: list[np.ndarray]
    body: Callable  # body(ops, x, params)
    rtol: float = 1e-4
    atol: float = 1e-5
    fallback: Callable[[], Model] | None = None  # a variant to use if tfx can't save this one


def _init(rng, shape, fan_in):
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)


def make_mlp(quick: bool) -> Model:
    batch, sizes = (32 if quick else 128), (784, 512, 512, 10)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [_init(rng, (a, b), a), (rng.standard_normal(b) * 0.1).astype(np.float32)]

    def body(o, x, p):
        w1, b1, w2, b2, w3, b3 = p
        h = o.relu(o.matmul(x, w1) + b1)
        h = o.relu(o.matmul(h, w2) + b2)
        return o.softmax(o.matmul(h, w3) + b3)

    return Model("mlp", f"MLP {'-'.join(map(str, sizes))}, batch {batch}, ReLU, softmax",
                 x, params, body)


def make_transformer(quick: bool, approximate_gelu: bool = False) -> Model:
    b, t, d, heads = (2, 32, 128, 4) if quick else (4, 128, 256, 4)
    dh, ff = d // heads, 4 * d
    rng = np.random.default_rng(2)
    x = rng.standard_normal((b, t, d)).astype(np.float32)
    params = [np.ones(d, np.float32), np.zeros(d, np.float32)]                  # ln1
    for _ in range(4):                                                          # q, k, v, o
        params += [_init(rng, (d, d), d), (rng.standard_normal(d) * 0.02).astype(np.float32)]
    params += [np.ones(d, np.float32), np.zeros(d, np.float32)]                 # ln2
    params += [_init(rng, (d, ff), d), np.zeros(ff, np.float32),
               _init(rng, (ff, d), ff), np.zeros(d, np.float32)]                # mlp
    eps, scale = 1e-5, 1.0 / math.sqrt(dh)

    def body(o, x, p):
        g1, be1, wq, bq, wk, bk, wv, bv, wo, bo, g2, be2, w1, b1, w2, b2 = p

        def layernorm(h, g, be):
            mu = o.mean(h)
            var = o.mean(o.square(h - mu))
            return (h - mu) / o.sqrt(var + eps) * g + be

        def heads_of(h):
            return o.transpose(o.reshape(h, [-1, t, heads, dh]), [0, 2, 1, 3])

        h = layernorm(x, g1, be1)
        q = heads_of(o.matmul(h, wq) + bq)
        k = heads_of(o.matmul(h, wk) + bk)
        v = heads_of(o.matmul(h, wv) + bv)
        s = o.matmul(q, o.transpose(k, [0, 1, 3, 2])) * scale
        a = o.matmul(o.softmax(s), v)
        a = o.reshape(o.transpose(a, [0, 2, 1, 3]), [-1, t, d])
        x = x + o.matmul(a, wo) + bo
        h = layernorm(x, g2, be2)
        return x + o.matmul(o.gelu(o.matmul(h, w1) + b1, approximate_gelu), w2) + b2

    kind = "tanh-approximate" if approximate_gelu else "exact"
    return Model("transformer", f"pre-LN transformer block, B={b} T={t} D={d}, {heads} heads, "
                 f"MLP {d}-{ff}-{d} {kind} GELU", x, params, body, rtol=1e-4, atol=1e-4,
                 fallback=None if approximate_gelu else lambda: make_transformer(quick, True))


MODELS = {"mlp": make_mlp, "transformer": make_transformer}


# ---------------------------------------------------------------- saving
def compiled_api() -> bool:
    """Whether save/load have the bundled-executables keywords (a later issue)."""
    try:
        save_kw = inspect.signature(tx.saved_model.save).parameters
        load_kw = inspect.signature(tx.saved_model.load).parameters
    except (TypeError, ValueError):
        return False
    return "include_compiled" in save_kw and "allow_compiled" in load_kw


def save_tfx(model: Model, path: str, batch: int | None, include_compiled: bool = False) -> None:
    ops, body, params = _ops_tx(), model.body, model.params
    shape = [batch, *model.x.shape[1:]]

    class TfxModel(tx.Module):
        def __init__(self):
            super().__init__(name=model.name)
            self.w = [tx.Variable(p, name=f"w{i}") for i, p in enumerate(params)]

        @tx.function(input_signature=[tx.TensorSpec(shape, tx.float32)])
        def __call__(self, x):
            return body(ops, x, self.w)

    if include_compiled:
        tx.saved_model.save(TfxModel(), path, include_compiled=True)
    else:
        tx.saved_model.save(TfxModel(), path)


def save_tf(tf, model: Model, path: str) -> None:
    ops, body, params = _ops_tf(tf), model.body, model.params
    spec = tf.TensorSpec(model.x.shape, tf.float32)

    class TfModel(tf.Module):
        def __init__(self):
            super().__init__(name=model.name)
            self.w = [tf.Variable(p, name=f"w{i}") for i, p in enumerate(params)]

        @tf.function(input_signature=[spec], jit_compile=True)
        def __call__(self, x):
            return body(ops, x, self.w)

    tf.saved_model.save(TfModel(), path)


def save_jax(model: Model, path: str) -> None:
    ops, body, params = _ops_jax(), model.body, [np.asarray(p) for p in model.params]
    f = jax.jit(lambda x: body(ops, x, params))  # NumPy weights: baked in as constants
    exp = jax.export.export(f)(jax.ShapeDtypeStruct(model.x.shape, jnp.float32))
    with open(path, "wb") as fh:
        fh.write(exp.serialize())


def dir_bytes(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def tfx_breakdown(path: str) -> str:
    _, members = read_artifact(path)
    kinds: dict[str, int] = {}
    for name, data in members.items():
        kind = ("weights (.npy)" if name.startswith(("variables/", "constants/")) else
                "StableHLO" if name.endswith(".stablehlo") else
                "IR" if name.endswith(".tfx") else name)
        kinds[kind] = kinds.get(kind, 0) + len(data)
    return ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))


# ---------------------------------------------------------------- children
@dataclass
class Row:
    key: str
    label: str
    kind: str                       # CHILD's kind, or "" for a row that is not run
    artifact: str = ""
    env: dict[str, str] = field(default_factory=dict)
    fresh_tfx_cache: bool = False   # a new empty TFX_CACHE_DIR per child
    warm_dir: str = ""              # a cache dir to fill once before the rounds
    note: str = ""
    samples: list[dict] = field(default_factory=list)
    error: str = ""
    max_err: float = 0.0
    ok: bool = True


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TFX_CACHE_DIR", "JAX_COMPILATION_CACHE_DIR")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def run_child(row: Row, workdir: str, inp: str, ref: np.ndarray, rtol: float,
              atol: float) -> dict | None:
    env = base_env() | row.env
    if row.fresh_tfx_cache:
        env["TFX_CACHE_DIR"] = tempfile.mkdtemp(prefix="cache-", dir=workdir)
    out = os.path.join(workdir, f"out-{row.key}.npy")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, row.kind, row.artifact, inp, out],
                          cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=600)
    wall = time.perf_counter() - t0
    if row.fresh_tfx_cache:
        shutil.rmtree(env["TFX_CACHE_DIR"], ignore_errors=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        tail = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        row.error = (tail[-1] if tail else f"exit {proc.returncode}")[:160]
        return None
    res = json.loads(line[len("RESULT "):]) | {"process": wall}
    got = np.load(out)
    err = float(np.max(np.abs(got - ref))) if got.shape == ref.shape else float("inf")
    row.max_err = max(row.max_err, err)
    row.ok = row.ok and got.shape == ref.shape and bool(np.allclose(got, ref, rtol=rtol,
                                                                    atol=atol))
    return res


def cache_files(d: str) -> int:
    return sum(len(fs) for _, _, fs in os.walk(d)) if d and os.path.isdir(d) else 0


# ---------------------------------------------------------------- formatting
def med(xs: list[float]) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def f_ms(v: float) -> str:
    return "—" if v != v else f"{v * 1e3:.1f}"


def f_ratio(a: float, b: float) -> str:
    return "—" if a != a or b != b or b == 0 else f"{a / b:.2f}×"


def cold(row: Row) -> float:
    return med([s["load"] + s["first"] for s in row.samples])


# ---------------------------------------------------------------- one model
def bench_model(model: Model, tf, rounds: int, workdir: str, has_disk_cache: bool,
                has_compiled: bool, failed: str = "") -> None:
    mdir = os.path.join(workdir, model.name)
    os.makedirs(mdir)
    inp = os.path.join(mdir, "input.npy")
    np.save(inp, model.x)
    ops = _ops_jax()
    ref = np.asarray(jax.jit(lambda x: model.body(ops, x, model.params))(model.x))

    p_static, p_none = os.path.join(mdir, "model.tfx"), os.path.join(mdir, "model_none.tfx")
    p_comp, p_tf = os.path.join(mdir, "model_compiled.tfx"), os.path.join(mdir, "tf_saved_model")
    p_jax = os.path.join(mdir, "model.jax_export")
    batch = model.x.shape[0]
    try:
        save_tfx(model, p_static, batch)
    except Exception as e:
        if model.fallback is None:
            raise
        alt = model.fallback()
        print(f"note: **tx.saved_model.save failed for {model.name} ({model.title})**: "
              f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}; measuring "
              f"{alt.title} instead, in all three frameworks", file=sys.stderr)
        shutil.rmtree(mdir)
        return bench_model(alt, tf, rounds, workdir, has_disk_cache, has_compiled,
                           failed=f"{model.title}: {type(e).__name__}: {e}".splitlines()[0])
    save_tfx(model, p_none, None)
    save_jax(model, p_jax)
    comp_error = ""
    if has_compiled:
        try:
            save_tfx(model, p_comp, batch, include_compiled=True)
        except Exception as e:  # the API exists but failed: report, keep going
            comp_error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:160]
    tf_error = ""
    if tf is not None:
        try:
            save_tf(tf, model, p_tf)
        except Exception as e:
            tf_error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:160]

    warm = {name: os.path.join(mdir, f"warm-{name}") for name in ("tfx", "none", "jax")}
    jax_warm_env = {"JAX_COMPILATION_CACHE_DIR": warm["jax"],
                    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
    rows = [
        Row("tfx", "tfx, compiling (empty cache dir)", "tfx", p_static, fresh_tfx_cache=True),
        Row("tfx_warm", "tfx, persistent cache warm", "tfx", p_static,
            env={"TFX_CACHE_DIR": warm["tfx"]}, warm_dir=warm["tfx"]),
        Row("tfx_comp", "tfx, `allow_compiled` (bundled executables)",
            "tfx_compiled" if has_compiled and not comp_error else "", p_comp,
            fresh_tfx_cache=True,
            note="not implemented yet" if not has_compiled else comp_error),
        Row("none", "tfx, `None` batch, compiling (empty cache dir)", "tfx", p_none,
            fresh_tfx_cache=True),
        Row("none_warm", "tfx, `None` batch, persistent cache warm", "tfx", p_none,
            env={"TFX_CACHE_DIR": warm["none"]}, warm_dir=warm["none"]),
        Row("tf", "TF SavedModel (`jit_compile=True`)", "tf" if tf is not None and not tf_error
            else "", p_tf, note=tf_error or ("" if tf is not None else "TensorFlow not available")),
        Row("jax", "jax.export (deserialize + call)", "jax", p_jax),
        Row("jax_warm", "jax.export, JAX persistent cache warm", "jax", p_jax, env=jax_warm_env,
            warm_dir=warm["jax"]),
    ]
    by = {r.key: r for r in rows}

    # fill the warm caches (unmeasured, but their outputs are checked too)
    for r in rows:
        if r.kind and r.warm_dir:
            os.makedirs(r.warm_dir, exist_ok=True)
            run_child(r, mdir, inp, ref, model.rtol, model.atol)
            if not r.error and cache_files(r.warm_dir) == 0:
                if r.key.startswith("jax"):
                    r.note = "JAX wrote nothing to its cache dir: this row is a compile"
                elif has_disk_cache:
                    r.note = "the fill run wrote nothing to TFX_CACHE_DIR: this row is a compile"
                else:
                    r.note = ("no persistent cache yet (runtime/disk_cache.py absent; "
                              "TFX_CACHE_DIR has no effect): this row is a compile")

    for _ in range(rounds):
        for r in rows:
            if r.kind and not r.error:
                res = run_child(r, mdir, inp, ref, model.rtol, model.atol)
                if res is not None:
                    r.samples.append(res)

    # ------------------------------------------------------------ report
    sig = "[" + ",".join(map(str, model.x.shape)) + "]"
    print(f"## {model.name}: {model.title}")
    print()
    if failed:
        print(f"**tx.saved_model.save could not save the first variant, so this one is measured "
              f"(in all three frameworks)**: {failed}")
        print()
    print(f"Static signature `f32{sig}` unless the row says `None` batch "
          f"(`f32[?,{','.join(map(str, model.x.shape[1:]))}]`, called with batch {batch}). "
          f"Medians of {rounds} fresh process(es) per row.")
    print()
    print(HEADER)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    tf_cold, jax_cold = cold(by["tf"]), cold(by["jax"])
    for r in rows:
        if not r.kind or r.error or not r.samples:
            why = r.note or (f"failed: {r.error}" if r.error else "no result")
            print(f"| {r.label}: *{why}* | — | — | — | — | — | — | — | — | — |")
            continue
        c = cold(r)
        colds = [s["load"] + s["first"] for s in r.samples]
        spread = f"{f_ms(min(colds))}–{f_ms(max(colds))}"
        is_tfx = r.key not in ("tf", "jax", "jax_warm")
        xla = f_ms(med([s.get("xla", float("nan")) for s in r.samples])) if is_tfx else "—"
        hits = [s.get("cache_hit") for s in r.samples if "cache_hit" in s]
        if is_tfx and hits and all(hits):
            xla += " (hit)"
        mark = "" if r.ok else " ✗ numerics"
        rt = f_ratio(c, tf_cold) if is_tfx else "—"
        rj = f_ratio(c, jax_cold) if is_tfx else "—"
        print(f"| {r.label}{mark} | {f_ms(med([s['import'] for s in r.samples]))} "
              f"| {f_ms(med([s['load'] for s in r.samples]))} "
              f"| {f_ms(med([s['first'] for s in r.samples]))} | **{f_ms(c)}** | {spread} "
              f"| {f_ms(med([s['process'] for s in r.samples]))} | {xla} | {rt} | {rj} |")
    print()
    for r in rows:
        if r.kind and r.note and r.samples:
            print(f"note: {r.label}: {r.note}")
    run = [r for r in rows if r.samples]
    bad = [r.label for r in run if not r.ok]
    print(f"numerics vs jax.jit in the parent (rtol {model.rtol:g}, atol {model.atol:g}), every "
          "child's output: " + ("all match" if not bad else f"MISMATCH in {'; '.join(bad)}")
          + "; max |Δ|: " + ", ".join(f"{r.key} {r.max_err:.1e}" for r in run))
    best = [r for r in (by["tfx_warm"], by["tfx_comp"]) if r.samples]
    if best and tf_cold == tf_cold:
        b = min(best, key=cold)
        speed = tf_cold / cold(b)
        print(f"aim: tfx cold start with a warm cache or bundled executables ≥ {AIM_SPEEDUP:g}× "
              f"faster than TF SavedModel: best ({b.label}) is **{speed:.1f}×** faster "
              f"-> {'ok' if speed >= AIM_SPEEDUP else 'MISS'}"
              + (f" ({b.note})" if b.note else ""))
    t = by["tfx"]
    if t.samples and jax_cold == jax_cold:
        print(f"tfx/jax cold start (compiling, static): **{cold(t) / jax_cold:.2f}×**")
    print()

    tf_bytes = dir_bytes(p_tf) if by["tf"].kind else float("nan")
    raw = sum(p.nbytes for p in model.params)
    print(SIZE_HEADER)
    print("|---|---:|---:|---|")
    sizes = [("tfx `model.tfx` (static)", p_static, tfx_breakdown(p_static)),
             ("tfx `model_none.tfx` (`None` batch)", p_none, tfx_breakdown(p_none))]
    if has_compiled and not comp_error:
        sizes.append(("tfx with bundled executables", p_comp, tfx_breakdown(p_comp)))
    if by["tf"].kind:
        var_b = dir_bytes(os.path.join(p_tf, "variables"))
        sizes.append(("TF SavedModel directory (total)", p_tf,
                      f"variables/ {var_b:,}, saved_model.pb + rest {dir_bytes(p_tf) - var_b:,}"))
    sizes.append(("jax.export serialized", p_jax, "weights baked in as constants"))
    for label, path, what in sizes:
        n = dir_bytes(path)
        print(f"| {label} | {n:,} | {f_ratio(n, tf_bytes)} | {what} |")
    print(f"| (raw float32 weights) | {raw:,} | {f_ratio(raw, tf_bytes)} | "
          f"{len(model.params)} arrays |")
    print()
    if tf_bytes == tf_bytes:
        n = dir_bytes(p_static)
        print(f"aim: tfx artifact no larger than TF's: {n:,} vs {int(tf_bytes):,} bytes "
              f"-> {'ok' if n <= tf_bytes else 'MISS'}")
        print()


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 child per row, smaller shapes")
    ap.add_argument("--rounds", type=int, default=None, help="children per row (default 5)")
    ap.add_argument("--models", default=None,
                    help=f"comma-separated subset of {','.join(MODELS)} (default: all; "
                    "--quick: the transformer only, the bigger program)")
    ap.add_argument("--no-tf", action="store_true", help="skip TensorFlow even if installed")
    args = ap.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    models = args.models or ("transformer" if args.quick else ",".join(MODELS))

    tf, tf_note = None, "skipped (--no-tf)"
    if not args.no_tf:
        try:
            import tensorflow as tf  # noqa: F811

            tf_note = tf.__version__
        except Exception as e:
            tf, tf_note = None, f"not available ({type(e).__name__})"
    has_disk_cache = os.path.exists(os.path.join(ROOT, "runtime", "disk_cache.py"))
    has_compiled = compiled_api()

    print(f"# cold start of saved models (fresh process: load + first call), {rounds} child "
          f"process(es) per row" + (" [--quick: smaller shapes]" if args.quick else ""))
    print(f"# jax {jax.__version__} on {jax.devices()[0].platform}, tensorflow {tf_note}, "
          f"numpy {np.__version__}; {os.cpu_count()} CPUs; persistent tfx cache: "
          f"{'runtime/disk_cache.py present' if has_disk_cache else 'not in this tree yet'}; "
          f"include_compiled/allow_compiled: {'yes' if has_compiled else 'not implemented yet'}")
    print()
    print("Times are measured inside each child with perf_counter. import: the framework's "
          "import (`tfx_core` includes jax). load: `tx.saved_model.load` (static signatures "
          "compile here) / `tf.saved_model.load` / read + `jax.export.deserialize`. first call: "
          "to a host NumPy result. **cold start = load + first call** (min–max over children). "
          "process: the child's wall time seen by the parent (interpreter, imports, teardown). "
          "XLA in child: tfx's XLA compile time in the child, `(hit)` when every child got its "
          "executable from a cache. tfx/tf, tfx/jax: cold start ÷ TF SavedModel's / "
          "jax.export's (lower is better).")
    print()
    workdir = tempfile.mkdtemp(prefix="tfx-bench-export-")
    try:
        for key in models.split(","):
            model = MODELS[key.strip()](args.quick)
            bench_model(model, tf, rounds, workdir, has_disk_cache, has_compiled)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("Timings come from a shared 2-core VM: compare within one run; ratios are steadier "
          "than absolute figures.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
