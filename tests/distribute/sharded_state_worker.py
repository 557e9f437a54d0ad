"""Saves state from 8 simulated CPU devices for tests/distribute/test_sharded_state.py: a
checkpoint of sharded Variables (DVariables on a 4x2 mesh, an int64 one beyond 2**32, a plain
Variable made from a sharded tensor, Adam's slots after sharded training steps) restored here
onto a 4-device mesh and onto single-device Variables, and a saved model whose functions ran
sharded (relayout inside, a DVariable read and updated). Writes into argv[1] and prints
`RESULT <json>`; the test restores and loads the same files in its own one-device process.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

import numpy as np

import tfx_core as tx

dt = tx.experimental.dtensor
U = dt.UNSHARDED
OUT = sys.argv[1]
RESULTS: dict[str, Any] = {}

RNG = np.random.default_rng(1)
W = RNG.standard_normal((8, 16)).astype(np.float32)
B = RNG.standard_normal(16).astype(np.float32)
N = np.arange(4, dtype=np.int64) + 2**40 + 7
P = RNG.standard_normal((4, 8)).astype(np.float32)
X = RNG.standard_normal((4, 8)).astype(np.float32)
MESH8 = dt.create_mesh([("x", 4), ("y", 2)])
MESH4 = dt.create_mesh([("a", 4)], devices=[4, 5, 6, 7])


def specs(v: Any) -> list[str] | None:
    lay = dt.fetch_layout(v)
    return None if lay is None else lay.sharding_specs


def model(mesh: Any, layouts: dict[str, list[str] | None], zeros: bool) -> dict:
    """The variables (on `mesh` as `layouts` say, or on one device for None) and an Adam."""
    def var(name: str, value: np.ndarray) -> Any:
        value = np.zeros_like(value) if zeros else value
        lay = layouts[name]
        if lay is None:
            return tx.Variable(value, name=name)
        if name == "p":  # a plain Variable made from a tensor on the mesh
            return tx.Variable(dt.copy_to_mesh(tx.constant(value), dt.Layout(lay, mesh)))
        return dt.DVariable(tx.constant(value), layout=dt.Layout(lay, mesh), name=name)

    return {"w": var("w", W), "b": var("b", B), "n": var("n", N), "p": var("p", P),
            "opt": tx.optimizers.Adam(0.05)}


def train_step(m: dict) -> Any:
    @tx.function
    def step(x):
        with tx.GradientTape() as tape:
            y = tx.nn.relu(tx.matmul(x, m["w"]) + m["b"])
            loss = tx.reduce_mean(y * y) + tx.reduce_sum(m["p"] * m["p"]) * 0.01
        grads = tape.gradient(loss, [m["w"], m["b"], m["p"]])
        m["opt"].apply_gradients(zip(grads, [m["w"], m["b"], m["p"]]))
        return loss
    return step


def values(m: dict) -> dict:
    return {k: m[k].numpy().tolist() for k in ("w", "b", "n", "p")}


def layouts(m: dict) -> dict:
    return {k: specs(m[k]) for k in ("w", "b", "n", "p")}


def checkpoint(m: dict) -> Any:
    return tx.train.Checkpoint(w=m["w"], b=m["b"], n=m["n"], p=m["p"], opt=m["opt"])


def guarded(name: str, fn: Any) -> None:
    try:
        RESULTS[name] = fn()
    except Exception as e:  # reported to the test, which fails with it
        RESULTS[name] = {"crashed": f"{type(e).__name__}: {e}\n{traceback.format_exc()}"}


# ---------------------------------------------------------------- checkpoints
L8 = {"w": ["x", "y"], "b": ["y"], "n": ["x"], "p": [U, "x"]}
L4 = {"w": [U, "a"], "b": ["a"], "n": ["a"], "p": ["a", U]}
ONE = {"w": None, "b": None, "n": None, "p": None}


def save_sharded() -> dict:
    m = model(MESH8, L8, zeros=False)
    x = dt.copy_to_mesh(tx.constant(X), dt.Layout(["y", U], MESH8))
    step = train_step(m)
    losses = [float(step(x)) for _ in range(2)]
    path = checkpoint(m).save(os.path.join(OUT, "ckpt"))
    saved = values(m)
    next_loss = float(step(x))  # what a restored copy's next step must give
    np.savez(os.path.join(OUT, "expected.npz"), x=X, **{k: np.asarray(saved[k], a.dtype)
                                                      for k, a in zip("wbnp", (W, B, N, P))})
    return {"path": path, "losses": losses, "next_loss": next_loss, "values": saved,
            "layouts": layouts(m)}


def restore_onto(mesh: Any, lays: dict, x_layout: list[str] | None) -> dict:
    m = model(mesh, lays, zeros=True)
    before = layouts(m)
    checkpoint(m).restore(RESULTS["save"]["path"]).assert_consumed()
    restored = values(m)
    after = layouts(m)
    x = tx.constant(X) if x_layout is None else dt.copy_to_mesh(tx.constant(X),
                                                                 dt.Layout(x_layout, mesh))
    loss = float(train_step(m)(x))
    return {"values": restored, "layouts_before": before, "layouts": after, "next_loss": loss,
            "n_dtype": m["n"].dtype.name}


guarded("save", save_sharded)
guarded("restore_4", lambda: restore_onto(MESH4, L4, [U, U]))
guarded("restore_1", lambda: restore_onto(MESH8, ONE, None))


# ---------------------------------------------------------------- saved model
class Dense(tx.Module):
    """A layer whose weight lives split over the mesh; its function relayouts inside."""

    def __init__(self) -> None:
        super().__init__()
        self.w = dt.DVariable(tx.constant(W), layout=dt.Layout([U, "y"], MESH8))
        self.seen = dt.DVariable(tx.zeros([4, 16]), layout=dt.Layout(["x", U], MESH8))

    @tx.function(input_signature=[tx.TensorSpec([4, 8], tx.float32)])
    def __call__(self, x):
        h = dt.relayout(tx.matmul(x, self.w), dt.Layout(["x", U], MESH8))
        return tx.nn.relu(h)

    @tx.function(input_signature=[tx.TensorSpec([4, 8], tx.float32)])
    def accumulate(self, x):
        self.seen.assign_add(dt.relayout(tx.matmul(x, self.w), dt.Layout([U, "y"], MESH8)))
        return tx.reduce_sum(self.seen)


def save_model() -> dict:
    layer = Dense()
    x = dt.copy_to_mesh(tx.constant(X), dt.Layout(["x", U], MESH8))
    y = layer(x)
    total = float(layer.accumulate(x))
    path = os.path.join(OUT, "model.tfx")
    tx.saved_model.save(layer, path)
    return {"path": path, "y": y.numpy().tolist(), "y_layout": specs(y), "total": total,
            "seen_layout": specs(layer.seen)}


guarded("saved_model", save_model)
print("RESULT " + json.dumps(RESULTS), flush=True)
