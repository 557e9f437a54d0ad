"""Op table: einsum (vs np.einsum), tensordot, norm and tf.linalg matvec, diag_part, band_part,
trace. float32 gets every case; the other dtypes the empty case (if any) and a few rotated
by dtype (tests/optable/__init__.py `trim`)."""
from __future__ import annotations

import numpy as np

import tfx_core as tx

from . import FLOATS, OpInfo, Sample, make_arg, trim

LOW_PRECISION = {"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}
DTYPES = (*FLOATS, tx.int32)

# (equation, operand shapes)
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),  # matmul
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),  # batch dims
    ("bij,bkj->bki", [(2, 3, 4), (2, 5, 4)]),  # batch, transposed operand and output
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),  # ellipsis, broadcast batch
    ("...ij,...jk", [(3, 2, 4), (4, 2)]),  # ellipsis, implicit, one side unbatched
    ("...i,...i->...", [(2, 3), (3,)]),  # batched dot product
    ("ii->i", [(3, 3)]),  # diagonal
    ("ii", [(4, 4)]),  # trace (implicit: a repeated index is summed)
    ("iij->j", [(3, 3, 2)]),  # diagonal, then summed
    ("iji->j", [(2, 3, 2)]),  # diagonal of non-adjacent dims
    ("bii->bi", [(2, 3, 3)]),  # batched diagonal
    ("i,j->ij", [(2,), (3,)]),  # outer product
    ("ij,k->ijk", [(2, 3), (2,)]),  # outer product, rank 3
    ("ij->ji", [(2, 3)]),  # transpose
    ("ba", [(2, 3)]),  # implicit output sorts indices: a transpose
    ("ijk->", [(2, 3, 4)]),  # full sum
    ("ijk->j", [(2, 3, 4)]),  # sum over the indices not in the output
    ("i,i", [(4,), (4,)]),  # dot product
    ("i,i->i", [(4,), (4,)]),  # elementwise product (batch-only dot_general)
    ("ab,cd->", [(2, 3), (4, 2)]),  # two independent sums
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),  # chain of three
    ("ab,bc,ca->", [(2, 3), (3, 4), (4, 2)]),  # cyclic trace of a product
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),  # attention scores
    ("i j , j k -> i k", [(2, 3), (3, 2)]),  # spaces are ignored
    ("ij,ij->", [(0, 3), (0, 3)]),  # empty
]


def _einsum_samples(rng, dt):
    return trim([Sample((eq, *[make_arg(rng, s, dt, -1, 1) for s in shapes]))
                 for eq, shapes in EINSUM_CASES], dt, keep=(-1,), k=8)


def _f64(fn):
    """A reference computed in float64 (ints exactly) and rounded once to the input dtype."""

    def ref(*args, **kw):
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        dt = arrays[0].dtype
        wide = [a.astype(np.float64) if isinstance(a, np.ndarray) and dt.kind in "fV" else a
                for a in args]
        return np.asarray(fn(*wide, **kw)).astype(dt)

    return ref


TENSORDOT_CASES = [
    ((2, 3), (3, 4), 1),
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3), (4, 5), 0),  # outer product
    ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]),
    ((3, 2), (2, 3), ([0], [1])),
    ((4,), (4,), 1),
    ((2, 3), (3, 2), [-1, 0]),
]


def _tensordot_samples(rng, dt):
    return [Sample((make_arg(rng, a, dt, -1, 1), make_arg(rng, b, dt, -1, 1), axes))
            for a, b, axes in TENSORDOT_CASES]


def _tensordot_ref(a, b, axes):
    if isinstance(axes, (list, tuple)):
        axes = (np.atleast_1d(axes[0]).tolist(), np.atleast_1d(axes[1]).tolist())
    return np.tensordot(a, b, axes)


def _matvec_samples(rng, dt):
    cases = [((3, 4), (4,), {}), ((2, 3, 4), (4,), {}), ((2, 3, 4), (2, 4), {}),
             ((4, 3), (4,), {"transpose_a": True}), ((2, 1, 3, 4), (5, 4), {})]
    return trim([Sample((make_arg(rng, a, dt, -1, 1), make_arg(rng, b, dt, -1, 1)), kw)
                 for a, b, kw in cases], dt)


def _matvec_ref(a, b, transpose_a=False):
    a = np.swapaxes(a, -1, -2) if transpose_a else a
    return np.matmul(a, b[..., None])[..., 0]


