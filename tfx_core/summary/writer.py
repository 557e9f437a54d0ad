"""`tx.summary`: event-file writers and scalar/histogram/image/text/graph summaries."""
from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from compiler.interpreters import current_name_scope, is_tracing
from tfx_core.summary.graph_def import graph_def


def _tensorboardx() -> Any:
    try:
        import tensorboardX
    except ImportError:
        raise ImportError("tx.summary writes event files with tensorboardX: "
                          "`pip install tfx[tensorboard]` (or tensorboardX)") from None
    return tensorboardX


class _State(threading.local):
    def __init__(self) -> None:
        self.writers: list[SummaryWriter] = []  # as_default() stack, innermost last
        self.step: int | None = None


_STATE = _State()


def set_step(step: Any) -> None:
    """The default `step` of summaries written without one (tf.summary.experimental.set_step);
    an int, an eager tensor or a Variable (read when each summary is written)."""
    _STATE.step = step


def get_step() -> Any:
    """The default step set by `set_step` (or a writer's `as_default(step=...)`), or None."""
    return _STATE.step


def _numpy(op: str, data: Any) -> np.ndarray:
    if is_tracing():  # the value is symbolic: there is nothing to write while tracing
        raise RuntimeError(f"tx.summary.{op}: summaries are written eagerly; inside a "
                           "tx.function return the value and write it after the call")
    return np.asarray(data.numpy() if hasattr(data, "numpy") else data)


def _step(op: str, step: Any) -> int:
    step = _STATE.step if step is None else step
    if step is None:
        raise ValueError(f"tx.summary.{op}: no step set: pass `step=` or call "
                         "tx.summary.experimental.set_step()")
    return int(_numpy(op, step))


class SummaryWriter:
    """One event-file directory (tf.summary.SummaryWriter); `as_default()` makes the module's
    `tx.summary.scalar/...` write here. The same summaries are methods of the writer."""

    def __init__(self, logdir: str | os.PathLike, max_queue: int = 10,
                 flush_millis: int = 120_000, filename_suffix: str = "") -> None:
        # NOTE: tensorboardX's own SummaryWriter hands events to a thread and its flush()
        # does not wait for them; writing the record file here makes flush() mean "on disk"
        # (as tf.summary's), so a reader right after flush sees everything.
        tbx = _tensorboardx()
        from tensorboardX.event_file_writer import EventsWriter

        self.logdir = os.fspath(logdir)
        os.makedirs(self.logdir, exist_ok=True)
        self._summaries = tbx.summary
        self._file = EventsWriter(os.path.join(self.logdir, "events"), filename_suffix)
        self._max_queue, self._flush_seconds = max(1, max_queue), flush_millis / 1000.0
        self._pending, self._last_flush = 0, time.monotonic()
        self._closed = False

    def _write(self, step: int | None = None, **fields: Any) -> None:
        from tensorboardX.proto import event_pb2

        if self._closed:
            raise RuntimeError(f"tx.summary: the writer for {self.logdir!r} is closed")
        event = event_pb2.Event(wall_time=time.time(), **fields)
        if step is not None:
            event.step = step
        self._file.write_event(event)
        self._pending += 1
        if (self._pending >= self._max_queue
                or time.monotonic() - self._last_flush >= self._flush_seconds):
            self.flush()

    @contextlib.contextmanager
    def as_default(self, step: Any = None) -> Iterator[SummaryWriter]:
        """Write the module-level summaries here inside the block (and with `step` as the
        default step, restored after)."""
        saved = _STATE.step
        _STATE.writers.append(self)
        if step is not None:
            _STATE.step = step
        try:
            yield self
        finally:
            _STATE.writers.pop()
            _STATE.step = saved
            self.flush()

    def set_as_default(self, step: Any = None) -> None:
        """Make this the default writer until another is set (no block)."""
        _STATE.writers[:] = [self]
        if step is not None:
            _STATE.step = step

    def scalar(self, name: str, data: Any, step: Any = None) -> bool:
        value = _numpy("scalar", data)
        if value.size != 1:
            raise ValueError(f"tx.summary.scalar: `data` must be a scalar, got shape "
                             f"{list(value.shape)}")
        at = _step("scalar", step)
        self._write(at, summary=self._summaries.scalar(name, float(value.reshape(()))))
        return True

    def histogram(self, name: str, data: Any, step: Any = None,
                  buckets: int | None = None) -> bool:
        values = _numpy("histogram", data).astype(np.float64).reshape(-1)
        bins = 30 if buckets is None else int(buckets)  # tf.summary's default: 30 equal
        at = _step("histogram", step)
        self._write(at, summary=self._summaries.histogram(name, values, bins))
        return True

    def image(self, name: str, data: Any, step: Any = None, max_outputs: int = 3) -> bool:
        """`data` of shape (k, height, width, channels), channels 1, 3 or 4, floats in [0, 1]
        (clipped) or uint8: the first `max_outputs` images, tagged `name` when only one is
        written, else `name/0`, `name/1`, ..."""
        images = _numpy("image", data)
        if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
            raise ValueError("tx.summary.image: `data` must be (k, height, width, channels) "
                             f"with 1, 3 or 4 channels, got shape {list(images.shape)}")
        if images.dtype != np.uint8:  # as tf.image.convert_image_dtype(saturate=True)
            images = np.clip(images.astype(np.float64) * 255.0, 0, 255).astype(np.uint8)
        kept = images[:max_outputs]
        at = _step("image", step)
        for i, img in enumerate(kept):
            tag = name if len(kept) == 1 else f"{name}/{i}"
            self._write(at, summary=self._summaries.image(tag, img, dataformats="HWC"))
        return True

    def text(self, name: str, data: Any, step: Any = None) -> bool:
        """A string (or bytes) summary; TensorBoard shows it under `name/text_summary`."""
        value = data.numpy() if hasattr(data, "numpy") else data
        if isinstance(value, bytes):
            value = value.decode()
        at = _step("text", step)
        self._write(at, summary=self._summaries.text(name, str(value)))
        return True

    def graph(self, function: Any) -> bool:
        """The graph of a traced `tx.function` / ConcreteFunction / IR Graph (see graph_def),
        for TensorBoard's Graphs tab."""
        self._write(graph_def=graph_def(function).SerializeToString())
        return True

    def flush(self) -> None:
        """Write everything so far to disk."""
        if not self._closed:
            self._file.flush()
            self._pending, self._last_flush = 0, time.monotonic()

    def close(self) -> None:
        """Flush and close the event file (writing afterwards is an error)."""
        if not self._closed:
            self._file.close()
            self._closed = True


