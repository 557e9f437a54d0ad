"""Record tf.keras 3 recurrent layer outputs (TF 2.21) for tests/keras/test_recurrent.py.

Run once: `python -m tests.oracles.record_keras_rnn` writes tests/oracles/keras_rnn.npz (plain
arrays, no pickles): per case `<case>__w<i>` (the weights set with set_weights, in Keras's
`weights` order) and `<case>__out<j>` (the outputs, flattened in order). `make test` never imports
TensorFlow; it reads the arrays.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles.rnn_cases import CASES, call_kwargs, inputs, make, weights_for


def main() -> None:
    import keras

    arrays: dict[str, np.ndarray] = {"keras_version": np.array(keras.__version__)}
    for name in CASES:
        layer = make(keras.layers, name)
        x, states = inputs(name)
        kwargs = call_kwargs(name, states)
        layer(x, **kwargs)  # builds the weights
        weights = weights_for([tuple(w.shape) for w in layer.weights], name)
        layer.set_weights(weights)
        out = layer(x, **kwargs)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for i, w in enumerate(weights):
            arrays[f"{name}__w{i}"] = w
        for j, o in enumerate(outs):
            arrays[f"{name}__out{j}"] = np.asarray(o)
    path = Path(__file__).with_name("keras_rnn.npz")
    np.savez(path, **arrays)
    print(f"wrote {path} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
