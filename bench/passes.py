"""What tfx's optimization passes change, measured: IR and StableHLO size, compile and run time.

Four forward passes (float32, fixed seeds), each also written in jax.numpy for a jax.jit peer:

* `mlp`: 784-512-512-10, batch 128, ReLU, softmax at the end.
* `nchw`: a channels-first "pointwise CNN" as a PyTorch user would port it without conv ops:
  x f32[32,64,16,16] (N,C,H,W); 3 blocks of transpose to NHWC, matmul with W[C,C] + bias,
  transpose back to NCHW, ReLU; then the mean over H,W -> [32,64]. The `layout` pass should
  cancel the transpose pairs between blocks. (Real NCHW convolutions, and the NCHW -> NHWC
  rewrite around them, arrive with a later issue; this model has no conv op.)
* `transformer`: one pre-LN block, B=4, T=128, D=256, 4 heads: layernorm by hand, q/k/v
  projections, reshape + transpose to [B,H,T,dh], q @ transpose(k) / sqrt(dh), softmax, @ v,
  transpose back, output projection, residual, layernorm, MLP 256-1024-256 (exact GELU), residual.
* `redundant`: what generated / copy-pasted code looks like: a normalization recomputed in each
  of 4 branches, constant-only arithmetic (degrees -> radians, `constant(2.0) * 3.0`, the row
  length read from the shape), identity ops (`x * 1.0`, transpose of a transpose, reshape of a
  reshape, division by 2.0 and 4.0) and dead values. Input f32[256,256].

Pipelines (built from pass names; a config whose pass is not registered is skipped with a note):
`none` (no passes), `default` (DEFAULT_PIPELINE), `+layout`, `+fusion` and `all`.

Method:
* Correctness first: every config's output is compared with jax.jit's (allclose) before timing.
* Static figures come from one compile per config: IR op counts from the PassRecords (traced =
  ops_before of the first pass, after = ops_after of the last; without passes, the ops of the
  "ir" stage), StableHLO ops and bytes from the lowered module, and XLA's optimized HLO.
* XLA compile / passes ms: the median over R rounds (default 5) of `cf.timings["xla"]` and
  `cf.timings["passes"]`, each round a FRESH `tx.function` with `runtime.cache.MEMORY_CACHE`
  cleared (an identical optimized graph would otherwise skip XLA) and the persistent disk cache
  off. jax: `jax.clear_caches()`,
  then `jax.jit(f).lower(*args)`, timing `.compile()` only.
* run µs: steady state, after a warm-up; every call blocks on its result; R rounds interleave
  the candidates (so a busy neighbour hurts all alike) and the figure is the median of all calls.
* In one process, jax as a peer; CPU only; timings on a shared 2-core VM are noisy.

Usage: python bench/passes.py [--quick] [--rounds R] [--models mlp,nchw,...]
"""
from __future__ import annotations

import argparse
import gc
import io
import math
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tfx_core as tx  # noqa: E402
from compiler.passes import DEFAULT_PIPELINE, PASSES  # noqa: E402
from runtime import cache as rt_cache  # noqa: E402

# these figures are XLA compiles: keep the persistent compile cache out of them
tx.config.set_compile_cache_dir(None)

HEADER = ("| config | IR ops traced | IR ops after | StableHLO ops | StableHLO bytes | passes ms "
          "| XLA compile ms | run µs | run vs none |")
PASS_HEADER = "| pass | ms | ops before → after | changed |"
HLO_HEADER = ("| config | XLA kernels | fusions (kinds) | HLO instructions "
              "| optimized HLO vs default |")

PIPELINES: list[tuple[str, tuple[str, ...]]] = [
    ("none", ()),
    ("default", tuple(DEFAULT_PIPELINE)),
    ("+layout", ("constant_folding", "simplify", "layout", "cse", "dce")),
    ("+fusion", ("constant_folding", "simplify", "cse", "dce", "fusion")),
    ("all", ("constant_folding", "simplify", "layout", "cse", "dce", "fusion")),
]


# ---------------------------------------------------------------- models
@dataclass
class Model:
    name: str
    title: str
    inputs: list[np.ndarray]
    tx_fn: Callable
    jax_fn: Callable
    rtol: float = 1e-4
    atol: float = 1e-5


def _init(rng, shape, fan_in):
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)


