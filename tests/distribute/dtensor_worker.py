"""Runs every tx.experimental.dtensor check of tests/distribute/test_dtensor.py in one process
over 8 simulated CPU devices and prints `RESULT <json>`: measured errors against numpy (or the
same function run unsharded), layouts, collectives in the optimized HLO, per-device bytes and
error messages. Run as `python -m tests.distribute.dtensor_worker` with
XLA_FLAGS=--xla_force_host_platform_device_count=8 (the test module does).
"""
from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

import tfx_core as tx
from tfx_core.framework.sharded_execution import collectives

dt = tx.experimental.dtensor
U = dt.UNSHARDED
RESULTS: dict[str, Any] = {}


def check(name: str) -> Callable:
    """Record what `fn()` returns under `name` (or the exception it raised, as text)."""
    def wrap(fn: Callable[[], Any]) -> Callable:
        try:
            RESULTS[name] = fn()
        except Exception as e:  # reported to the test, which fails with it
            RESULTS[name] = {"crashed": f"{type(e).__name__}: {e}\n{traceback.format_exc()}"}
        return fn
    return wrap


def specs(t: Any) -> list[str] | None:
    lay = dt.fetch_layout(t)
    return None if lay is None else lay.sharding_specs


def spmd_executable(f: Any, *args: Any) -> Any:
    """The one SPMD program the (already called) tx.function `f` runs for `args`."""
    cf = f.get_concrete_function(*args)
    exes = [e for c in cf.executables.values() for k, e in c.sharded.items()
            if k != "has_constraint"]
    assert len(exes) == 1, f"{len(exes)} SPMD programs for one call signature"
    return exes[0]


def program_facts(f: Any, *args: Any) -> dict:
    exe = spmd_executable(f, *args)
    mem = exe.memory_stats()
    explain = f.get_concrete_function(*args).explain()
    return {"collectives": collectives(exe.optimized_hlo()),
            "arg_bytes": mem["argument_size_in_bytes"],
            "out_bytes": mem["output_size_in_bytes"],
            "explain_has_specs": "SPMD over mesh" in explain and "collectives:" in explain
            and "per device: argument" in explain}


def max_err(a: Any, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a.numpy(), np.float64) - b)))


# ---------------------------------------------------------------- (a) tensor-parallel matmul
RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 64)).astype(np.float32)
W = RNG.standard_normal((64, 128)).astype(np.float32)
MESH8 = dt.create_mesh([("m", 8)])
MESH2x4 = dt.create_mesh([("batch", 2), ("model", 4)])


def matmul_case(mesh: Any, x_specs: list[str], w_specs: list[str]) -> dict:
    x = dt.copy_to_mesh(tx.constant(X), dt.Layout(x_specs, mesh))
    w = dt.copy_to_mesh(tx.constant(W), dt.Layout(w_specs, mesh))
    matmul = tx.function(lambda x, w: tx.matmul(x, w))  # one SPMD program per function
    y = matmul(x, w)
    eager = tx.matmul(x, w)
    return {"err": max_err(y, X @ W), "eager_err": max_err(eager, X @ W),
            "layout": specs(y), "eager_layout": specs(eager), **program_facts(matmul, x, w)}


for _name, _mesh, _xs, _ws in [
        ("matmul_col", MESH8, [U, U], [U, "m"]),  # W split on its output dim, x replicated
        ("matmul_col_batch", MESH8, ["m", U], [U, "m"]),  # same axis twice: x is gathered
        ("matmul_row", MESH8, [U, "m"], ["m", U]),  # contracting dim split: partial sums
        ("matmul_2d", MESH2x4, ["batch", U], [U, "model"])]:  # batch × model: no collective
    check(_name)(lambda m=_mesh, xs=_xs, ws=_ws: matmul_case(m, xs, ws))
RESULTS["bytes"] = {"x": X.nbytes, "w": W.nbytes, "out": X.shape[0] * W.shape[1] * 4}


