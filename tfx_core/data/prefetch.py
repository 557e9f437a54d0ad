"""`Dataset.prefetch`: a background thread runs the pipeline ahead of the consumer into a bounded
queue, so the next batch is prepared (and already on the device) while the compiled step runs."""
from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Iterator
from typing import Any

from tfx_core.data import structure as st
from tfx_core.ops.arguments import op_error, static_int

Stage = st.Stage

AUTOTUNE = -1
_AUTOTUNE_DEPTH = 2  # what AUTOTUNE means here: enough to hide one step behind the next
_END = object()
THREAD_NAME = "tfx-data-prefetch"


class _Failure:
    """An exception raised by the pipeline, handed to the consumer to re-raise."""

    def __init__(self, error: BaseException):
        self.error = error


def _produce(source: Iterator[list], q: queue.Queue, stop: threading.Event) -> None:
    # NOTE: this closure must not reference the PrefetchIterator, or dropping the iterator
    # would never finalize it and the thread would run on.
    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    try:
        for leaves in source:
            # The host-to-device copy happens here, off the consumer's thread.
            if not put([st.to_device(x) for x in leaves]):
                return
    except BaseException as e:  # noqa: BLE001  (every failure reaches the consumer)
        put(_Failure(e))
        return
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # run the source generators' cleanup in this thread
    put(_END)


class PrefetchIterator:
    """Iterates elements a producer thread computed ahead; `produced` counts them."""

    def __init__(self, source: Iterator[list], depth: int):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self.thread = threading.Thread(target=_produce, args=(source, self._queue, self._stop),
                                       name=THREAD_NAME, daemon=True)
        self.thread.start()
        weakref.finalize(self, self._stop.set)  # dropped iterator: the producer stops

    def __iter__(self) -> PrefetchIterator:
        return self

    def __next__(self) -> list:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Failure):
            self._done = True
            raise item.error
        return item

    def close(self) -> None:
        self._stop.set()


def prefetch(stage: Stage, buffer_size: Any = AUTOTUNE) -> Stage:
    n = static_int(buffer_size, "Dataset.prefetch", "buffer_size")
    if n < -1:
        raise op_error("Dataset.prefetch", f"buffer_size must be >= 0 or AUTOTUNE (-1), got {n}",
                       ValueError)
    if n == 0:
        return stage
    depth = _AUTOTUNE_DEPTH if n == AUTOTUNE else n
    make = stage[0]

    def make_iter() -> Iterator[list]:
        return PrefetchIterator(make(), depth)

    return make_iter, stage[1], stage[2]
