"""`Dataset.shuffle`: TF's buffer algorithm (fill `buffer_size` elements, emit a random one,
refill its slot from the input), deterministic with a seed; a new order per pass or the same."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from compiler.ir.types import I64
from tfx_core.data import structure as st
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.random_ops import get_global_generator

Stage = st.Stage


_CHUNK = 1024


def _uniforms(rng: np.random.Generator) -> Iterator[float]:
    # Drawn in chunks: the same stream as one draw at a time, at numpy's speed.
    while True:
        yield from rng.random(_CHUNK).tolist()


def buffer_shuffle(source: Iterator, size: int, rng: np.random.Generator) -> Iterator:
    """`source`'s items through a shuffle buffer of `size` (-1: everything)."""
    buffer = list(itertools.islice(source, None if size == -1 else size))
    draws = _uniforms(rng)
    sentinel = object()
    while buffer:
        j = int(next(draws) * len(buffer))
        out = buffer[j]
        nxt = next(source, sentinel)
        if nxt is not sentinel:
            buffer[j] = nxt
        else:  # input exhausted: the buffer drains, its last item fills the hole
            buffer[j] = buffer[-1]
            buffer.pop()
        yield out


def shuffled_indices(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """buffer_shuffle(iter(range(n)), size, rng) as an array, its draws made at once."""
    k = n if size == -1 else min(size, n)
    # the buffer holds k items until the input runs out, then shrinks by one per output
    lens = np.concatenate([np.full(n - k, k), np.arange(k, 0, -1)]).astype(np.int64)
    u = np.concatenate([rng.random(_CHUNK) for _ in range(-(-n // _CHUNK))])[:n]
    picks = (u * lens).astype(np.int64).tolist()
    buffer = list(range(k))
    out = np.empty(n, np.int64)
    nxt = k
    for p, j in enumerate(picks):
        out[p] = buffer[j]
        if nxt < n:
            buffer[j] = nxt
            nxt += 1
        else:
            buffer[j] = buffer[-1]
            buffer.pop()
    return out


def _unseeded() -> int:
    # As TF: no seed is deterministic after tx.random.set_seed (a draw from the global
    # generator, which set_seed resets), random otherwise.
    if is_tracing():  # a dataset built inside a trace: the draw would have no value yet
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(get_global_generator().uniform_full_int([], I64))


def shuffle(stage: Stage, buffer_size: Any, seed: Any = None,
            reshuffle_each_iteration: bool = True) -> Stage:
    size = static_int(buffer_size, "Dataset.shuffle", "buffer_size")
    if size == 0 or size < -1:
        raise op_error("Dataset.shuffle", f"buffer_size must be greater than zero (or -1 for "
                       f"the whole dataset), got {size}", ValueError)
    base = _unseeded() if seed is None else static_int(seed, "Dataset.shuffle", "seed")
    passes = itertools.count()
    make = stage[0]

    def next_rng() -> np.random.Generator:
        epoch = next(passes) if reshuffle_each_iteration else 0
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([base, epoch])))

    rows, prior = st.rows_of(make)
    if rows is not None and prior is None:
        # Straight from tensor slices: shuffle row indices (the same order the elements would
        # take, since the buffer's choices depend only on the generator), so a following
        # batch gathers its rows in one indexing per component.
        def order() -> np.ndarray:
            return shuffled_indices(len(rows[0]), size, next_rng())

        def shuffled_rows() -> Iterator[list]:
            for i in order():
                yield [a[i] for a in rows]

        return st.with_rows(shuffled_rows, rows, order), stage[1], stage[2]

    def make_iter() -> Iterator[list]:
        return buffer_shuffle(make(), size, next_rng())

    return make_iter, stage[1], stage[2]

