"""Op-table entries for shape, slicing and indexing ops (tfx_core.ops.array_ops) and `Tensor[...]`.

Sampling policy: shape ops move data without looking at it, so the primary dtypes (float32,
int32, bool) get every case and every other dtype gets two cases, rotated by the dtype.
Samples are (shape, *python args) specs; `_samples` turns each shape into a random array.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import tfx_core as tx
from compiler.ir.types import ALL_DTYPES, DType

from . import ALL, OpInfo, Sample, make_arg

PRIMARY = (tx.float32, tx.int32, tx.bool)


def _pick(seq: Sequence, dtype: DType, k: int = 2) -> list:
    if dtype in PRIMARY:
        return list(seq)
    i = ALL_DTYPES.index(dtype)
    return [seq[(i + j) % len(seq)] for j in range(min(k, len(seq)))]


def _samples(*specs: tuple, kw: Sequence[dict] | None = None):
    """Each spec is (shape_or_shapes, *python_args); a list of shapes gives several arrays."""

    def gen(rng: np.random.Generator, dt: DType) -> list[Sample]:
        cases = list(zip(specs, kw or [{}] * len(specs)))
        out = []
        for (shapes, *rest), kwargs in _pick(cases, dt):
            shapes = shapes if isinstance(shapes, list) else [shapes]
            arrays = tuple(np.asarray(make_arg(rng, s, dt)) for s in shapes)
            out.append(Sample((*arrays, *rest), dict(kwargs)))
        return out

    return gen


def entry(name, fn, ref, samples, ops, dtypes=ALL, **kw) -> OpInfo:
    return OpInfo(name, fn, ref, samples, tuple(dtypes), tuple(ops), **kw)


# ---------------------------------------------------------------- references
def _squeeze_ref(x, axis=None):
    return np.squeeze(x, None if axis is None else tuple(np.atleast_1d(axis)))


def _tile_ref(x, multiples):
    return np.tile(x, multiples) if multiples else x.copy()


def _pad_ref(x, paddings, constant_values=0):
    if x.ndim == 0:
        return x.copy()
    return np.pad(x, paddings, constant_values=np.asarray(constant_values).astype(x.dtype))


def _split_ref(x, spec, axis=0):
    if isinstance(spec, int):
        return np.split(x, spec, axis)
    sizes = list(spec)
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - sum(s for s in sizes if s != -1)
    return np.split(x, np.cumsum(sizes)[:-1], axis)


def _slice_ref(x, begin, size):
    return x[tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))]


def _pad_value_samples(rng, dt):
    x = make_arg(rng, (2, 3), dt)
    return [Sample((x, [[1, 0], [2, 1]]), {"constant_values": True if dt.is_bool else 5})]


# ---------------------------------------------------------------- getitem keys
GETITEM_KEYS = [
    ((4, 5, 6), 0),
    ((4, 5, 6), -1),
    ((4, 5, 6), (1, -2)),
    ((4, 5, 6), (3, 4, 5)),
    ((4, 5, 6), np.int64(2)),
    ((4, 5, 6), slice(1, None)),
    ((4, 5, 6), slice(None, None, -1)),
    ((4, 5, 6), slice(None, None, 2)),
    ((4, 5, 6), slice(-3, -1)),
    ((4, 5, 6), slice(5, 1, -2)),
    ((4, 5, 6), slice(10, 20)),
    ((4, 5, 6), slice(-100, 100)),
    ((4, 5, 6), (slice(None), slice(1, 4))),
    ((4, 5, 6), (Ellipsis, 0)),
    ((4, 5, 6), (Ellipsis, slice(None, None, -3))),
    ((4, 5, 6), (0, Ellipsis, slice(1, None, 2))),
    ((4, 5, 6), (None,)),
    ((4, 5, 6), (None, Ellipsis, None)),
    ((4, 5, 6), (slice(1, 3), None, -1)),
    ((4, 5, 6), (slice(None, None, -2), slice(1, None), None, 2)),
    ((4, 5, 6), (tx.newaxis, 1, tx.newaxis, slice(None, 2))),
    ((4, 5, 6), Ellipsis),
    ((4, 5, 6), ()),
    ((7,), slice(6, None, -3)),
    ((7,), slice(None, -8, -1)),
    ((), ()),
    ((), None),
    ((), Ellipsis),
    ((), (None, None)),
    ((0, 3), (slice(None), 1)),
    ((0, 3), slice(None, None, -1)),
    ((3, 0), (1, Ellipsis)),
    ((2, 3), (slice(None), slice(None, None, -1))),
]

_getitem_samples = _samples(*GETITEM_KEYS)


def _iter_samples(rng, dt):
    return [Sample((np.asarray(make_arg(rng, s, dt)),)) for s in _pick([(3,), (2, 3), (0,)], dt)]


ENTRIES = [
    entry("reshape", tx.reshape, np.reshape, _samples(
        ((2, 3), (3, 2)), ((2, 3), (-1,)), ((24,), (2, -1, 4)), ((), (1, 1)), ((1, 1), ()),
        ((0, 3), (3, 0)), ((0, 3), (-1, 3)), ((2, 3, 4), [6, -1]), ((5,), (5,)),
    ), ("reshape",)),
    entry("transpose", tx.transpose, lambda x, perm=None: np.transpose(x, perm), _samples(
        ((2, 3),), ((2, 3, 4), (1, 2, 0)), ((0, 2),), ((),), ((2, 1, 3), [2, 0, 1]),
        ((2, 3), (0, 1)),
    ), ("transpose",)),
    entry("expand_dims", tx.expand_dims, np.expand_dims, _samples(
        ((2, 3), 0), ((2, 3), -1), ((2, 3), 1), ((), 0), ((0,), -2), ((2, 3), -3),
    ), ("expand_dims",)),
    entry("squeeze", tx.squeeze, _squeeze_ref, _samples(
        ((1, 3, 1),), ((1, 3, 1), 0), ((1, 3, 1), [-1]), ((1,),), ((0, 1), 1), ((2, 3),),
        ((1, 1, 2), [0, 1]),
    ), ("squeeze",)),
    entry("broadcast_to", tx.broadcast_to, lambda x, s: np.broadcast_to(x, s), _samples(
        ((3,), (2, 3)), ((), (2, 2)), ((2, 1), (2, 4)), ((1,), (0,)), ((0, 3), (2, 0, 3)),
        ((2, 3), (2, 3)), ((), ()),
    ), ("broadcast_to",)),
    entry("tile", tx.tile, _tile_ref, _samples(
        ((2, 3), (2, 1)), ((3,), (3,)), ((2, 1, 2), [1, 2, 3]), ((), ()), ((2, 3), (0, 2)),
        ((0, 2), (3, 1)),
    ), ("tile",)),
    entry("reverse", tx.reverse, lambda x, axis: np.flip(x, tuple(axis)), _samples(
        ((5,), [0]), ((2, 3), [1]), ((2, 3, 4), [0, -1]), ((0, 3), [0]), ((2, 3), []),
        ((), []),
    ), ("reverse",)),
    entry("identity", tx.identity, lambda x: x, _samples(((2, 3),), ((),), ((0,),)), ()),
    entry("ensure_shape", tx.ensure_shape, lambda x, shape: x, _samples(
        ((2, 3), [2, None]), ((), []), ((0, 3), [None, 3]), ((2, 3, 4), (2, 3, 4)),
        ((2, 3), None),
    ), ("ensure_shape",)),
    entry("stop_gradient", tx.stop_gradient, lambda x: x, _samples(((2, 3),), ((),), ((0,),)),
          ("stop_gradient",), grad="None by definition (tests/autodiff checks that)"),
    entry("concat", lambda *xs, axis: tx.concat(list(xs), axis),
          lambda *xs, axis: np.concatenate(xs, axis), _samples(
        ([(2, 3), (4, 3)],), ([(2, 3), (2, 1), (2, 0)],), ([(3,), (3,), (1,)],),
        ([(2, 3, 4)],), ([(0, 2), (0, 3)],), ([(2, 3), (2, 3)],),
        kw=[{"axis": 0}, {"axis": -1}, {"axis": 0}, {"axis": 2}, {"axis": 1}, {"axis": -2}],
    ), ("concatenate",)),
    entry("stack", lambda *xs, axis=0: tx.stack(list(xs), axis),
          lambda *xs, axis=0: np.stack(xs, axis), _samples(
        ([(2, 3), (2, 3)],), ([(), (), ()],), ([(3,), (3,)],), ([(2, 0), (2, 0)],),
        ([(2, 3)],),
        kw=[{}, {}, {"axis": -1}, {"axis": 1}, {"axis": 2}],
    ), ("expand_dims", "concatenate")),
    entry("unstack", tx.unstack, lambda x, num=None, axis=0: list(np.moveaxis(x, axis, 0)),
          _samples(((3, 2),), ((2, 3), None, 1), ((2, 3, 1), None, -1), ((4,),), ((2, 0),)),
          ("slice", "squeeze")),
    entry("split", tx.split, _split_ref, _samples(
        ((6, 2), 3), ((6, 2), 2, 1), ((10,), [3, -1, 2]), ((2, 7), [3, 4], -1), ((4, 0), 2),
        ((5,), [5]), ((5,), [0, 5, 0]),
    ), ("slice",)),
    entry("pad", tx.pad, _pad_ref, _samples(
        ((2, 3), [[1, 0], [2, 1]]), ((3,), [[0, 0]]), ((), []), ((0, 2), [[1, 1], [0, 0]]),
        ((2, 2, 2), ((1, 2), (0, 1), (3, 0))),
    ), ("pad",)),
    entry("pad_value", tx.pad, _pad_ref, _pad_value_samples, ("pad",)),
    entry("slice", tx.slice, _slice_ref, _samples(
        ((4, 5), [1, 2], [2, 3]), ((4, 5), [0, 1], [-1, 2]), ((6,), [6], [0]), ((), [], []),
        ((3, 0), [1, 0], [2, -1]), ((4, 5), (0, 0), (4, 5)),
    ), ("slice",)),
    entry("shape", tx.shape, lambda x: np.array(x.shape, np.int32),
          _samples(((2, 3),), ((),), ((0, 4, 1),)), ("shape_of",)),
    entry("rank", tx.rank, lambda x: np.array(x.ndim, np.int32), _samples(((2, 3),), ((),)), ()),
    entry("size", tx.size, lambda x: np.array(x.size, np.int32),
          _samples(((2, 3),), ((),), ((0, 4),)), ()),
    entry("getitem", lambda x, key: x[key], lambda x, key: x[key], _getitem_samples,
          ("slice", "squeeze", "expand_dims")),
    entry("iter", lambda x: list(x), lambda x: list(x), _iter_samples, ("slice", "squeeze")),
]