def make_mlp(quick: bool) -> Model:
    batch = 32 if quick else 128
    sizes = (784, 512, 512, 10)
    rng = np.random.default_rng(0)
    ins = [rng.standard_normal((batch, sizes[0])).astype(np.float32)]
    for a, b in zip(sizes[:-1], sizes[1:]):
        ins += [_init(rng, (a, b), a), (rng.standard_normal(b) * 0.1).astype(np.float32)]

    def mlp_tx(x, w1, b1, w2, b2, w3, b3):
        h = tx.nn.relu(tx.matmul(x, w1) + b1)
        h = tx.nn.relu(tx.matmul(h, w2) + b2)
        return tx.nn.softmax(tx.matmul(h, w3) + b3)

    def mlp_jax(x, w1, b1, w2, b2, w3, b3):
        h = jax.nn.relu(x @ w1 + b1)
        h = jax.nn.relu(h @ w2 + b2)
        return jax.nn.softmax(h @ w3 + b3)

    return Model("mlp", f"MLP 784-512-512-10, batch {batch}, ReLU, softmax",
                 ins, mlp_tx, mlp_jax)


def make_nchw(quick: bool) -> Model:
    n, c, hw = (8, 64, 8) if quick else (32, 64, 16)
    rng = np.random.default_rng(1)
    ins = [rng.standard_normal((n, c, hw, hw)).astype(np.float32)]
    for _ in range(3):
        ins += [_init(rng, (c, c), c), (rng.standard_normal(c) * 0.1).astype(np.float32)]

    def nchw_tx(x, *params):
        for w, b in zip(params[0::2], params[1::2]):
            h = tx.transpose(x, [0, 2, 3, 1])            # NCHW -> NHWC
            h = tx.matmul(h, w) + b                      # 1x1 "conv" over channels
            x = tx.nn.relu(tx.transpose(h, [0, 3, 1, 2]))  # back to NCHW
        return tx.reduce_mean(x, axis=[2, 3])

    def nchw_jax(x, *params):
        for w, b in zip(params[0::2], params[1::2]):
            h = jnp.transpose(x, (0, 2, 3, 1))
            h = h @ w + b
            x = jax.nn.relu(jnp.transpose(h, (0, 3, 1, 2)))
        return jnp.mean(x, axis=(2, 3))

    return Model("nchw", f"channels-first pointwise CNN, x f32[{n},{c},{hw},{hw}], 3 blocks "
                 "transpose/matmul/transpose/relu, mean over H,W", ins, nchw_tx, nchw_jax)


def make_transformer(quick: bool) -> Model:
    b, t, d, heads = (2, 32, 128, 4) if quick else (4, 128, 256, 4)
    dh, ff = d // heads, 4 * d
    rng = np.random.default_rng(2)
    ones, zeros = np.ones(d, np.float32), np.zeros(d, np.float32)
    ins = [rng.standard_normal((b, t, d)).astype(np.float32)]
    ins += [ones, zeros]                                                     # ln1
    for _ in range(4):                                                       # q, k, v, o
        ins += [_init(rng, (d, d), d), (rng.standard_normal(d) * 0.02).astype(np.float32)]
    ins += [ones.copy(), zeros.copy()]                                       # ln2
    ins += [_init(rng, (d, ff), d), np.zeros(ff, np.float32),
            _init(rng, (ff, d), ff), np.zeros(d, np.float32)]                # mlp
    eps, scale = 1e-5, 1.0 / math.sqrt(dh)

    def block_tx(x, g1, be1, wq, bq, wk, bk, wv, bv, wo, bo, g2, be2, w1, b1, w2, b2):
        def layernorm(h, g, be):
            mu = tx.reduce_mean(h, axis=-1, keepdims=True)
            var = tx.reduce_mean(tx.square(h - mu), axis=-1, keepdims=True)
            return (h - mu) / tx.sqrt(var + eps) * g + be

        def heads_of(h):
            return tx.transpose(tx.reshape(h, [b, t, heads, dh]), [0, 2, 1, 3])

        h = layernorm(x, g1, be1)
        q = heads_of(tx.matmul(h, wq) + bq)
        k = heads_of(tx.matmul(h, wk) + bk)
        v = heads_of(tx.matmul(h, wv) + bv)
        s = tx.matmul(q, tx.transpose(k, [0, 1, 3, 2])) * scale
        o = tx.matmul(tx.nn.softmax(s, axis=-1), v)
        o = tx.reshape(tx.transpose(o, [0, 2, 1, 3]), [b, t, d])
        x = x + tx.matmul(o, wo) + bo
        h = layernorm(x, g2, be2)
        return x + tx.matmul(tx.nn.gelu(tx.matmul(h, w1) + b1), w2) + b2

    def block_jax(x, g1, be1, wq, bq, wk, bk, wv, bv, wo, bo, g2, be2, w1, b1, w2, b2):
        def layernorm(h, g, be):
            mu = jnp.mean(h, axis=-1, keepdims=True)
            var = jnp.mean(jnp.square(h - mu), axis=-1, keepdims=True)
            return (h - mu) / jnp.sqrt(var + eps) * g + be

        def heads_of(h):
            return jnp.transpose(jnp.reshape(h, (b, t, heads, dh)), (0, 2, 1, 3))

        h = layernorm(x, g1, be1)
        q, k, v = (heads_of(h @ w + bb) for w, bb in ((wq, bq), (wk, bk), (wv, bv)))
        s = (q @ jnp.transpose(k, (0, 1, 3, 2))) * scale
        o = jax.nn.softmax(s, axis=-1) @ v
        o = jnp.reshape(jnp.transpose(o, (0, 2, 1, 3)), (b, t, d))
        x = x + o @ wo + bo
        h = layernorm(x, g2, be2)
        return x + jax.nn.gelu(h @ w1 + b1, approximate=False) @ w2 + b2

    return Model("transformer", f"pre-LN transformer block, B={b} T={t} D={d}, {heads} heads, "
                 f"MLP {d}-{ff}-{d} GELU", ins, block_tx, block_jax, rtol=1e-4, atol=1e-4)


