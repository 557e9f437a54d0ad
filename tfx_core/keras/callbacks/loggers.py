"""CSVLogger (one row per epoch) and TensorBoard (event files, via tensorboardX)."""
from __future__ import annotations

import csv
import os
import time
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


def _require_tensorboardx() -> None:
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise ImportError("The TensorBoard callback writes event files with tensorboardX: "
                          "`pip install tfx[tensorboard]` (or tensorboardX)") from None


def weight_image(weight: np.ndarray) -> np.ndarray | None:
    """A weight as a batch of (k, h, w, 1) images, as Keras's TensorBoard draws it: a bias
    as one 1-pixel-high strip, a 2-D kernel as one image (wide side horizontal), a 3-D
    (conv1d) kernel as one image per output channel; None for what Keras cannot draw."""
    w = np.squeeze(weight)
    if w.ndim == 1:
        return w.reshape(1, 1, w.shape[0], 1)
    if w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        return w.reshape(1, w.shape[0], w.shape[1], 1)
    if w.ndim == 3:  # channels last: one image per kernel
        w = np.transpose(w, (2, 0, 1))
        return w.reshape(*w.shape, 1)
    return None


class TensorBoard(Callback):
    """Write event files TensorBoard reads, as keras.callbacks.TensorBoard does:
    `log_dir/train` gets "epoch_<name>" scalars of the training logs (and the optimizer's
    `learning_rate`) and `log_dir/validation` those of the `val_` logs, at step = epoch.
    `update_freq="batch"` (or an int N: every N batches) also writes "batch_<name>" at the
    global batch count. `histogram_freq=N` writes every weight's histogram every N epochs
    ("<weight>/histogram"), and with `write_images` the weight as an image
    ("<weight>/image", see `weight_image`). `write_graph` writes the compiled train step's
    graph (our IR as a GraphDef: tx.summary.graph_def) for the Graphs tab once the step is
    traced (nothing under run_eagerly). `write_steps_per_second` adds "steps_per_second".
    Needs tensorboardX (imported when training starts)."""

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0,
                 write_graph: bool = True, write_images: bool = False,
                 write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int = 0, embeddings_freq: int = 0,
                 embeddings_metadata: Any = None) -> None:
        super().__init__()
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int)
                                                           and update_freq > 0):
            raise ValueError("TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"int, got {update_freq!r}")
        if profile_batch or embeddings_freq:
            raise NotImplementedError("TensorBoard: profile_batch and embeddings_freq are not "
                                      "supported (there is no TF profiler or projector here)")
        self.log_dir, self.histogram_freq = os.fspath(log_dir), int(histogram_freq)
        self.write_graph, self.write_images = write_graph, write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict[str, Any] = {}
        self._global_batch = 0
        self._graph_written = False
        self._epoch_start, self._epoch_batches, self._batch_start = 0.0, 0, 0.0

    def _writer(self, kind: str) -> Any:
        if kind not in self._writers:
            from tfx_core.summary import create_file_writer

            self._writers[kind] = create_file_writer(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs: dict | None = None) -> None:
        _require_tensorboardx()  # fail at once, not after the first epoch, when it is missing
        self._global_batch = 0
        self._graph_written = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start, self._epoch_batches = time.perf_counter(), 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._global_batch += 1
        self._epoch_batches += 1
        if self.write_graph and not self._graph_written:
            self._write_train_graph()
        if self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        writer = self._writer("train")
        for key, value in (logs or {}).items():
            writer.scalar(f"batch_{key}", float(value), self._global_batch)
        if self.write_steps_per_second:
            seconds = max(time.perf_counter() - self._batch_start, 1e-9)
            writer.scalar("batch_steps_per_second", 1.0 / seconds, self._global_batch)

    def _write_train_graph(self) -> None:
        self._graph_written = True
        step = getattr(self.model, "train_function", None)
        if step is not None and getattr(step, "list_concrete_functions", None) and \
                step.list_concrete_functions():  # run_eagerly: no traced step to draw
            self._writer("train").graph(step)
            self._writer("train").flush()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        train = {k: v for k, v in (logs or {}).items() if not k.startswith("val_")}
        rate = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        if rate is not None and not callable(rate):  # as Keras: the rate at the epoch's end
            train.setdefault("learning_rate", float(np.asarray(rate)))
        if self.write_steps_per_second:
            seconds = max(time.perf_counter() - self._epoch_start, 1e-9)
            train["steps_per_second"] = self._epoch_batches / seconds
        for name, value in train.items():
            self._writer("train").scalar(f"epoch_{name}", float(value), epoch)
        for key, value in (logs or {}).items():
            if key.startswith("val_"):
                self._writer("validation").scalar(f"epoch_{key[4:]}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for v in self.model.weights:
            tag, value = v.name.split(":")[0], np.asarray(v.numpy())
            writer.histogram(f"{tag}/histogram", value, epoch)
            image = weight_image(value) if self.write_images else None
            if image is not None:
                writer.image(f"{tag}/image", image, epoch)

    def on_train_end(self, logs: dict | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


__all__ = ["CSVLogger", "TensorBoard", "weight_image"]
