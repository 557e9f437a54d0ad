"""Record tf.keras 3 (tensorflow-cpu 2.21, the `bench` extra) for multi-label AUC and friends.

Run once: `python -m tests.oracles.record_keras_auc` writes tests/oracles/keras_auc.json: AUC
with `multi_label`, `label_weights`, every `summation_method`, ROC and PR, `from_logits`,
explicit `thresholds`; Precision/Recall with `top_k`, `class_id` and threshold lists; soft
labels. Each metric sees two updates (rows 0..14, then the rest) so the state accumulates.
The inputs are stored beside the answers; tests never import TensorFlow.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

N, LABELS, SPLIT = 30, 4, 15  # equal halves: the eager ops compile once per shape


def _inputs() -> dict:
    rng = np.random.default_rng(1515)
    y = rng.integers(0, 2, (N, LABELS)).astype(np.float32)
    y[:, 3] = 0.0
    y[:3, 3] = 1.0  # one rare label: its own AUC differs a lot from the others'
    return {
        "y_true": y.tolist(),
        "y_score": rng.uniform(0, 1, (N, LABELS)).astype(np.float32).tolist(),
        "logits": rng.standard_normal((N, LABELS)).astype(np.float32).tolist(),
        "weights": rng.uniform(0.2, 2.0, N).astype(np.float32).tolist(),
    }


LW = [0.5, 1.0, 2.0, 0.25]
CASES = {  # name: (class name, kwargs, scores ("score" or "logits"), weighted)
    "auc_ml_roc": ("AUC", {"multi_label": True}, "score", False),
    "auc_ml_pr": ("AUC", {"multi_label": True, "curve": "PR"}, "score", False),
    "auc_ml_roc_lw": ("AUC", {"multi_label": True, "num_labels": 4, "label_weights": LW},
                      "score", False),
    "auc_ml_pr_lw_w": ("AUC", {"multi_label": True, "curve": "PR", "label_weights": LW},
                       "score", True),
    "auc_ml_roc_w": ("AUC", {"multi_label": True}, "score", True),
    "auc_ml_logits": ("AUC", {"multi_label": True, "from_logits": True}, "logits", False),
    "auc_ml_minoring_pr": ("AUC", {"multi_label": True, "curve": "PR",
                                   "summation_method": "minoring"}, "score", False),
    "auc_flat": ("AUC", {}, "score", False),
    "auc_flat_w": ("AUC", {}, "score", True),
    "auc_flat_lw": ("AUC", {"label_weights": LW}, "score", False),
    "auc_flat_logits_pr": ("AUC", {"curve": "PR", "from_logits": True}, "logits", False),
    "auc_roc_minoring": ("AUC", {"summation_method": "minoring"}, "score", False),
    "auc_roc_majoring": ("AUC", {"summation_method": "majoring"}, "score", True),
    "auc_pr_minoring": ("AUC", {"curve": "PR", "summation_method": "minoring"}, "score", False),
    "auc_pr_majoring": ("AUC", {"curve": "PR", "summation_method": "majoring"}, "score", True),
    "auc_thresholds": ("AUC", {"thresholds": [0.7, 0.1, 0.3, 0.5, 0.9]}, "score", False),
    "auc_thresholds_pr_ml": ("AUC", {"thresholds": [0.25, 0.5, 0.75], "curve": "PR",
                                     "multi_label": True}, "score", True),
    "precision_top2": ("Precision", {"top_k": 2}, "score", False),
    "recall_top2": ("Recall", {"top_k": 2}, "score", True),
    "precision_class1": ("Precision", {"class_id": 1}, "score", False),
    "recall_class2_w": ("Recall", {"class_id": 2, "thresholds": 0.3}, "score", True),
    "precision_top1_class0": ("Precision", {"top_k": 1, "class_id": 0}, "score", False),
    "recall_top3_class1": ("Recall", {"top_k": 3, "class_id": 1}, "score", False),
    "precision_list": ("Precision", {"thresholds": [0.2, 0.5, 0.8]}, "score", True),
    "recall_list_top2": ("Recall", {"thresholds": [0.1, 0.6], "top_k": 2}, "score", False),
}


def main() -> None:
    import keras
    import tensorflow as tf

    data = _inputs()
    out: dict = {"tensorflow": tf.__version__, "keras": keras.__version__, "inputs": data,
                 "split": SPLIT, "cases": {}}
    y = np.array(data["y_true"], np.float32)
    w = np.array(data["weights"], np.float32)
    for name, (cls, kwargs, which, weighted) in CASES.items():
        m = getattr(keras.metrics, cls)(**kwargs)
        p = np.array(data["y_score" if which == "score" else "logits"], np.float32)
        for part in (slice(0, SPLIT), slice(SPLIT, None)):
            m.update_state(y[part], p[part], sample_weight=w[part] if weighted else None)
        out["cases"][name] = np.asarray(m.result()).tolist()
    # soft labels: any nonzero label counts as a positive
    soft_y, soft_p = [0.3, 0.0, 1.0, 0.7, 0.0, 0.2], [0.9, 0.2, 0.8, 0.1, 0.4, 0.6]
    out["soft"] = {"y_true": soft_y, "y_score": soft_p}
    for cls in ("AUC", "Precision", "Recall"):
        m = getattr(keras.metrics, cls)()
        m.update_state(np.array(soft_y, np.float32), np.array(soft_p, np.float32))
        out["soft"][cls] = float(m.result())
    path = Path(__file__).with_name("keras_auc.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