def make_redundant(quick: bool) -> Model:
    n = 64 if quick else 256
    rng = np.random.default_rng(3)
    ins = [rng.standard_normal((n, n)).astype(np.float32)]
    degrees = (15.0, 30.0, 45.0, 60.0)

    def redundant_tx(x):
        # constants spelled out instead of precomputed
        deg2rad = tx.constant(math.pi, tx.float32) / tx.constant(180.0)
        gain = tx.constant(2.0) * 3.0
        count = tx.cast(tx.shape(x)[-1], tx.float32)      # the row length, from the shape
        acc = None
        for deg in degrees:
            # each branch calls the same (copy-pasted) normalization helper
            mu = tx.reduce_sum(x, axis=-1, keepdims=True) / count
            xc = x - mu
            var = tx.reduce_sum(xc * xc, axis=-1, keepdims=True) / count
            xn = xc * tx.math.rsqrt(var + 1e-5)
            xn = tx.cast(xn, tx.float32) * 1.0             # "make sure it's float", unit scale
            xn = tx.transpose(tx.transpose(xn))            # a layout round trip
            xn = tx.reshape(tx.reshape(xn, [-1]), [n, n])  # flatten / unflatten
            ang = xn * (deg2rad * deg)
            feat = (tx.sin(ang) / 2.0 + tx.cos(ang) / 4.0) * gain
            _debug = tx.reduce_max(tx.abs(feat))           # dead: a leftover debug value
            acc = feat if acc is None else acc + feat
        return acc

    def redundant_jax(x):
        deg2rad = jnp.float32(math.pi) / jnp.float32(180.0)
        gain = jnp.float32(2.0) * 3.0
        count = jnp.float32(x.shape[-1])
        acc = None
        for deg in degrees:
            mu = jnp.sum(x, axis=-1, keepdims=True) / count
            xc = x - mu
            var = jnp.sum(xc * xc, axis=-1, keepdims=True) / count
            xn = xc * jax.lax.rsqrt(var + 1e-5)
            xn = xn.astype(jnp.float32) * 1.0
            xn = jnp.transpose(jnp.transpose(xn))
            xn = jnp.reshape(jnp.reshape(xn, (-1,)), (n, n))
            ang = xn * (deg2rad * deg)
            feat = (jnp.sin(ang) / 2.0 + jnp.cos(ang) / 4.0) * gain
            _debug = jnp.max(jnp.abs(feat))
            acc = feat if acc is None else acc + feat
        return acc

    return Model("redundant", f"generated-style code with repeats, constants, identities and "
                 f"dead values, x f32[{n},{n}]", ins, redundant_tx, redundant_jax)


