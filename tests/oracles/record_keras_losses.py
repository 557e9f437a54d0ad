"""Record tf.keras 3 (tensorflow-cpu 2.21) losses for the issue-15 acceptance tests: sparse
cross-entropy with `ignore_class`, every Keras 3 reduction, per-sample weights on per-step
losses, binary cross-entropy over axis 1.

Run once: `python -m tests.oracles.record_keras_losses` writes tests/oracles/keras_losses.json
(cases in keras_loss_cases.py). Tests never import TensorFlow.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from tests.oracles.keras_loss_cases import CASES, inputs, make


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    data = inputs()
    out = {"tensorflow": tf.__version__, "keras": keras.__version__, "cases": {}}
    for name, (kwargs, t, p, w) in CASES.items():
        y_pred = data[p]
        loss = make(keras.losses, kwargs)
        value = loss(data[t], y_pred, sample_weight=None if w is None else data[w])
        out["cases"][name] = np.asarray(value, np.float64).tolist()
    path = Path(__file__).with_name("keras_losses.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
