"""Cases shared by record_keras_callbacks.py (tf.keras) and the tx.keras acceptance tests."""
from __future__ import annotations

import numpy as np

LOSSY = [1.0, 0.8, 0.79, 0.85, 0.78, 0.9, 0.95, 0.7, 0.99, 1.2]
ACC = [0.5, 0.6, 0.605, 0.61, 0.7, 0.69, 0.695, 0.68, 0.75, 0.74]

# name: (EarlyStopping kwargs, monitored values per epoch)
EARLY_STOPPING = {
    "patience2": ({"monitor": "val_loss", "patience": 2}, LOSSY),
    "min_delta": ({"monitor": "val_loss", "patience": 1, "min_delta": 0.05}, LOSSY),
    "baseline_never_met": ({"monitor": "val_loss", "patience": 3, "baseline": 0.5}, LOSSY),
    "baseline_met": ({"monitor": "val_loss", "patience": 1, "baseline": 0.81}, LOSSY),
    "start_from_epoch": ({"monitor": "val_loss", "patience": 1, "start_from_epoch": 4}, LOSSY),
    "restore_best": ({"monitor": "val_loss", "patience": 2, "restore_best_weights": True},
                     LOSSY),
    "restore_start_from": ({"monitor": "val_loss", "patience": 0, "start_from_epoch": 2,
                            "restore_best_weights": True}, LOSSY),
    "max_min_delta": ({"monitor": "val_accuracy", "mode": "max", "patience": 1,
                       "min_delta": 0.02}, ACC),
    "auto_max_min_delta": ({"monitor": "val_accuracy", "mode": "auto", "patience": 1,
                            "min_delta": 0.02}, ACC),
}

# name: (ReduceLROnPlateau kwargs, monitored values per epoch)
REDUCE_LR = {
    "patience1": ({"monitor": "val_loss", "factor": 0.5, "patience": 1}, LOSSY),
    "cooldown_min_lr": ({"monitor": "val_loss", "factor": 0.5, "patience": 1, "cooldown": 2,
                         "min_lr": 0.02, "min_delta": 0.05}, LOSSY),
    "max_mode": ({"monitor": "val_accuracy", "mode": "max", "factor": 0.2, "patience": 2,
                  "min_delta": 0.02}, ACC),
}


def order_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """10 training rows (3 batches of 4, 4, 2) and 5 validation rows (2 batches)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 2)).astype(np.float32)
    y = rng.integers(0, 2, 10).astype(np.int32)
    return x, y, x[:5], y[:5]
