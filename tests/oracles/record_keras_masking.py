"""Record tf.keras 3 masks, MultiHeadAttention(attention_axes) and stateful RNNs (TF 2.21) for
tests/test_keras_masking.py and tests/test_keras_stateful_rnn.py.

Run once: `python -m tests.oracles.record_keras_masking` writes tests/oracles/keras_masking.npz
(plain arrays, no pickles). Per case of masking_cases.CASES: `<case>__w<i>` (the trainable
weights, assigned in order), `<case>__out` and `<case>__mask` (the output's `_keras_mask`, when
it has one). `fit__loss`/`fit__accuracy`: the per-epoch logs of fitting the masked tagger
(SGD 0.5, one full batch per epoch). `<cls>_stateful__out<i>`: three consecutive calls, then
one after `reset_states()`; `<cls>_stateful_fit__loss` and `__state<i>`: a stateful fit of two
batches per epoch, then the carried states. `make test` never imports TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.oracles import masking_cases as C


def _set(model: object, seed: int, arrays: dict, prefix: str) -> None:
    weights = C.weights_for(seed, [tuple(w.shape) for w in model.trainable_weights])
    for var, w in zip(model.trainable_weights, weights):
        var.assign(w)
    for i, w in enumerate(weights):
        arrays[f"{prefix}__w{i}"] = w


def main() -> None:
    import keras

    arrays: dict[str, np.ndarray] = {"keras_version": np.array(keras.__version__)}
    for seed, (name, build) in enumerate(C.CASES.items()):
        model, inputs = build(keras)
        _set(model, seed, arrays, name)
        out = model(inputs if len(inputs) > 1 else inputs[0])
        arrays[f"{name}__out"] = np.asarray(out)
        mask = getattr(out, "_keras_mask", None)
        if mask is not None:
            arrays[f"{name}__mask"] = np.asarray(mask)

    model = C.fit_model(keras)
    _set(model, 100, arrays, "fit")
    model.compile(keras.optimizers.SGD(0.5),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    hist = model.fit(C.IDS, C.FIT_Y, batch_size=len(C.IDS), epochs=C.FIT_STEPS, shuffle=False,
                     verbose=0)
    arrays["fit__loss"] = np.array(hist.history["loss"], np.float32)
    arrays["fit__accuracy"] = np.array(hist.history["accuracy"], np.float32)

    for seed, cls in enumerate(C.STATEFUL, start=200):
        model = C.stateful_model(keras, cls)
        _set(model, seed, arrays, f"{cls}_stateful")
        xs = C.stateful_inputs()
        for i, x in enumerate(xs):
            if i == 3:
                model.layers[-1].reset_states()
            arrays[f"{cls}_stateful__out{i}"] = np.asarray(model(x))
        model = C.stateful_model(keras, cls)
        _set(model, seed, arrays, f"{cls}_stateful_fit")
        model.compile(keras.optimizers.SGD(0.1), "mse")
        hist = model.fit(C.STATEFUL_FIT_X, C.STATEFUL_FIT_Y, batch_size=2, epochs=2,
                         shuffle=False, verbose=0)
        arrays[f"{cls}_stateful_fit__loss"] = np.array(hist.history["loss"], np.float32)
        for i, s in enumerate(model.layers[-1].states):
            arrays[f"{cls}_stateful_fit__state{i}"] = np.asarray(s)
    path = Path(__file__).with_name("keras_masking.npz")
    np.savez(path, **arrays)
    print(f"wrote {path} (keras {keras.__version__})")


if __name__ == "__main__":
    main()