def _matrix_samples(*cases):
    def gen(rng, dt):
        return trim([Sample((make_arg(rng, s, dt),) + tuple(rest), dict(kw))
                     for s, rest, kw in cases], dt, k=3)

    return gen


def _diag_ref(x, k=0):
    k = k[0] if isinstance(k, tuple) else k
    return np.diagonal(x, k, axis1=-2, axis2=-1).copy()


def _band_ref(x, num_lower, num_upper):
    m, n = x.shape[-2:]
    d = np.subtract.outer(np.arange(m), np.arange(n))
    keep = ((num_lower < 0) | (d <= num_lower)) & ((num_upper < 0) | (-d <= num_upper))
    return np.where(keep, x, np.zeros((), x.dtype))


def _trace_ref(x):
    return np.trace(x, axis1=-2, axis2=-1).astype(x.dtype)


def _norm_ref(x, ord="euclidean", axis=None, keepdims=False):
    x64 = x.astype(np.float64)
    if axis is None:  # TF: the flattened tensor as one vector
        r = np.linalg.norm(x64.reshape(-1), None if ord == "euclidean" else ord)
        return np.reshape(r, (1,) * x.ndim if keepdims else ()).astype(x.dtype)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    o = ("fro" if isinstance(axis, tuple) else None) if ord == "euclidean" else ord
    return np.asarray(np.linalg.norm(x64, o, axis, keepdims)).astype(x.dtype)


NORM_CASES = [
    ((3, 4), (), {}),
    ((2, 3, 4), (), {"ord": 1}),
    ((2, 3, 4), (), {"ord": 2, "axis": -1}),
    ((2, 3, 4), (), {"ord": np.inf, "axis": 1, "keepdims": True}),
    ((5,), (), {"ord": 3}),
    ((2, 3), (), {"ord": 0.5, "axis": 0}),
    ((2, 3, 4), (), {"ord": "fro", "axis": (1, 2)}),
    ((2, 3, 4), (), {"ord": "euclidean", "axis": [-1, 0], "keepdims": True}),
    ((3, 4), (), {"ord": 1, "axis": (0, 1)}),
    ((2, 3, 4), (), {"ord": np.inf, "axis": (-2, -1)}),
    ((3, 4), (), {"keepdims": True}),
]

ENTRIES = [
    OpInfo("einsum", tx.einsum, _f64(np.einsum), _einsum_samples, DTYPES,
           ops=("dot_general", "transpose", "reduce_sum", "select", "squeeze"),
           tol=LOW_PRECISION),
    OpInfo("tensordot", tx.tensordot, _f64(_tensordot_ref), _tensordot_samples, DTYPES,
           ops=("dot_general",), tol=LOW_PRECISION),
    OpInfo("linalg.matvec", tx.linalg.matvec, _f64(_matvec_ref), _matvec_samples, DTYPES,
           ops=("dot_general",), tol=LOW_PRECISION),
    OpInfo("linalg.diag_part", tx.linalg.diag_part, _diag_ref, _matrix_samples(
        ((3, 3), (), {}), ((2, 3, 4), (), {}), ((4, 2), (), {}), ((3, 4), (), {"k": 1}),
        ((2, 4, 3), (), {"k": -2}), ((3, 4), (), {"k": (3, 3)}),
    ), (*FLOATS, tx.int32), ops=("slice", "select", "reduce_sum")),
    OpInfo("linalg.band_part", tx.linalg.band_part, _band_ref, _matrix_samples(
        ((4, 4), (1, 0), {}), ((2, 3, 5), (0, 2), {}), ((4, 3), (-1, 0), {}),
        ((3, 4), (0, -1), {}), ((3, 3), (-1, -1), {}), ((5, 3), (2, 1), {}),
    ), (*FLOATS, tx.int32, tx.bool), ops=("iota", "select")),
    OpInfo("linalg.trace", tx.linalg.trace, _trace_ref, _matrix_samples(
        ((3, 3), (), {}), ((2, 4, 4), (), {}), ((2, 3), (), {}),
    ), (*FLOATS, tx.int32), ops=("select", "reduce_sum")),
    OpInfo("norm", tx.norm, _norm_ref, _matrix_samples(*NORM_CASES), FLOATS,
           ops=("sqrt", "abs", "reduce_max", "power"),
           tol={"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2), "float32": (1e-5, 1e-6)}),
]
