"""Record tf.keras 3 (tensorflow-cpu 2.21) on the layer arguments of keras_layer_arg_cases.py:
regularization losses (weights and activity), grouped and output-padded convolutions, Flatten
(channels_first), the constraints, and the weights after one SGD step of fit with constrained
weights, for tests/keras/test_layer_regularizers_constraints.py.

Run once: `python -m tests.oracles.record_keras_layer_args` writes
tests/oracles/keras_layer_args.npz (plain arrays): per layer case `<case>__w<i>` (the weights
given), `<case>__out` (the call's output) and `<case>__losses` (layer.losses, sorted: Keras's
order follows its sublayers); per constraint `c__<name>`; `fit__w<i>` before and
`fit__end<i>` after one step, `fit__loss` (fit's reported loss). `make test` never imports
TensorFlow; it reads the arrays.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.keras_layer_arg_cases import (
    CONSTRAINT_INPUT,
    CONSTRAINTS,
    LAYERS,
    fit_data,
    fit_model,
    inputs,
    weights_for,
)


def main() -> None:
    import keras

    arrays: dict[str, np.ndarray] = {"keras_version": np.array(keras.__version__)}
    for name, (make, _) in LAYERS.items():
        layer, args = make(keras), inputs(name)
        layer(*args)  # builds the weights
        weights = weights_for([tuple(w.shape) for w in layer.weights])
        layer.set_weights(weights)
        out = layer(*args)
        for i, w in enumerate(weights):
            arrays[f"{name}__w{i}"] = w
        arrays[f"{name}__out"] = np.asarray(out)
        arrays[f"{name}__losses"] = np.sort([float(v) for v in layer.losses]).astype(np.float32)
    for name, make in CONSTRAINTS.items():
        arrays[f"c__{name}"] = np.asarray(make(keras)(CONSTRAINT_INPUT))
    model = fit_model(keras)
    weights = weights_for([tuple(w.shape) for w in model.weights])
    model.set_weights(weights)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x, y = fit_data()
    history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    for i, (w0, w1) in enumerate(zip(weights, model.get_weights())):
        arrays[f"fit__w{i}"], arrays[f"fit__end{i}"] = w0, np.asarray(w1)
    arrays["fit__loss"] = np.float32(history.history["loss"][0])
    path = Path(__file__).with_name("keras_layer_args.npz")
    np.savez(path, **arrays)
    print(f"wrote {path} ({len(LAYERS)} layers, keras {keras.__version__})")


if __name__ == "__main__":
    main()