MODELS = {"mlp": make_mlp, "nchw": make_nchw, "transformer": make_transformer,
          "redundant": make_redundant}


# ---------------------------------------------------------------- helpers
def block_tx(t):
    b = getattr(t, "block_until_ready", None)
    return b() if b is not None else t._buf.block_until_ready()


def block_jax(a):
    return a.block_until_ready()


_IR_TOP = re.compile(r"^  %\S.* = ")           # an op of the function (fusion bodies nest deeper)
_IR_NESTED = re.compile(r"^ {4,}%\S.* = ")
# a StableHLO operation: `%r = stablehlo.add ...`, `stablehlo.return ...`, `%r = call @f(...)`
_SHLO_OP = re.compile(r"^\s*(?:%[^=]*=\s*)?\"?(stablehlo\.[\w.]+|call|func\.call)\b")


def count_ir_ops(text: str) -> tuple[int, int]:
    """(ops of the function, ops inside fusion bodies) in a printed tfx graph."""
    lines = text.splitlines()
    return (sum(1 for ln in lines if _IR_TOP.match(ln)),
            sum(1 for ln in lines if _IR_NESTED.match(ln)))


def count_stablehlo(text: str) -> tuple[int, int]:
    """(stablehlo.* ops + calls, of which calls) over every function of the module's text."""
    ops = [m.group(1) for m in map(_SHLO_OP.match, text.splitlines()) if m]
    calls = sum(1 for o in ops if o in ("call", "func.call"))
    return len(ops), calls


def bytecode_size(module) -> int:
    buf = io.BytesIO()
    module.operation.write_bytecode(buf)
    return len(buf.getvalue())


# optimized HLO: instruction lines, and how to compare two modules modulo names
_HLO_INSTR = re.compile(r"^\s+(?:ROOT )?%[\w.\-]+ = (?:\([^=]*?\)|\S+) ([\w\-]+)\(")
_HLO_NAME = re.compile(r"%[\w.\-]+")
_HLO_PARAM = re.compile(r"([\w.\-]+): ")
_HLO_META = re.compile(r", (?:metadata|frontend_attributes)=\{[^}]*\}")
_ENTRY_SKIP = {"parameter", "constant", "bitcast", "tuple", "get-tuple-element"}


@dataclass
class HloSummary:
    kernels: int            # ENTRY instructions that do work (not parameter/constant/bitcast/...)
    fusions: Counter        # fusion instructions by kind
    instructions: int       # all instructions, fused computations included
    canonical: str          # names renumbered by first use, metadata dropped
    opcodes: Counter


def summarize_hlo(text: str) -> HloSummary:
    lines, in_comp, in_entry = [], False, False
    kernels, fusions, opcodes = 0, Counter(), Counter()
    for ln in text.splitlines():
        if ln.startswith(("%", "ENTRY")) and ln.rstrip().endswith("{"):
            in_comp, in_entry = True, ln.startswith("ENTRY")
            lines.append(_HLO_PARAM.sub("", ln.split("(", 1)[0] + "(" + ln.split("(", 1)[1]))
            continue
        if not in_comp:
            continue  # the module header and the debug-info sections
        if ln.startswith("}"):
            in_comp = in_entry = False
            lines.append("}")
            continue
        m = _HLO_INSTR.match(ln)
        if m is None:
            continue
        op = m.group(1)
        opcodes[op] += 1
        if op == "fusion":
            kind = re.search(r"kind=(\w+)", ln)
            fusions[kind.group(1) if kind else "?"] += 1
        if in_entry and op not in _ENTRY_SKIP:
            kernels += 1
        lines.append(_HLO_META.sub("", ln.strip()))
    names: dict[str, str] = {}

    def rename(m: re.Match) -> str:
        return names.setdefault(m.group(0), f"%v{len(names)}")

    canonical = "\n".join(_HLO_NAME.sub(rename, ln) for ln in lines)
    return HloSummary(kernels, fusions, sum(opcodes.values()), canonical, opcodes)


def compare_hlo(a: HloSummary, b: HloSummary) -> str:
    if a.canonical == b.canonical:
        return "identical (modulo names)"
    if a.opcodes == b.opcodes and a.fusions == b.fusions:
        return "same instructions, different arrangement"
    diff = b.opcodes.copy()
    diff.subtract(a.opcodes)
    parts = [f"{'+' if n > 0 else ''}{n} {op}" for op, n in sorted(diff.items()) if n]
    return "differs: " + (", ".join(parts) if parts else "same opcode counts, other changes")