# ---------------------------------------------------------------- (b, e) transformer block
B, S, D, H, F = 4, 8, 32, 4, 64
NAMES = ("wq", "wk", "wv", "wo", "w1", "w2")
# Megatron: QKV and W1 split on their output (heads / hidden), Wo and W2 on their input
LAYOUTS = {"wq": [U, "model"], "wk": [U, "model"], "wv": [U, "model"], "wo": ["model", U],
           "w1": [U, "model"], "w2": ["model", U]}
SHAPES = {"wq": (D, D), "wk": (D, D), "wv": (D, D), "wo": (D, D), "w1": (D, F), "w2": (F, D)}
PARAMS = {n: (RNG.standard_normal(SHAPES[n]) / np.sqrt(SHAPES[n][0])).astype(np.float32)
          for n in NAMES}
XB = RNG.standard_normal((B, S, D)).astype(np.float32)


def block(x, wq, wk, wv, wo, w1, w2):
    def heads(t):
        return tx.transpose(tx.reshape(t, [B, S, H, D // H]), [0, 2, 1, 3])

    q, k, v = heads(tx.matmul(x, wq)), heads(tx.matmul(x, wk)), heads(tx.matmul(x, wv))
    att = tx.nn.softmax(tx.matmul(q, k, transpose_b=True) / np.float32(np.sqrt(D // H)), axis=-1)
    o = tx.reshape(tx.transpose(tx.matmul(att, v), [0, 2, 1, 3]), [B, S, D])
    h = x + tx.matmul(o, wo)
    return h + tx.matmul(tx.nn.relu(tx.matmul(h, w1)), w2)


def block_numpy(x, wq, wk, wv, wo, w1, w2):
    def heads(t):
        return t.reshape(B, S, H, D // H).transpose(0, 2, 1, 3)

    q, k, v = heads(x @ wq), heads(x @ wk), heads(x @ wv)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D // H)
    e = np.exp(s - s.max(-1, keepdims=True))
    o = ((e / e.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(B, S, D)
    h = x + o @ wo
    return h + np.maximum(h @ w1, 0) @ w2


block_fn = tx.function(block)


@tx.function
def block_grads(x, wq, wk, wv, wo, w1, w2):
    ws = [wq, wk, wv, wo, w1, w2]
    with tx.GradientTape() as tape:
        tape.watch(ws)
        out = block(x, *ws)
        loss = tx.reduce_sum(out * out)
    return loss, tape.gradient(loss, ws)


def sharded_block_inputs() -> list:
    x = dt.copy_to_mesh(tx.constant(XB), dt.Layout(["batch", U, U], MESH2x4))
    return [x] + [dt.copy_to_mesh(tx.constant(PARAMS[n]), dt.Layout(LAYOUTS[n], MESH2x4))
                  for n in NAMES]


@check("block")
def _block() -> dict:
    args = sharded_block_inputs()
    y = block_fn(*args)
    plain = block_fn(tx.constant(XB), *[tx.constant(PARAMS[n]) for n in NAMES])
    ref = block_numpy(XB.astype(np.float64), *[PARAMS[n].astype(np.float64) for n in NAMES])
    weights = sum(PARAMS[n].nbytes for n in NAMES)
    return {"err_vs_unsharded": max_err(y, plain.numpy().astype(np.float64)),
            "err_vs_numpy": max_err(y, ref), "scale": float(np.abs(ref).max()),
            "layout": specs(y), "unsharded_layout": specs(plain),
            "weights_bytes": weights, "x_bytes": XB.nbytes, **program_facts(block_fn, *args)}


@check("block_grads")
def _block_grads() -> dict:
    args = sharded_block_inputs()
    loss, grads = block_grads(*args)
    loss0, grads0 = block_grads(tx.constant(XB), *[tx.constant(PARAMS[n]) for n in NAMES])
    return {"loss": float(loss), "loss_unsharded": float(loss0),
            "grad_rel_err": [max_err(g, g0.numpy().astype(np.float64))
                             / float(np.abs(g0.numpy()).max()) for g, g0 in zip(grads, grads0)],
            "grad_layouts": [specs(g) for g in grads],
            **program_facts(block_grads, *args)}


@check("grad_relayout")
def _grad_relayout() -> dict:
    # the gradient flows back through relayouts (their cotangents get the same layouts),
    # inside @tx.function and eagerly
    def loss_of(x, w):
        h = dt.relayout(tx.matmul(x, w), dt.Layout(["batch", "model"], MESH2x4))
        return tx.reduce_sum(tx.tanh(h) * h)

    @tx.function
    def grads(x, w):
        with tx.GradientTape() as tape:
            tape.watch([x, w])
            loss = loss_of(x, w)
        return tape.gradient(loss, [x, w])

    x = dt.copy_to_mesh(tx.constant(X), dt.Layout([U, "model"], MESH2x4))
    w = dt.copy_to_mesh(tx.constant(W), dt.Layout(["model", U], MESH2x4))
    gx, gw = grads(x, w)
    with tx.GradientTape() as tape:
        tape.watch([x, w])
        loss = loss_of(x, w)
    ex, ew = tape.gradient(loss, [x, w])
    h = X.astype(np.float64) @ W.astype(np.float64)
    dh = np.tanh(h) + h * (1 - np.tanh(h) ** 2)
    want_x, want_w = dh @ W.T.astype(np.float64), X.T.astype(np.float64) @ dh
    scale = float(np.abs(want_w).max())
    return {"fn_err": max(max_err(gx, want_x), max_err(gw, want_w)) / scale,
            "eager_err": max(max_err(ex, want_x), max_err(ew, want_w)) / scale,
            "layouts": [specs(gx), specs(gw)], "eager_layouts": [specs(ex), specs(ew)]}


# ---------------------------------------------------------------- (c) eager ops, relayout, state
MESH = dt.create_mesh([("x", 4), ("y", 2)])
A = np.arange(64, dtype=np.float32).reshape(8, 8)
I64 = (np.arange(16, dtype=np.int64) + 2**33).reshape(8, 2)


@check("eager")
def _eager() -> dict:
    a = dt.copy_to_mesh(tx.constant(A), dt.Layout(["x", U], MESH))
    single = tx.constant(A)
    out = {"add": max_err(a + 1, A + 1), "add_layout": specs(a + 1),
           "exp": max_err(tx.exp(a / 64), np.exp(A / 64)),
           "sum": float(tx.reduce_sum(a)), "sum_ref": float(A.sum()),
           "sum0": max_err(tx.reduce_sum(a, axis=0), A.sum(0)),
           "mixed": max_err(a * single, A * A), "mixed_layout": specs(a * single)}
    r = dt.relayout(a, dt.Layout([U, "y"], MESH))
    out |= {"relayout_err": max_err(r, A), "relayout_layout": specs(r),
            "relayout_replicated": specs(dt.relayout(a, dt.Layout.replicated(MESH, 2)))}
    return out


@tx.function
def relayout_inside(z):
    h = dt.relayout(z * 2, dt.Layout([U, "x"], MESH))
    return h + 1


@check("relayout_fn")
def _relayout_fn() -> dict:
    a = dt.copy_to_mesh(tx.constant(A), dt.Layout(["x", U], MESH))
    y = relayout_inside(a)
    y1 = relayout_inside(tx.constant(A))  # single-device input, the layout asked inside
    return {"err": max_err(y, 2 * A + 1), "layout": specs(y), "err_single": max_err(y1, 2 * A + 1),
            "layout_single": specs(y1)}


@check("int64")
def _int64() -> dict:
    i = dt.copy_to_mesh(tx.constant(I64), dt.Layout(["x", "y"], MESH))
    doubled = tx.function(lambda z: z * 2 + 1)(i)
    f = dt.copy_to_mesh(tx.constant(A.astype(np.float64) / 3), dt.Layout([U, "y"], MESH))
    return {"dtype": i.dtype.name, "exact": bool(np.array_equal(i.numpy(), I64)),
            "eager_exact": bool(np.array_equal((i + 1).numpy(), I64 + 1)),
            "fn_exact": bool(np.array_equal(doubled.numpy(), I64 * 2 + 1)),
            "fn_dtype": doubled.dtype.name,
            "pieces": [p.numpy().tolist() for p in dt.unpack(i)],
            "f64_dtype": (f * 3).dtype.name,
            "f64_exact": bool(np.array_equal((f * 3).numpy(), A.astype(np.float64) / 3 * 3))}


@check("pack")
def _pack() -> dict:
    a = dt.copy_to_mesh(tx.constant(A), dt.Layout(["x", "y"], MESH))
    pieces = dt.unpack(a)
    again = dt.pack(pieces, dt.fetch_layout(a))
    mine = dt.pack([tx.constant(np.full((2, 4), k, np.int64) + 2**40) for k in range(8)],
                   dt.Layout(["x", "y"], MESH))
    return {"shapes": [list(p.shape) for p in pieces], "first": pieces[0].numpy().tolist(),
            "roundtrip": bool(np.array_equal(again.numpy(), A)), "layout": specs(again),
            "packed": mine.numpy().tolist(), "packed_dtype": mine.dtype.name}


@check("dvariable")
def _dvariable() -> dict:
    v = dt.DVariable(tx.zeros([8, 8]), layout=dt.Layout(["x", "y"], MESH))
    out = {"initial": specs(v)}
    v.assign(tx.constant(A))
    out |= {"after_single": specs(v), "value_single": max_err(v, A)}
    v.assign(dt.relayout(dt.copy_to_mesh(tx.constant(A * 2), dt.Layout(["x", U], MESH)),
                         dt.Layout([U, U], MESH)))
    out |= {"after_other": specs(v), "value_other": max_err(v, A * 2)}

    @tx.function
    def step(z):
        v.assign_add(z)
        return v.read_value()

    a = dt.copy_to_mesh(tx.constant(A), dt.Layout(["x", U], MESH))
    step(a)
    r = step(a)
    out |= {"after_fn": specs(v), "value_fn": max_err(v, A * 4), "read_err": max_err(r, A * 4)}
    iv = dt.DVariable(tx.constant(I64), layout=dt.Layout([U, "y"], MESH))
    iv.assign_add(tx.constant(np.ones_like(I64)))
    out |= {"int64_layout": specs(iv), "int64_exact": bool(np.array_equal(iv.numpy(), I64 + 1))}
    return out


# ---------------------------------------------------------------- (d) bad layouts
def error_of(fn: Callable[[], Any]) -> dict:
    try:
        fn()
    except Exception as e:
        return {"type": type(e).__name__, "value_error": isinstance(e, ValueError),
                "message": str(e)}
    return {"type": None, "message": ""}


@check("errors")
def _errors() -> dict:
    six = tx.constant(np.ones((6, 8), np.float32))
    a = dt.copy_to_mesh(tx.constant(A), dt.Layout(["x", U], MESH))
    other = dt.create_mesh([("x", 4)], devices=[4, 5, 6, 7])
    b = dt.copy_to_mesh(tx.constant(A), dt.Layout(["x", U], other))
    whole = dt.create_mesh([("x", 8)])
    return {
        "not_divisible": error_of(lambda: dt.copy_to_mesh(six, dt.Layout(["x", U], MESH))),
        "not_divisible_fn": error_of(lambda: tx.function(
            lambda z: dt.relayout(z, dt.Layout(["x", U], MESH)))(six)),
        "unknown_axis": error_of(lambda: dt.Layout(["z", U], MESH)),
        "axis_twice": error_of(lambda: dt.Layout(["x", "x"], MESH)),
        "rank": error_of(lambda: dt.relayout(a, dt.Layout(["x"], MESH))),
        "rank_fn": error_of(lambda: tx.function(
            lambda z: dt.relayout(z, dt.Layout(["x"], MESH)))(a)),
        "two_meshes_eager": error_of(lambda: a + b),
        "two_meshes_fn": error_of(lambda: tx.function(lambda p, q: p + q)(a, b)),
        "two_meshes_relayout": error_of(lambda: tx.function(
            lambda p: dt.relayout(p, dt.Layout(["x", U], whole)))(a)),
    }


print("RESULT " + json.dumps(RESULTS), flush=True)
