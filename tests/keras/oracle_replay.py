"""Replays tests/oracles/keras_layers.npz (tf.keras 3's answers) on tx.keras layers."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import tfx_core as tx
from tests.oracles.keras_layer_cases import CASES, inputs, run
from tfx_core.keras import layers

RECORDED = np.load(Path(__file__).resolve().parent.parent / "oracles" / "keras_layers.npz")


def recorded(name: str, kind: str) -> list[np.ndarray]:
    out, i = [], 0
    while f"{name}__{kind}{i}" in RECORDED.files:
        out.append(RECORDED[f"{name}__{kind}{i}"])
        i += 1
    return out


def check_case(name: str, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Eagerly, then inside one tx.function (weights reset between): every output and the
    weights after the calls match Keras's; the weight shapes are Keras's layout."""
    layer = CASES[name][0](layers)
    xs = inputs(name)
    layer(*xs)  # build
    start = recorded(name, "w")
    assert [tuple(w.shape.as_list()) for w in layer.weights] == [w.shape for w in start]
    for mode in ("eager", "compiled"):
        layer.set_weights(start)
        outs = run(layer, name) if mode == "eager" else tx.function(
            lambda: run(layer, name))()
        want = recorded(name, "out")
        assert len(outs) == len(want)
        for j, (got, ref) in enumerate(zip(outs, want)):
            np.testing.assert_allclose(np.asarray(got), ref, rtol=rtol, atol=atol,
                                       err_msg=f"{name} {mode} output {j}")
        for i, (w, ref) in enumerate(zip(layer.weights, recorded(name, "end"))):
            np.testing.assert_allclose(w.numpy(), ref, rtol=rtol, atol=atol,
                                       err_msg=f"{name} {mode} weight {i} after the calls")
