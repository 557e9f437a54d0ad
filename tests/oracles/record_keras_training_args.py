"""Record tf.keras 3 (tensorflow-cpu 2.21) fit/evaluate arguments for test_training_args.py.

Run once: `python -m tests.oracles.record_keras_training_args` writes
tests/oracles/keras_training_args.json: a two-output functional model with per-output
`loss` dicts, `loss_weights`, per-output `metrics` and `weighted_metrics` under sample weights
(history, evaluate as a dict and as a list), a classifier with `weighted_metrics` and
`class_weight`, `validation_freq` (int and list), `steps_per_epoch` over a repeated and a
finite dataset, and `steps_per_execution`. Inputs and initial weights are stored beside the
answers; tests never import TensorFlow.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("keras_training_args.json")


def _inputs() -> dict:
    rng = np.random.default_rng(1515)
    f = np.float32
    return {
        "x": rng.standard_normal((10, 3)).astype(f).tolist(),
        "ya": rng.standard_normal((10, 2)).astype(f).tolist(),
        "yb": rng.standard_normal((10, 1)).astype(f).tolist(),
        "labels": rng.integers(0, 2, (10, 1)).astype(f).tolist(),
        "sw": rng.uniform(0.2, 2.0, 10).astype(f).tolist(),
        "ka": rng.standard_normal((3, 2)).astype(f).tolist(),
        "ba": rng.standard_normal((2,)).astype(f).tolist(),
        "kb": rng.standard_normal((3, 1)).astype(f).tolist(),
        "bb": rng.standard_normal((1,)).astype(f).tolist(),
    }


def _floats(d: dict) -> dict:
    return {k: [float(v) for v in vs] for k, vs in d.items()}


def main() -> None:
    import keras
    import tensorflow as tf

    inp = _inputs()
    a = {k: np.asarray(v, np.float32) for k, v in inp.items()}

    def two_outputs() -> keras.Model:
        x = keras.Input((3,), name="x")
        model = keras.Model(x, [keras.layers.Dense(2, name="a")(x),
                                keras.layers.Dense(1, name="b")(x)])
        model.set_weights([a["ka"], a["ba"], a["kb"], a["bb"]])
        return model

    def one_output(activation: str | None = None) -> keras.Model:
        x = keras.Input((3,))
        model = keras.Model(x, keras.layers.Dense(1, activation=activation, name="b")(x))
        model.set_weights([a["kb"], a["bb"]])
        return model

    out: dict = {"inputs": inp}
    # per-output loss dict + loss_weights + per-output metrics + weighted_metrics
    m = two_outputs()
    m.compile(keras.optimizers.SGD(0.1), loss={"a": "mse", "b": "mae"},
              loss_weights={"a": 0.5, "b": 2.0}, metrics={"a": ["mae"], "b": ["mse"]},
              weighted_metrics={"a": ["mae"]})
    h = m.fit(a["x"], [a["ya"], a["yb"]], sample_weight=a["sw"], batch_size=4, epochs=2,
              shuffle=False, verbose=0)
    out["multi"] = {
        "history": _floats(h.history),
        "evaluate_dict": {k: float(v) for k, v in m.evaluate(
            a["x"], [a["ya"], a["yb"]], sample_weight=a["sw"], batch_size=4, verbose=0,
            return_dict=True).items()},
        "evaluate_list": [float(v) for v in m.evaluate(
            a["x"], [a["ya"], a["yb"]], sample_weight=a["sw"], batch_size=4, verbose=0)],
        "weights": [w.tolist() for w in m.get_weights()],
    }
    # a loss list and loss_weights as a list, targets as a dict
    m = two_outputs()
    m.compile(keras.optimizers.SGD(0.1), loss=["mse", "mae"], loss_weights=[1.0, 3.0])
    h = m.fit(a["x"], {"a": a["ya"], "b": a["yb"]}, batch_size=5, epochs=2, shuffle=False,
              verbose=0)
    out["multi_list"] = {"history": _floats(h.history),
                         "weights": [w.tolist() for w in m.get_weights()]}
    # one loss for every output
    m = two_outputs()
    m.compile(keras.optimizers.SGD(0.1), loss="mse")
    h = m.fit(a["x"], [a["ya"], a["yb"]], batch_size=5, epochs=1, shuffle=False, verbose=0)
    out["multi_one_loss"] = {"history": _floats(h.history),
                             "weights": [w.tolist() for w in m.get_weights()]}
    # a classifier: metrics are unweighted, weighted_metrics see class_weight
    m = one_output("sigmoid")
    m.compile(keras.optimizers.SGD(0.5), loss="binary_crossentropy",
              metrics=["accuracy", "mse"], weighted_metrics=["accuracy", "mse"])
    h = m.fit(a["x"], a["labels"], class_weight={0: 1.0, 1: 3.0}, batch_size=4, epochs=2,
              shuffle=False, verbose=0)
    ev = m.evaluate(a["x"], a["labels"], sample_weight=a["sw"], batch_size=4, verbose=0,
                    return_dict=True)
    out["weighted"] = {"history": _floats(h.history),
                       "evaluate_dict": {k: float(v) for k, v in ev.items()}}
    # validation_freq as an int and a list
    for name, freq in (("int", 2), ("list", [1, 3])):
        m = one_output()
        m.compile(keras.optimizers.SGD(0.1), loss="mse")
        h = m.fit(a["x"][:6], a["yb"][:6], batch_size=3, epochs=4, shuffle=False, verbose=0,
                  validation_data=(a["x"][6:], a["yb"][6:]), validation_freq=freq)
        out[f"validation_freq_{name}"] = _floats(h.history)
    # steps_per_epoch over a repeated dataset (one iterator across epochs) and a finite one
    for name, repeat in (("repeat", True), ("finite", False)):
        m = one_output()
        m.compile(keras.optimizers.SGD(0.1), loss="mse")
        ds = tf.data.Dataset.from_tensor_slices((a["x"], a["yb"])).batch(4)
        if repeat:
            ds = ds.repeat()
        h = m.fit(ds, steps_per_epoch=2, epochs=3, verbose=0)
        out[f"steps_per_epoch_{name}"] = {"history": _floats(h.history),
                                          "weights": [w.tolist() for w in m.get_weights()]}
    # steps_per_execution: the same results as one step per call
    m = one_output()
    m.compile(keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], steps_per_execution=3)
    h = m.fit(a["x"], a["yb"], batch_size=2, epochs=2, shuffle=False, verbose=0)
    out["steps_per_execution"] = {"history": _floats(h.history),
                                  "weights": [w.tolist() for w in m.get_weights()]}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
