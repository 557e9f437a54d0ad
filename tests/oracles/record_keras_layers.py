"""Record tf.keras 3's convolution, pooling, normalization and attention layers (tensorflow-cpu
2.21) for tests/keras/test_conv_norm_layers.py and tests/keras/test_attention.py.

Run once: `python -m tests.oracles.record_keras_layers` writes tests/oracles/keras_layers.npz
(plain arrays, no pickles): per case `<case>__w<i>` (the weights given to set_weights, in
Keras's `weights` order), `<case>__out<j>` (each call's outputs, in order) and `<case>__end<i>`
(the weights after the calls: batch norm's moving statistics after a training call).
`make test` never imports TensorFlow; it reads the arrays.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.keras_layer_cases import CASES, inputs, run, weights_for


def main() -> None:
    import keras

    arrays: dict[str, np.ndarray] = {"keras_version": np.array(keras.__version__)}
    for name, (make, _, _) in CASES.items():
        layer = make(keras.layers)
        layer(*inputs(name))  # builds the weights
        weights = weights_for(name, [tuple(w.shape) for w in layer.weights])
        layer.set_weights(weights)
        outs = run(layer, name)
        for i, w in enumerate(weights):
            arrays[f"{name}__w{i}"] = w
        for j, o in enumerate(outs):
            arrays[f"{name}__out{j}"] = np.asarray(o)
        for i, w in enumerate(layer.weights):
            arrays[f"{name}__end{i}"] = np.asarray(w)
    path = Path(__file__).with_name("keras_layers.npz")
    np.savez(path, **arrays)
    print(f"wrote {path} ({len(CASES)} cases, keras {keras.__version__})")


if __name__ == "__main__":
    main()
