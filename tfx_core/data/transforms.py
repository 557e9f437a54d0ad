"""Element-wise and counting transformations: map, filter, take, skip, repeat, enumerate, cache."""
# Each takes the parent's Stage (structure.py) and returns its own.
from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from compiler.ir.types import BOOL, I64
from tfx_core.data import structure as st
from tfx_core.data.functions import ElementFunction
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.ops.arguments import op_error, static_int

Stage = st.Stage


def _first(stage: Stage) -> Callable[[], list | None]:
    def first() -> list | None:
        return next(iter(stage[0]()), None)
    return first


def _workers(num_parallel_calls: Any) -> int:
    if num_parallel_calls is None:
        return 1
    n = static_int(num_parallel_calls, "Dataset.map", "num_parallel_calls")
    if n == -1:
        # AUTOTUNE: in order on the pipeline's thread. Measured on 2 cores, worker threads
        # only slowed compiled maps (16-float element 19 -> 46 us; 8 matmuls of 256x256
        # 1.5 -> 1.8 ms): XLA already spreads one call over the cores and each call's Python
        # part holds the GIL. A number asks for threads explicitly (for Python-heavy functions
        # that release the GIL, as numpy does); `prefetch` overlaps the pipeline with the step.
        return 1
    if n <= 0:
        raise op_error("Dataset.map", f"num_parallel_calls must be positive or AUTOTUNE (-1), "
                       f"got {n}", ValueError)
    return n


def _in_parallel(f: ElementFunction, source: Iterator[list], n: int) -> Iterator[list]:
    """f over the source with up to n calls in flight, results in input order."""
    pool = ThreadPoolExecutor(n, thread_name_prefix="tfx-data-map")
    pending: collections.deque = collections.deque()
    try:
        for leaves in source:
            pending.append(pool.submit(f, leaves))
            if len(pending) >= n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # also when the consumer drops the iterator early
        pool.shutdown(wait=False, cancel_futures=True)


def map_(stage: Stage, fn: Callable, num_parallel_calls: Any = None
         ) -> tuple[Stage, ElementFunction]:
    n = _workers(num_parallel_calls)
    f = ElementFunction(fn, stage[1], "Dataset.map", _first(stage))
    make = stage[0]

    def make_iter() -> Iterator[list]:
        if n > 1:
            yield from _in_parallel(f, make(), n)
            return
        for leaves in make():
            yield f(leaves)

    return (make_iter, f.out_spec, stage[2]), f


def filter_(stage: Stage, predicate: Callable) -> tuple[Stage, ElementFunction]:
    f = ElementFunction(predicate, stage[1], "Dataset.filter", _first(stage))
    out = f.out_spec
    if not (isinstance(out, TensorSpec) and out.shape == () and out.dtype is BOOL):
        raise op_error("Dataset.filter", "Invalid `predicate`. `predicate` must return a "
                       f"`tx.bool` scalar tensor, but its return type is {out}.", ValueError)
    make = stage[0]

    def make_iter() -> Iterator[list]:
        for leaves in make():
            if bool(st.to_host(f(leaves)[0])):
                yield leaves

    return (make_iter, stage[1], st.UNKNOWN), f


def _count(count: Any, name: str) -> int:
    return static_int(count, name, "count")


def take(stage: Stage, count: Any) -> Stage:
    """The first `count` elements (-1: all of them)."""
    n = _count(count, "Dataset.take")
    make, card = stage[0], stage[2]
    if n < 0:
        return stage
    out = n if card in (st.INFINITE,) else min(n, card) if card >= 0 else st.UNKNOWN
    return (lambda: itertools.islice(make(), n)), stage[1], out


def skip(stage: Stage, count: Any) -> Stage:
    """All but the first `count` elements (-1: skip everything)."""
    n = _count(count, "Dataset.skip")
    make, card = stage[0], stage[2]
    if n < 0:
        def drain() -> Iterator[list]:
            for _ in make():  # run the parent (its side effects happen, as in TF)
                pass
            yield from ()
        return drain, stage[1], 0 if card != st.INFINITE else st.INFINITE
    out = card if card < 0 else max(card - n, 0)
    return (lambda: itertools.islice(make(), n, None)), stage[1], out


def repeat(stage: Stage, count: Any = None) -> Stage:
    """`count` passes over the parent (None or -1: forever); each pass starts a new iterator,
    so a shuffle inside reshuffles. Repeating an empty dataset forever ends, as in TF."""
    n = -1 if count is None else _count(count, "Dataset.repeat")
    make, card = stage[0], stage[2]

    def make_iter() -> Iterator[list]:
        passes = itertools.count() if n < 0 else range(n)
        for _ in passes:
            empty = True
            for leaves in make():
                empty = False
                yield leaves
            if empty:
                return

    if card == 0 or n == 0:
        out = 0
    elif n < 0:
        out = st.INFINITE if card != st.UNKNOWN else st.UNKNOWN
    else:
        out = card * n if card >= 0 else card
    return make_iter, stage[1], out


def enumerate_(stage: Stage, start: Any = 0) -> Stage:
    """(int64 index, element) pairs."""
    first = static_int(start, "Dataset.enumerate", "start")
    make = stage[0]

    def make_iter() -> Iterator[list]:
        for i, leaves in enumerate(make(), first):
            yield [np.asarray(i, np.int64), *leaves]

    return make_iter, (TensorSpec((), I64), stage[1]), stage[2]


def cache(stage: Stage) -> Stage:
    """The first complete pass is kept in memory; later passes replay it without running the
    parent. A pass stopped early keeps nothing (the next one runs the parent again, as TF)."""
    make = stage[0]
    stored: list[list[list]] = []

    def make_iter() -> Iterator[list]:
        if stored:
            yield from stored[0]
            return
        seen: list[list] = []
        for leaves in make():
            seen.append(leaves)
            yield leaves
        if not stored:
            stored.append(seen)

    return make_iter, stage[1], stage[2]