def create_file_writer(logdir: str | os.PathLike, max_queue: int | None = None,
                       flush_millis: int | None = None, filename_suffix: str | None = None,
                       name: str | None = None) -> SummaryWriter:
    """A SummaryWriter for `logdir` (tf.summary.create_file_writer)."""
    return SummaryWriter(logdir, max_queue=10 if max_queue is None else max_queue,
                         flush_millis=120_000 if flush_millis is None else flush_millis,
                         filename_suffix=filename_suffix or "")


def _default() -> SummaryWriter | None:
    return _STATE.writers[-1] if _STATE.writers else None


def _tag(name: str) -> str:
    return current_name_scope() + name  # inside tx.name_scope("a"): "a/name", as TF


def should_record_summaries() -> bool:
    """Whether a default writer is set (summaries written now go somewhere)."""
    return _default() is not None


def scalar(name: str, data: Any, step: Any = None, description: str | None = None) -> bool:
    """Write a scalar to the default writer; False (nothing written) when there is none."""
    w = _default()
    return False if w is None else w.scalar(_tag(name), data, step)


def histogram(name: str, data: Any, step: Any = None, buckets: int | None = None,
              description: str | None = None) -> bool:
    """Write a histogram of `data`'s values to the default writer (False when there is none)."""
    w = _default()
    return False if w is None else w.histogram(_tag(name), data, step, buckets)


def image(name: str, data: Any, step: Any = None, max_outputs: int = 3,
          description: str | None = None) -> bool:
    """Write up to `max_outputs` images of (k, h, w, c) `data` (False when no default writer)."""
    w = _default()
    return False if w is None else w.image(_tag(name), data, step, max_outputs)


def text(name: str, data: Any, step: Any = None, description: str | None = None) -> bool:
    """Write a text summary to the default writer (False when there is none)."""
    w = _default()
    return False if w is None else w.text(_tag(name), data, step)


def graph(graph_data: Any) -> bool:
    """Write a traced function's graph to the default writer (False when there is none)."""
    w = _default()
    return False if w is None else w.graph(graph_data)


def flush(writer: SummaryWriter | None = None) -> None:
    """Flush `writer` (default: the default writer) to disk."""
    w = writer if writer is not None else _default()
    if w is not None:
        w.flush()


__all__ = ["SummaryWriter", "create_file_writer", "flush", "get_step", "graph", "histogram",
           "image", "scalar", "set_step", "should_record_summaries", "text"]