def fmt_fusions(c: Counter) -> str:
    if not c:
        return "0"
    return f"{sum(c.values())} (" + ", ".join(f"{k} {n}" for k, n in sorted(c.items())) + ")"


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def f_ms(v: float) -> str:
    return "—" if v != v else f"{v * 1e3:.2f}"


def f_us(v: float) -> str:
    return "—" if v != v else f"{v * 1e6:.1f}"


# ---------------------------------------------------------------- measuring one model
@dataclass
class ConfigResult:
    name: str
    passes: tuple[str, ...]
    error: str | None = None
    fn: object = None                # the compiled tx.function kept for the run timing
    ops_traced: int = 0
    ops_after: int = 0
    ops_nested: int = 0
    shlo_ops: int = 0
    shlo_calls: int = 0
    shlo_bytes: int = 0
    hlo: HloSummary | None = None
    max_err: float = float("nan")
    ok: bool = True
    xla: list[float] = field(default_factory=list)
    pass_total: list[float] = field(default_factory=list)
    per_pass: dict[str, list[float]] = field(default_factory=dict)
    records: list = field(default_factory=list)
    run: list[float] = field(default_factory=list)


def fresh_tx(model: Model, passes: tuple[str, ...]):
    return tx.function(model.tx_fn, experimental_passes=list(passes), name=model.name)


def compile_round_tx(model: Model, r: ConfigResult, targs: list) -> None:
    rt_cache.MEMORY_CACHE.clear()
    f = fresh_tx(model, r.passes)
    block_tx(f(*targs))
    cf = f.get_concrete_function(*targs)
    tm = cf.timings
    if tm.get("xla", 0.0) == 0.0:
        print(f"warning: {model.name}/{r.name}: XLA time 0, the compile came from a cache",
              file=sys.stderr)
    r.xla.append(tm.get("xla", float("nan")))
    r.pass_total.append(tm.get("passes", float("nan")))
    for rec in cf.pass_records:
        r.per_pass.setdefault(rec.name, []).append(rec.seconds)


def compile_round_jax(model: Model, jargs: list) -> float:
    jax.clear_caches()
    fn = model.jax_fn
    lowered = jax.jit(lambda *a: fn(*a)).lower(*jargs)
    t0 = time.perf_counter()
    lowered.compile()
    return time.perf_counter() - t0


def setup_config(model: Model, name: str, passes: tuple[str, ...], targs: list,
                 ref: np.ndarray) -> ConfigResult:
    r = ConfigResult(name, passes)
    rt_cache.MEMORY_CACHE.clear()
    f = fresh_tx(model, passes)
    try:
        out = f(*targs)
        block_tx(out)
    except Exception as e:  # a pass that fails, a lowering error: report it, keep going
        msg = str(e).splitlines()[0] if str(e) else ""
        r.error = f"{type(e).__name__}: {msg}"[:160]
        return r
    got = np.asarray(out.numpy())
    r.max_err = float(np.max(np.abs(got - ref))) if got.shape == ref.shape else float("inf")
    r.ok = got.shape == ref.shape and bool(np.allclose(got, ref, rtol=model.rtol,
                                                       atol=model.atol))
    cf = f.get_concrete_function(*targs)
    ir = f.experimental_get_compiler_ir(*targs)
    r.records = list(cf.pass_records)
    if r.records:
        r.ops_traced, r.ops_after = r.records[0].ops_before, r.records[-1].ops_after
        r.ops_nested = count_ir_ops(ir(stage="ir_optimized"))[1]
    else:
        r.ops_traced = r.ops_after = count_ir_ops(ir(stage="ir"))[0]
    r.shlo_ops, r.shlo_calls = count_stablehlo(ir(stage="stablehlo"))
    r.shlo_bytes = len(cf.compiled_for(cf.input_types).lowered.bytecode)
    r.hlo = summarize_hlo(ir(stage="optimized_hlo"))
    r.fn = f
    return r


