"""`batch`, `padded_batch` and `unbatch`: consecutive elements stacked (or padded) per component
on the host, so a batch reaches the device as one transfer per component."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tfx_core.data import structure as st
from tfx_core.framework.tensor_spec import TensorSpec
from tfx_core.ops.arguments import op_error, static_int

Stage = st.Stage


def _batch_size(batch_size: Any, name: str) -> int:
    n = static_int(batch_size, name, "batch_size")
    if n <= 0:
        raise op_error(name, f"Batch size must be greater than zero, got {n}.", ValueError)
    return n


def _groups(make: Any, n: int, drop_remainder: bool) -> Iterator[list[list]]:
    group: list[list] = []
    for leaves in make():
        group.append(leaves)
        if len(group) == n:
            yield group
            group = []
    if group and not drop_remainder:
        yield group


def _batched_card(card: int, n: int, drop_remainder: bool) -> int:
    if card < 0:
        return card
    return card // n if drop_remainder else -(-card // n)


def _batched_spec(spec: Any, n: int, drop_remainder: bool, shapes: Any = None) -> Any:
    lead = n if drop_remainder else None
    specs = st.flatten(spec)
    shapes = [s.shape for s in specs] if shapes is None else shapes
    return st.pack(spec, [TensorSpec((lead, *shape), s.dtype) for s, shape in zip(specs, shapes)])


def batch(stage: Stage, batch_size: Any, drop_remainder: bool = False) -> Stage:
    n = _batch_size(batch_size, "Dataset.batch")
    make = stage[0]
    rows, order = st.rows_of(make)
    if rows is not None:  # straight from tensor slices: a batch is a slice of each component
        total = len(rows[0])  # (or, shuffled, one gather per component)
        stop = total - total % n if drop_remainder else total

        def sliced() -> Iterator[list]:
            if order is None:
                for i in range(0, stop, n):
                    yield [a[i:i + n] for a in rows]
                return
            idx = order()
            for i in range(0, stop, n):
                yield [a[idx[i:i + n]] for a in rows]

        return sliced, _batched_spec(stage[1], n, drop_remainder), \
            _batched_card(stage[2], n, drop_remainder)

    def make_iter() -> Iterator[list]:
        # NOTE: device tensors (a compiled map's results) are fetched and stacked here too:
        # 784 floats x 128 per batch, 4.6 us per element, against 11.5 for an eager tx.stack.
        for group in _groups(make, n, drop_remainder):
            out = []
            for c in range(len(group[0])):
                parts = [st.to_host(e[c]) for e in group]
                first = parts[0].shape
                for i, p in enumerate(parts):
                    if p.shape != first:
                        raise op_error(
                            "Dataset.batch", "Cannot batch tensors with different shapes in "
                            f"component {c}. First element had shape {list(first)} and element "
                            f"{i} had shape {list(p.shape)}. (padded_batch pads them)", ValueError)
                out.append(np.stack(parts))
            yield out

    return make_iter, _batched_spec(stage[1], n, drop_remainder), \
        _batched_card(stage[2], n, drop_remainder)


def _padded_shapes(spec: Any, padded_shapes: Any) -> list[tuple]:
    specs = st.flatten(spec)
    if padded_shapes is None:
        return [s.shape for s in specs]
    try:
        shapes = _flatten_shapes(spec, padded_shapes)
    except (TypeError, KeyError, IndexError):
        shapes = []
    if len(shapes) != len(specs):
        raise op_error("Dataset.padded_batch", f"padded_shapes {padded_shapes!r} does not match "
                       f"the element structure {spec}", ValueError)
    out = []
    for s, shape in zip(specs, shapes):
        dims = tuple(None if d is None or d == -1 else int(d) for d in shape)
        if len(dims) != len(s.shape) or any(p is not None and e is not None and p < e
                                            for p, e in zip(dims, s.shape)):
            raise op_error("Dataset.padded_batch", f"The padded shape {dims} is not compatible "
                           f"with the shape {s.shape} of the corresponding input component.",
                           ValueError)
        out.append(dims)
    return out


def _flatten_shapes(spec: Any, shapes: Any) -> list:
    """padded_shapes follow the element structure; its leaves are shapes (lists of dims)."""
    if isinstance(spec, TensorSpec):
        return [shapes]
    if isinstance(spec, dict):
        return [x for k in sorted(spec) for x in _flatten_shapes(spec[k], shapes[k])]
    return [x for s, p in zip(spec, shapes) for x in _flatten_shapes(s, p)]


def _padding_values(spec: Any, padding_values: Any) -> list[np.ndarray]:
    specs = st.flatten(spec)
    if padding_values is None:
        values = [0] * len(specs)
    elif isinstance(spec, TensorSpec) or not isinstance(padding_values, (tuple, dict)):
        values = [padding_values] * len(specs)
    else:
        values = _flatten_shapes(spec, padding_values)
    return [np.asarray(st.to_host(v)).astype(s.dtype.np_dtype) for v, s in zip(values, specs)]


def padded_batch(stage: Stage, batch_size: Any, padded_shapes: Any = None,
                 padding_values: Any = None, drop_remainder: bool = False) -> Stage:
    """Batches whose components are padded to `padded_shapes` (None / -1 dims: the longest in
    the batch) with `padding_values` (default 0)."""
    n = _batch_size(batch_size, "Dataset.padded_batch")
    shapes = _padded_shapes(stage[1], padded_shapes)
    pads = _padding_values(stage[1], padding_values)
    make = stage[0]

    def make_iter() -> Iterator[list]:
        for group in _groups(make, n, drop_remainder):
            out = []
            for c, (shape, pad) in enumerate(zip(shapes, pads)):
                parts = [st.to_host(e[c]) for e in group]
                dims = [d if d is not None else max(p.shape[k] for p in parts)
                        for k, d in enumerate(shape)]
                full = np.full((len(parts), *dims), pad, dtype=pad.dtype)
                for i, p in enumerate(parts):
                    if any(a > b for a, b in zip(p.shape, dims)):
                        raise op_error("Dataset.padded_batch", "Attempted to pad to a smaller "
                                       f"size than the input element: element shape "
                                       f"{list(p.shape)}, padded shape {dims}", ValueError)
                    full[(i, *[slice(0, d) for d in p.shape])] = p
                out.append(full)
            yield out

    return make_iter, _batched_spec(stage[1], n, drop_remainder, shapes), \
        _batched_card(stage[2], n, drop_remainder)


def unbatch(stage: Stage) -> Stage:
    """Each batch split back into its rows (a partial batch gives its rows)."""
    specs = st.flatten(stage[1])
    if any(len(s.shape) == 0 for s in specs):
        raise op_error("Dataset.unbatch", "Cannot unbatch an input with scalar components.",
                       ValueError)
    make = stage[0]

    def make_iter() -> Iterator[list]:
        for leaves in make():
            parts = [st.to_host(x) for x in leaves]
            n = parts[0].shape[0]
            for c, p in enumerate(parts):
                if p.shape[0] != n:
                    raise op_error("Dataset.unbatch", "Input element must have the same batch "
                                   f"size in each component. Component 0 had size {n} but "
                                   f"component {c} had size {p.shape[0]}.", ValueError)
            for i in range(n):
                yield [p[i] for p in parts]

    spec = st.map_specs(stage[1], lambda s: TensorSpec(s.shape[1:], s.dtype))
    return make_iter, spec, st.UNKNOWN
