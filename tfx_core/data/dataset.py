"""`tx.data.Dataset`: an input pipeline (tf.data.Dataset) whose iteration yields `tx.Tensor`s."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from tfx_core.data import batching, file_cache, sources, transforms
from tfx_core.data import prefetch as prefetching
from tfx_core.data import shuffle as shuffling
from tfx_core.data import structure as st
from tfx_core.data.functions import ElementFunction
from tfx_core.framework import nest
from tfx_core.framework.convert import constant
from tfx_core.ops.arguments import op_error


class Dataset:
    """A sequence of elements (nested structures of tensors), built from sources and chained
    transformations, as tf.data.Dataset.

    Iterating yields `tx.Tensor`s (one device transfer per component of each element; a batch is
    one). Pipelines run on the host in Python; `prefetch` moves them to a background thread so
    they overlap the compiled step. Iterating inside a `@tx.function` is not supported: iterate
    outside and pass the batches in.
    """

    def __init__(self, make_iter: Callable[[], Iterator[list]], element_spec: Any,
                 cardinality: int, function: ElementFunction | None = None):
        self._make_iter = make_iter
        self._spec = element_spec
        self._cardinality = cardinality
        # the map/filter function this dataset applies (its `mode`: compiled or eager)
        self.function = function

    @classmethod
    def _from(cls, stage: tuple, function: ElementFunction | None = None) -> Dataset:
        return cls(*stage, function=function)

    @property
    def _stage(self) -> tuple:
        return self._make_iter, self._spec, self._cardinality

    # ------------------------------------------------------------ sources
    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset of one element: `tensors` (a nested structure)."""
        return Dataset._from(sources.from_tensors(tensors))

    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """One element per row (first dimension) of every component of `tensors`."""
        return Dataset._from(sources.from_tensor_slices(tensors))

    @staticmethod
    def from_generator(generator: Callable, output_types: Any = None, output_shapes: Any = None,
                       args: Any = None, output_signature: Any = None,
                       name: str | None = None) -> Dataset:
        """Elements yielded by `generator(*args)` (called anew each pass), converted to
        `output_signature`'s dtypes and checked against its shapes."""
        return Dataset._from(sources.from_generator(generator, output_types, output_shapes, args,
                                                    output_signature))

    @staticmethod
    def range(*args: int, output_type: Any = "int64", name: str | None = None) -> Dataset:
        """Dataset.range(stop) or (start, stop[, step]): int64 scalars."""
        return Dataset._from(sources.range_(*args, dtype=output_type))

    @staticmethod
    def zip(*args: Any, datasets: Any = None, name: str | None = None) -> Dataset:
        """Elements of several datasets side by side, in their nesting (a tuple for several
        arguments); ends with the shortest."""
        structure = datasets if datasets is not None else args[0] if len(args) == 1 else args
        leaves = nest.flatten(structure)
        for d in leaves:
            if not isinstance(d, Dataset):
                raise TypeError(f"Dataset.zip: expected datasets (nested in tuples/dicts), got "
                                f"{type(d).__name__}")
        return Dataset._from(sources.zip_(structure, [d._stage for d in leaves]))

    # ------------------------------------------------------------ transformations
    def map(self, map_func: Callable, num_parallel_calls: Any = None, deterministic: Any = None,
            name: str | None = None) -> Dataset:
        """`map_func` on every element (a plain tuple element is unpacked into arguments),
        traced once with tx.function and run compiled. `num_parallel_calls=n` maps n elements
        at once on worker threads; AUTOTUNE maps in order on the pipeline's thread (threads
        only slowed compiled maps here: see transforms.py). Results keep the input order."""
        stage, f = transforms.map_(self._stage, map_func, num_parallel_calls)
        return Dataset._from(stage, f)

    def filter(self, predicate: Callable, name: str | None = None) -> Dataset:
        """The elements for which `predicate` (a tx.bool scalar, compiled) is true."""
        stage, f = transforms.filter_(self._stage, predicate)
        return Dataset._from(stage, f)

    def batch(self, batch_size: Any, drop_remainder: bool = False,
              num_parallel_calls: Any = None, deterministic: Any = None,
              name: str | None = None) -> Dataset:
        return Dataset._from(batching.batch(self._stage, batch_size, drop_remainder))

    def padded_batch(self, batch_size: Any, padded_shapes: Any = None,
                     padding_values: Any = None, drop_remainder: bool = False,
                     name: str | None = None) -> Dataset:
        return Dataset._from(batching.padded_batch(self._stage, batch_size, padded_shapes,
                                                   padding_values, drop_remainder))

    def unbatch(self, name: str | None = None) -> Dataset:
        return Dataset._from(batching.unbatch(self._stage))

    def shuffle(self, buffer_size: Any, seed: Any = None, reshuffle_each_iteration: bool = True,
                name: str | None = None) -> Dataset:
        return Dataset._from(shuffling.shuffle(self._stage, buffer_size, seed,
                                               reshuffle_each_iteration))

    def repeat(self, count: Any = None, name: str | None = None) -> Dataset:
        return Dataset._from(transforms.repeat(self._stage, count))

    def take(self, count: Any, name: str | None = None) -> Dataset:
        return Dataset._from(transforms.take(self._stage, count))

    def skip(self, count: Any, name: str | None = None) -> Dataset:
        return Dataset._from(transforms.skip(self._stage, count))

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        if filename:  # the first complete pass in `{filename}.tfxcache`, data only
            return Dataset._from(file_cache.cache_to_file(self._stage, filename))
        return Dataset._from(transforms.cache(self._stage))

    def prefetch(self, buffer_size: Any = prefetching.AUTOTUNE, name: str | None = None) -> Dataset:
        return Dataset._from(prefetching.prefetch(self._stage, buffer_size))

    def enumerate(self, start: Any = 0, name: str | None = None) -> Dataset:
        return Dataset._from(transforms.enumerate_(self._stage, start))

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        return transformation_func(self)

    # ------------------------------------------------------------ inspection and iteration
    @property
    def element_spec(self) -> Any:
        """The structure of an element, with a tx.TensorSpec per component."""
        return self._spec

    def cardinality(self) -> Any:
        """The number of elements as an int64 scalar tensor; INFINITE_CARDINALITY (-1) or
        UNKNOWN_CARDINALITY (-2) when not known without iterating (after filter, a generator)."""
        return constant(np.int64(self._cardinality))

    def __len__(self) -> int:
        if self._cardinality == st.INFINITE:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == st.UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __bool__(self) -> bool:
        return True  # as TF: a dataset is truthy whatever its (possibly unknown) length

    def __iter__(self) -> Iterator[Any]:
        if is_tracing():
            # XLA cannot call back into a Python pipeline per step; unrolling the elements
            # into the program as constants would silently bake the data in.
            raise op_error("Dataset.__iter__", "iterating a tx.data.Dataset inside a "
                           "@tx.function is not supported: iterate outside and pass each "
                           "batch to the compiled step (`for x, y in ds: step(x, y)`)",
                           NotImplementedError)
        spec = self._spec
        for leaves in self._make_iter():
            yield st.pack(spec, [st.to_device(x) for x in leaves])

    def as_numpy_iterator(self) -> Iterator[Any]:
        """Elements as numpy arrays, scalars as numpy scalars (as TF); no device transfer for
        host-side pipelines."""
        spec = self._spec
        for leaves in self._make_iter():
            yield st.pack(spec, [st.to_host(x)[()] for x in leaves])

    def __repr__(self) -> str:
        return f"<Dataset element_spec={self._spec}>"