def time_calls(fn: Callable[[], object], block: Callable, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        block(fn())
        out.append(time.perf_counter() - t0)
    return out


def bench_model(model: Model, configs, rounds: int, budget: float, slices: int) -> None:
    targs = [tx.constant(a) for a in model.inputs]
    jargs = [jax.device_put(a) for a in model.inputs]
    jitted = jax.jit(model.jax_fn)
    ref = np.asarray(jitted(*jargs))

    results = [setup_config(model, name, passes, targs, ref) for name, passes in configs]
    good = [r for r in results if r.error is None]

    lowered = jax.jit(model.jax_fn).lower(*jargs)
    jax_shlo_ops, jax_calls = count_stablehlo(lowered.as_text())
    jax_bytes = bytecode_size(lowered.compiler_ir("stablehlo"))
    jax_hlo = summarize_hlo(jitted.lower(*jargs).compile().as_text())

    # compile rounds: fresh functions, caches cleared; candidates interleaved per round
    jax_xla: list[float] = []
    for _ in range(rounds):
        for r in good:
            compile_round_tx(model, r, targs)
        jax_xla.append(compile_round_jax(model, jargs))

    # run: warm up, size the per-round call count from a time budget, interleave rounds
    cands: list[tuple[object, Callable[[], object], Callable]] = []
    for r in good:
        f = r.fn
        cands.append((r, (lambda f=f: f(*targs)), block_tx))
    cands.append(("jax", lambda: jitted(*jargs), block_jax))
    calls = {}
    for _key, fn, blk in cands:
        warm = time_calls(fn, blk, 3)
        per = max(min(warm), 1e-6)
        calls[id(fn)] = max(3, min(500, int(budget / per)))
    jax_run: list[float] = []
    gc_was = gc.isenabled()
    gc.disable()
    try:  # each round is cut into slices, rotating the order: load drift hits all alike
        for _ in range(rounds):
            for s in range(slices):
                k = s % len(cands)
                for key, fn, blk in cands[k:] + cands[:k]:
                    ts = time_calls(fn, blk, max(1, calls[id(fn)] // slices))
                    (jax_run if key == "jax" else key.run).extend(ts)
            gc.collect()
    finally:
        if gc_was:
            gc.enable()

    # ------------------------------------------------------------ report
    print(f"## {model.name}: {model.title}")
    print()
    print(HEADER)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    by = {r.name: r for r in results}
    none_run = med(by["none"].run) if "none" in by and by["none"].error is None else float("nan")
    for r in results:
        if r.error is not None:
            print(f"| {r.name} | failed: {r.error} | | | | | | | |")
            continue
        run = med(r.run)
        after = str(r.ops_after) + (f" ({r.ops_nested} in fusion bodies)" if r.ops_nested else "")
        shlo = str(r.shlo_ops) + (f" ({r.shlo_calls} calls)" if r.shlo_calls else "")
        mark = "" if r.ok else " ✗ numerics"
        ratio = run / none_run if none_run == none_run else float("nan")
        print(f"| {r.name}{mark} | {r.ops_traced} | {after} | {shlo} | {r.shlo_bytes} "
              f"| {f_ms(med(r.pass_total))} | {f_ms(med(r.xla))} | {f_us(run)} "
              f"| {'—' if ratio != ratio else f'{ratio:.2f}×'} |")
    jrun = med(jax_run)
    jshlo = str(jax_shlo_ops) + (f" ({jax_calls} calls)" if jax_calls else "")
    jratio = jrun / none_run if none_run == none_run else float("nan")
    print(f"| jax.jit | — | — | {jshlo} | {jax_bytes} | — | {f_ms(med(jax_xla))} | {f_us(jrun)} "
          f"| {'—' if jratio != jratio else f'{jratio:.2f}×'} |")
    print()
    d = by.get("default")
    if d is not None and d.error is None:
        print(f"tfx/jax run (default config / jax.jit): **{med(d.run) / jrun:.2f}×**; "
              f"XLA compile tfx default / jax: {med(d.xla) / med(jax_xla):.2f}×")
        if d.ops_traced:
            print(f"default pipeline leaves {d.ops_after}/{d.ops_traced} IR ops "
                  f"= {d.ops_after / d.ops_traced:.2f} of the traced graph")
    else:
        print("tfx/jax run: — (default config failed)")
    errs = [f"{r.name} {r.max_err:.1e}" for r in good]
    bad = [r.name for r in good if not r.ok]
    print(f"numerics vs jax.jit (rtol {model.rtol:g}, atol {model.atol:g}): "
          + ("all match" if not bad else f"MISMATCH in {', '.join(bad)}")
          + f"; max |tfx - jax|: {', '.join(errs)}")
    for r in results:
        if r.error is not None:
            print(f"note: config {r.name} failed: {r.error}")
    print()

    show = by.get("all")
    if show is None or show.error is not None:
        show = next((r for r in reversed(good) if r.records), None)
    if show is not None:
        print(f"What each pass did in `{show.name}` (ms: median over compile rounds):")
        print()
        print(PASS_HEADER)
        print("|---|---:|---|---|")
        for rec in show.records:
            print(f"| {rec.name} | {f_ms(med(show.per_pass.get(rec.name, [])))} "
                  f"| {rec.ops_before} → {rec.ops_after} | {rec.changed} |")
        print()

    print("XLA's optimized HLO (kernels: ENTRY instructions other than parameter, constant, "
          "bitcast, tuple, get-tuple-element):")
    print()
    print(HLO_HEADER)
    print("|---|---:|---|---:|---|")
    base = d.hlo if d is not None and d.error is None else None
    for r in good:
        vs = "—" if base is None or r is d else compare_hlo(base, r.hlo)
        print(f"| {r.name} | {r.hlo.kernels} | {fmt_fusions(r.hlo.fusions)} "
              f"| {r.hlo.instructions} | {vs} |")
    vs = "—" if base is None else compare_hlo(base, jax_hlo)
    print(f"| jax.jit | {jax_hlo.kernels} | {fmt_fusions(jax_hlo.fusions)} "
          f"| {jax_hlo.instructions} | {vs} |")
    fu = by.get("+fusion")
    if base is not None and fu is not None and fu.error is None:
        same = base.canonical == fu.hlo.canonical
        print()
        print(f"Do our fusion regions change what XLA does? default vs +fusion: "
              f"**{'no, identical optimized HLO' if same else compare_hlo(base, fu.hlo)}**")
    groups: dict[str, list[ConfigResult]] = {}
    for r in good:
        groups.setdefault(r.hlo.canonical, []).append(r)
    for same in groups.values():
        if len(same) > 1:  # the same program: their run times differ by noise only
            runs = [med(r.run) for r in same]
            print(f"same optimized HLO: {', '.join(r.name for r in same)}; their run µs "
                  f"spread {max(runs) / min(runs) - 1:.0%} here (the noise floor of this run)")
    print()


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="1 round, smaller shapes, few calls (smoke test)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--models", default=",".join(MODELS),
                    help=f"comma-separated subset of {','.join(MODELS)}")
    args = ap.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    budget = 0.01 if args.quick else 0.3  # seconds of calls per candidate per round
    slices = 1 if args.quick else 6

    configs, skipped = [], []
    for name, passes in PIPELINES:
        missing = [p for p in passes if p not in PASSES]
        if missing:
            skipped.append(f"{name} (pass {', '.join(missing)} not registered)")
        else:
            configs.append((name, passes))

    print(f"# tfx optimization passes: {rounds} round(s)"
          + (" [--quick: smaller shapes]" if args.quick else ""))
    print(f"# jax {jax.__version__} on {jax.devices()[0].platform}, numpy {np.__version__}; "
          f"{os.cpu_count()} CPUs; registered passes: {', '.join(sorted(PASSES))}")
    for name, passes in configs:
        print(f"# {name}: {', '.join(passes) if passes else '(no passes)'}")
    for s in skipped:
        print(f"# note: skipping config {s}")
    print()
    print("IR ops: top-level ops of the tfx graph (a `fusion` op counts 1; its body's ops are "
          "given in parentheses). StableHLO ops: lines of the `stablehlo` stage text that are an "
          "operation, `%r = stablehlo.<op>` / `stablehlo.<op>` / `call @f`, in every function "
          "(a reduce's inline body is not counted; calls are the fusion regions). StableHLO "
          "bytes: MLIR bytecode size of the lowered module (what XLA is given). Compile and "
          "passes ms: median over rounds, fresh function, caches cleared. run µs: median per "
          "call, blocking on each result. run vs none: run µs / the `none` config's.")
    print()
    for key in args.models.split(","):
        model = MODELS[key.strip()](args.quick)
        bench_model(model, configs, rounds, budget, slices)
    print("Timings come from a shared 2-core VM: compare within one run; ratios are steadier "
          "than absolute figures.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
