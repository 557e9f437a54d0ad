"""Loss cases shared by record_keras_losses.py (tf.keras) and the acceptance tests: sparse
cross-entropy with ignore_class, the Keras 3 reductions, per-sample weights on per-step losses,
binary cross-entropy over another axis, per-sample weights on (batch, 1) losses."""
from __future__ import annotations

import numpy as np


def inputs() -> dict:
    rng = np.random.default_rng(15)
    logits = rng.standard_normal((2, 3, 4)).astype(np.float32)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return {
        "logits": logits,
        "probs": (e / e.sum(-1, keepdims=True)).astype(np.float32),
        "labels": np.array([[0, 255, 2], [255, 1, 3]], np.int32),
        "all_ignored": np.full((2, 3), 255, np.int32),
        "weights": rng.uniform(0.2, 2.0, (2, 3)).astype(np.float32),
        "row_weights": np.array([0.5, 2.0], np.float32),
        "bce_weights": rng.uniform(0.2, 2.0, (2, 4)).astype(np.float32),
        "col_true": rng.standard_normal((2, 1, 3)).astype(np.float32),
        "col_pred": rng.standard_normal((2, 1, 3)).astype(np.float32),
        "labels_plain": np.array([[0, 1, 2], [3, 1, 0]], np.int32),
        "zero_weights": np.zeros((2, 3), np.float32),
        "bin_true": rng.integers(0, 2, (2, 3, 4)).astype(np.float32),
    }


# name: (kwargs, y_true key, y_pred key, sample_weight key or None); the class is
# SparseCategoricalCrossentropy unless kwargs has "class"
CASES = {
    "ignore_logits": ({"from_logits": True, "ignore_class": 255}, "labels", "logits", None),
    "ignore_probs": ({"ignore_class": 255}, "labels", "probs", None),
    "ignore_weighted": ({"from_logits": True, "ignore_class": 255}, "labels", "logits",
                        "weights"),
    "ignore_sum": ({"from_logits": True, "ignore_class": 255, "reduction": "sum"}, "labels",
                   "logits", None),
    "ignore_none": ({"from_logits": True, "ignore_class": 255, "reduction": "none"}, "labels",
                    "logits", None),
    "all_ignored": ({"from_logits": True, "ignore_class": 255}, "all_ignored", "logits", None),
    "mean": ({"from_logits": True, "reduction": "mean"}, "labels_plain", "logits", "weights"),
    "mean_with_sample_weight": ({"from_logits": True, "reduction": "mean_with_sample_weight"},
                                "labels_plain", "logits", "weights"),
    "ignore_mean_with_sample_weight": ({"from_logits": True, "ignore_class": 255,
                                        "reduction": "mean_with_sample_weight"}, "labels",
                                       "logits", "weights"),
    "zero_weights_mean_with_sample_weight": ({"from_logits": True,
                                              "reduction": "mean_with_sample_weight"},
                                             "labels_plain", "logits", "zero_weights"),
    "bce_axis1": ({"class": "BinaryCrossentropy", "from_logits": True, "axis": 1}, "bin_true",
                  "logits", None),
    "bce_axis1_weights": ({"class": "BinaryCrossentropy", "from_logits": True, "axis": 1},
                          "bin_true", "logits", "bce_weights"),
    "column_losses_row_weights": ({"class": "MeanSquaredError"}, "col_true", "col_pred",
                                  "row_weights"),
}


def make(keras_losses, kwargs: dict):
    """The case's loss object from a losses module (keras.losses or tx.keras.losses)."""
    kwargs = dict(kwargs)
    cls = getattr(keras_losses, kwargs.pop("class", "SparseCategoricalCrossentropy"))
    return cls(**kwargs)
