"""ModelCheckpoint: save the model (or its weights) every epoch or when `monitor` improves."""
from __future__ import annotations

import os
import warnings

import numpy as np

from tfx_core.keras.callbacks.base import Callback
from tfx_core.keras.callbacks.monitoring import resolve_mode


class ModelCheckpoint(Callback):
    """Save at each epoch's end (keras.callbacks.ModelCheckpoint).

    `filepath` may name the epoch and logged values: "ckpt-{epoch:02d}-{val_loss:.3f}"
    (epoch counts from 1). With `save_best_only`, only when `monitor` improved on the best so
    far (and on `initial_value_threshold`); the file is overwritten each time unless the name
    changes. `save_weights_only` writes `model.save_weights` (a tx.train.Checkpoint file,
    restored by `model.load_weights`), otherwise `model.save` (a .tfx saved model loaded by
    `tx.keras.models.load_model`). Only `save_freq="epoch"` is supported.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise NotImplementedError(f"ModelCheckpoint: save_freq={save_freq!r} is not "
                                      "supported yet; use 'epoch'")
        self.filepath = os.fspath(filepath)
        self.monitor, self.verbose = monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = resolve_mode("ModelCheckpoint", monitor, mode)
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = float("inf") if self.mode == "min" else -float("inf")

    def _better(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def _path(self, epoch: int, logs: dict) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e!r} is not in the logs {sorted(logs)}") from None

    def _save(self, path: str) -> None:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        path = self._path(epoch, logs)
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            self._save(path)
            return
        current = logs.get(self.monitor)
        if current is None or (isinstance(current, float) and np.isnan(current)):
            warnings.warn(f"Can save best model only with {self.monitor} available, "
                          "skipping.", stacklevel=2)
            return
        if self._better(current):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
            self._save(path)
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")


__all__ = ["ModelCheckpoint"]
