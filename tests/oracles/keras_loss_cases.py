"""Loss cases shared by record_keras_losses.py (tf.keras) and the acceptance tests."""
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
    }


# name: (kwargs, y_true key, y_pred key, sample_weight key or None)
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
}
