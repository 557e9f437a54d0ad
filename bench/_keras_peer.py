"""One framework's run of bench/keras_fit.py's shared model source (run in its own process).

    python bench/_keras_peer.py {tfx|jax|tf} {mlp|cnn|mlp,cnn} SAMPLES EPOCHS

prints per model one line `RESULT {json}`: its name, seconds to the end of the first epoch
(compile included), each later epoch's seconds and the final loss. `jax` is Keras 3 on the
JAX backend, `tf` is tf.keras (Keras 3 on TensorFlow, jit_compile=True), `tfx` is tx.keras.
Every peer builds the model from the same source (`build` below), gets the same initial
weights (numpy, seeded, by weight shape) and reads the same synthetic data in the same
order (no shuffling).
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np

BATCH = 128


def build(K, kind: str):  # noqa: N803 (K: the keras module of the peer)
    """THE model source: the same calls on tx.keras, keras (JAX) and tf.keras."""
    if kind == "mlp":
        layers = [K.layers.Flatten(), K.layers.Dense(128, activation="relu"),
                  K.layers.Dense(10)]
    else:
        layers = [K.layers.Reshape((28, 28, 1)), K.layers.Conv2D(16, 3, activation="relu"),
                  K.layers.MaxPooling2D(2), K.layers.Conv2D(32, 3, activation="relu"),
                  K.layers.MaxPooling2D(2), K.layers.Flatten(), K.layers.Dense(10)]
    return K.Sequential([K.Input((28, 28)), *layers])


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-sized synthetic digits: a fixed 28x28 pattern per class plus noise."""
    rng = np.random.default_rng(0)
    patterns = rng.uniform(0.0, 1.0, (10, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int32)
    x = patterns[y] * 0.5 + rng.uniform(0.0, 0.5, (n, 28, 28)).astype(np.float32)
    return x, y


def initial_weights(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Glorot-uniform kernels and zero biases, seeded: the same arrays in every peer."""
    rng = np.random.default_rng(1)
    out = []
    for shape in shapes:
        if len(shape) == 1:
            out.append(np.zeros(shape, np.float32))
            continue
        receptive = math.prod(shape[:-2])
        limit = math.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
        out.append(rng.uniform(-limit, limit, shape).astype(np.float32))
    return out


def keras_module(peer: str):
    if peer == "tfx":
        import tfx_core as tx

        tx.config.set_compile_cache_dir(None)  # the first epoch pays real XLA compiles
        return tx.keras
    if peer == "jax":
        os.environ["KERAS_BACKEND"] = "jax"
        import keras

        return keras
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf.keras


def run(K, peer: str, kind: str, n: int, epochs: int) -> dict:  # noqa: N803
    x, y = data(n)
    model = build(K, kind)
    model.set_weights(initial_weights([tuple(w.shape) for w in model.get_weights()]))
    loss = K.losses.SparseCategoricalCrossentropy(from_logits=True)
    extra = {"jit_compile": True} if peer == "tf" else {}
    model.compile(K.optimizers.Adam(1e-3), loss, **extra)
    marks: list[float] = []
    mark = K.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: marks.append(
        time.perf_counter()))
    t0 = time.perf_counter()
    hist = model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0,
                     callbacks=[mark])
    later = [b - a for a, b in zip(marks, marks[1:])]
    return {"model": kind, "first": marks[0] - t0, "later": later,
            "loss": float(hist.history["loss"][-1])}


def main() -> None:
    peer, kinds, n, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    K = keras_module(peer)  # noqa: N806
    for kind in kinds.split(","):  # several: the later ones skip the process's first costs
        print("RESULT " + json.dumps(run(K, peer, kind, n, epochs)), flush=True)


if __name__ == "__main__":
    main()
