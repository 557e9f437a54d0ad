"""Record tf.keras 3 (tensorflow-cpu 2.21, the `bench` extra) for the tx.keras extras' tests.

Run once: `python -m tests.oracles.record_keras_more` writes tests/oracles/keras_more.json:
Nadam, Lion, Adagrad and gradient clipping trajectories, CosineDecay (with warmup),
ExponentialDecay and PiecewiseConstantDecay values, AUC (ROC/PR), Precision, Recall and
top-k accuracies. The inputs are stored beside the answers; tests never import TensorFlow.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _inputs() -> dict:
    rng = np.random.default_rng(15)
    return {
        "w0": [rng.standard_normal((3, 2)).astype(np.float32).tolist(),
               rng.standard_normal((4,)).astype(np.float32).tolist()],
        "grads": [[rng.standard_normal((3, 2)).astype(np.float32).tolist(),
                   rng.standard_normal((4,)).astype(np.float32).tolist()] for _ in range(4)],
        "y_true": rng.integers(0, 2, 40).astype(np.float32).tolist(),
        "y_score": rng.uniform(0, 1, 40).astype(np.float32).tolist(),
        "weights": rng.uniform(0.2, 2.0, 40).astype(np.float32).tolist(),
        "labels": rng.integers(0, 5, 12).tolist(),
        "logits": rng.standard_normal((12, 5)).astype(np.float32).tolist(),
    }


OPTIMIZERS = {  # name: (class name, kwargs)
    "nadam": ("Nadam", {"learning_rate": 0.01}),
    "nadam_betas": ("Nadam", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.9}),
    "lion": ("Lion", {"learning_rate": 0.01}),
    "lion_betas": ("Lion", {"learning_rate": 0.02, "beta_1": 0.5, "beta_2": 0.7}),
    "adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "adam_clipnorm": ("Adam", {"learning_rate": 0.01, "clipnorm": 0.5}),
    "sgd_global_clipnorm": ("SGD", {"learning_rate": 0.1, "global_clipnorm": 1.0}),
    "sgd_clipvalue": ("SGD", {"learning_rate": 0.1, "clipvalue": 0.3}),
    "nadam_global_clipnorm": ("Nadam", {"learning_rate": 0.01, "global_clipnorm": 0.7}),
}

SCHEDULES = {
    "cosine": ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.1}),
    "cosine_warmup": ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 10,
                                      "alpha": 0.1, "warmup_target": 0.5, "warmup_steps": 5}),
    "cosine_warmup_from": ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 8,
                                           "warmup_target": 1.0, "warmup_steps": 3}),
    "exponential": ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3,
                                         "decay_rate": 0.5}),
    "exponential_staircase": ("ExponentialDecay", {"initial_learning_rate": 0.1,
                                                   "decay_steps": 3, "decay_rate": 0.5,
                                                   "staircase": True}),
    "piecewise": ("PiecewiseConstantDecay", {"boundaries": [3, 7],
                                             "values": [1.0, 0.5, 0.1]}),
}
STEPS = list(range(0, 21))

METRICS = {  # name: (class name, kwargs, which inputs)
    "auc_roc": ("AUC", {}, "binary"),
    "auc_pr": ("AUC", {"curve": "PR"}, "binary"),
    "auc_roc_50": ("AUC", {"num_thresholds": 50}, "binary"),
    "auc_roc_weighted": ("AUC", {}, "binary_weighted"),
    "auc_pr_weighted": ("AUC", {"curve": "PR"}, "binary_weighted"),
    "precision": ("Precision", {}, "binary"),
    "recall": ("Recall", {}, "binary"),
    "precision_03": ("Precision", {"thresholds": 0.3}, "binary_weighted"),
    "recall_07": ("Recall", {"thresholds": 0.7}, "binary_weighted"),
    "sparse_top2": ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    "top3": ("TopKCategoricalAccuracy", {"k": 3}, "onehot"),
}


def main() -> None:
    import keras
    import tensorflow as tf

    data = _inputs()
    out: dict = {"tensorflow": tf.__version__, "keras": keras.__version__, "inputs": data,
                 "optimizers": {}, "schedules": {}, "metrics": {}}
    for name, (cls, kwargs) in OPTIMIZERS.items():
        opt = getattr(keras.optimizers, cls)(**kwargs)
        vs = [keras.Variable(np.array(w, np.float32)) for w in data["w0"]]
        traj = []
        for gs in data["grads"]:
            opt.apply_gradients(zip([tf.constant(g) for g in gs], vs))
            traj.append([v.numpy().tolist() for v in vs])
        out["optimizers"][name] = traj
    for name, (cls, kwargs) in SCHEDULES.items():
        sched = getattr(keras.optimizers.schedules, cls)(**kwargs)
        out["schedules"][name] = [float(sched(s)) for s in STEPS]
    y, p, w = (np.array(data[k], np.float32) for k in ("y_true", "y_score", "weights"))
    labels, logits = np.array(data["labels"]), np.array(data["logits"], np.float32)
    for name, (cls, kwargs, which) in METRICS.items():
        m = getattr(keras.metrics, cls)(**kwargs)
        if which.startswith("binary"):  # two updates: the state accumulates
            sw = w if which == "binary_weighted" else None
            for half in (slice(0, 25), slice(25, None)):
                m.update_state(y[half], p[half], sample_weight=None if sw is None else sw[half])
        elif which == "sparse":
            m.update_state(labels, logits)
        else:
            m.update_state(np.eye(5, dtype=np.float32)[labels], logits)
        out["metrics"][name] = float(m.result())
    path = Path(__file__).with_name("keras_more.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
