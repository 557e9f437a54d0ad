"""CSVLogger (one row per epoch) and TensorBoard (event files, via tensorboardX)."""
from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np

from tfx_core.keras.callbacks.base import Callback


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row: the column `epoch` (from 0), then the log keys
    sorted. `append=True` continues an existing file without repeating its header."""

    def __init__(self, filename: str | os.PathLike, separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None
        self._file: Any = None
        self._writer: Any = None
        self._write_header = True

    def on_train_begin(self, logs: dict | None = None) -> None:
        has_rows = (self.append and os.path.exists(self.filename)
                    and os.path.getsize(self.filename) > 0)
        self._write_header = not has_rows
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._writer, self.keys = None, None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.model is not None and self.model.stop_training:  # a cut epoch: keep columns
            logs = {k: logs.get(k, "NA") for k in self.keys}
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys],
                                          delimiter=self.sep)
            if self._write_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self._file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file, self._writer = None, None


def _summary_writer() -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("The TensorBoard callback writes event files with tensorboardX: "
                          "`pip install tfx[tensorboard]` (or tensorboardX)") from None
    return SummaryWriter


class TensorBoard(Callback):
    """Write event files TensorBoard reads, as keras.callbacks.TensorBoard does:
    `log_dir/train` gets "epoch_<name>" scalars of the training logs and `log_dir/validation`
    those of the `val_` logs, at step = epoch. `update_freq="batch"` (or an int N: every N
    batches) also writes "batch_<name>" at the global batch count; `histogram_freq=N` writes
    every weight's histogram every N epochs. Needs tensorboardX (imported when training
    starts). There is no TF graph to draw, so `write_graph` writes nothing."""

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0,
                 write_graph: bool = True, write_images: bool = False,
                 update_freq: str | int = "epoch") -> None:
        super().__init__()
        if write_images:
            raise NotImplementedError("TensorBoard: write_images is not supported yet")
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int)
                                                           and update_freq > 0):
            raise ValueError("TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"int, got {update_freq!r}")
        self.log_dir, self.histogram_freq = os.fspath(log_dir), int(histogram_freq)
        self.write_graph = write_graph
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict[str, Any] = {}
        self._global_batch = 0

    def _writer(self, kind: str) -> Any:
        if kind not in self._writers:
            self._writers[kind] = _summary_writer()(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs: dict | None = None) -> None:
        _summary_writer()  # fail at once, not after the first epoch, when it is missing
        self._global_batch = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._global_batch += 1
        if self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        writer = self._writer("train")
        for key, value in (logs or {}).items():
            writer.add_scalar(f"batch_{key}", float(value), self._global_batch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            kind, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(kind).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for v in self.model.weights:
                tag = v.name.split(":")[0]
                writer.add_histogram(f"{tag}/histogram", np.asarray(v.numpy()), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


__all__ = ["CSVLogger", "TensorBoard"]
