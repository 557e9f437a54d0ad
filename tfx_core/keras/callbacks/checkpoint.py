"""ModelCheckpoint: save the model (or its weights) every epoch or N batches, or when `monitor`
improves."""
from __future__ import annotations

import os
import warnings

import numpy as np

from tfx_core.keras.callbacks.base import Callback
from tfx_core.keras.callbacks.monitoring import resolve_mode


class ModelCheckpoint(Callback):
    """Save at each epoch's end, or every `save_freq` batches (keras.callbacks.ModelCheckpoint).

    `filepath` may name the epoch, the batch and logged values:
    "ckpt-{epoch:02d}-{batch}-{loss:.3f}" (epoch and batch count from 1; `{batch}` only with
    an integer `save_freq`). An integer `save_freq` counts batches across epochs (as Keras 3:
    with 3 batches per epoch and save_freq=2, it saves after epoch 1's batch 2, epoch 2's
    batch 1, ...), with that batch's logs (running means over the epoch so far). With
    `save_best_only`, only when `monitor` improved on the best so far, which starts at
    `initial_value_threshold` if given; the file is overwritten each time unless the name
    changes. `save_weights_only` writes `model.save_weights` (a tx.train.Checkpoint file,
    restored by `model.load_weights`), otherwise `model.save` (a .tfx saved model loaded by
    `tx.keras.models.load_model`).
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__()
        if save_freq != "epoch" and (not isinstance(save_freq, int) or
                                     isinstance(save_freq, bool) or save_freq <= 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are "
                             "'epoch' or a positive integer")
        self.save_freq = save_freq
        self._epoch = 0
        self._last_batch_seen = 0
        self._batches_since_save = 0
        if save_freq != "epoch":
            # NOTE: only then a per-batch hook: fit reads each batch's logs (waiting for the
            # step) only for callbacks that have one
            self.on_train_batch_end = self._on_batch_end
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

    def _path(self, epoch: int, batch: int | None, logs: dict) -> str:
        names = {"epoch": epoch + 1, **logs}
        if batch is not None and "batch" not in logs:
            names["batch"] = batch + 1
        try:
            return self.filepath.format(**names)
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

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def _on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        # a batch index not above the last one seen starts a new epoch (Keras 3's count)
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_since_save += added
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save_model(self._epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _save_model(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = dict(logs or {})
        path = self._path(epoch, batch, logs)
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
