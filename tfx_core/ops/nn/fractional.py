"""Fractional max/avg pooling (tf.nn.fractional_max_pool, fractional_avg_pool): pooling regions
of sizes k and k + 1 from a random or pseudo-random sequence, drawn at trace time.

The sequences follow TF's recipe (Graham 2014): random shuffles input % output regions of size
k + 1 among k-sized ones; pseudo-random takes ceil(alpha (i + u)) - ceil(alpha u) for one
uniform u. Our draws come from numpy's generator seeded with `seed` (TF uses its own Philox
stream), so the same seed gives other sequences than TF's. They are fixed when the op is traced:
under tx.function one trace reuses its sequences on every call (TF redraws per run unless
seeded). seed=0 draws a seed from numpy's global generator, so np.random.seed repeats it.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from compiler.ir.types import I64
from tfx_core.framework.convert import constant_tensor
from tfx_core.framework.operands import Tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops import reduction_ops as R
from tfx_core.ops.arguments import op_error
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.nn.checks import float_tensor, static_dims

TensorLike = Any


def pooling_sequence(n: int, m: int, rng: np.random.Generator, pseudo_random: bool,
                     ) -> np.ndarray:
    """m + 1 region boundaries from 0 to n, each step k = n // m or k + 1."""
    k = n // m
    if n % m == 0:
        return np.arange(m + 1, dtype=np.int64) * k
    if pseudo_random:
        alpha = n / m
        max_u = min((k + 2) / alpha - 1, (n + 1 - k) / alpha - (m - 1))
        u = rng.uniform(0.0, max_u)
        seq = [math.ceil(alpha * (i + u)) - math.ceil(alpha * u) for i in range(m + 1)]
        seq[m] = n
        return np.asarray(seq, np.int64)
    diff = np.full(m, k, np.int64)
    diff[: n % m] += 1
    rng.shuffle(diff)
    return np.concatenate([[0], np.cumsum(diff)]).astype(np.int64)


def _regions(seq: np.ndarray, n: int, overlapping: bool) -> tuple[np.ndarray, np.ndarray]:
    """(indices [m, K], mask [m, K]): region i's rows seq[i] .. seq[i+1] - 1, or .. seq[i+1]
    (clamped) when overlapping; short regions repeat their last row, masked out."""
    start = seq[:-1]
    end = np.minimum(seq[1:] + (1 if overlapping else 0), n) - 1
    width = int((end - start).max()) + 1
    t = np.arange(width)[None, :]
    idx = start[:, None] + t
    return np.minimum(idx, end[:, None]).astype(np.int32), idx <= end[:, None]


def pool_with_sequences(x: Tensor, rows: np.ndarray, cols: np.ndarray, overlapping: bool,
                        kind: str) -> Tensor:
    """Max or mean over the regions the row and column boundaries give (NHWC). Rectangles
    reduce one axis at a time: a gather of each region's rows, then a reduction."""
    b, h, w, c = static_dims(f"fractional_{kind}_pool", x, "value")
    out = x
    counts = None
    for axis, seq, n in ((1, rows, h), (2, cols, w)):
        idx, mask = _regions(seq, n, overlapping)
        m, width = idx.shape
        g = gather(out, constant_tensor(idx.reshape(-1)), axis=axis)
        shape = list(static_dims("fractional_pool", g))
        g = A.reshape(g, shape[:axis] + [m, width] + shape[axis + 1:])
        if kind == "max":
            out = R.reduce_max(g, axis + 1)
        else:
            keep = mask.reshape([m, width] + [1] * (g.ndim - axis - 2)).astype(x.dtype.np_dtype)
            out = R.reduce_sum(M.multiply(g, constant_tensor(keep)), axis + 1)
            size = mask.sum(1).astype(np.float64)
            counts = size if counts is None else np.multiply.outer(counts, size)
    if kind == "avg":
        out = M.divide(out, constant_tensor(counts[..., None].astype(x.dtype.np_dtype)))
    return out


def _ratio(name: str, pooling_ratio: Any) -> tuple[float, float]:
    r = [float(v) for v in np.asarray(pooling_ratio, np.float64).reshape(-1)]
    if len(r) == 1:
        r = r * 2
    elif len(r) == 4:
        if r[0] != 1.0 or r[3] != 1.0:
            raise op_error(name, f"pooling_ratio {r}: the batch and channel entries must be 1.0")
        r = r[1:3]
    if len(r) != 2 or min(r) < 1.0:
        raise op_error(name, f"pooling_ratio must be 1, 2 or 4 values >= 1.0, got "
                       f"{pooling_ratio!r}")
    return r[0], r[1]


def _fractional(kind: str, value: TensorLike, pooling_ratio: Any, pseudo_random: bool,
                overlapping: bool, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    name = f"fractional_{kind}_pool"
    x = float_tensor(name, value, "value")
    if x.ndim != 4:
        raise op_error(name, f"value must be 4-D [batch, height, width, channels], got {x.type}")
    _, h, w, _ = static_dims(name, x, "value")
    rh, rw = _ratio(name, pooling_ratio)
    oh, ow = int(h / rh), int(w / rw)
    if oh < 1 or ow < 1:
        raise op_error(name, f"pooling_ratio {pooling_ratio!r} leaves no output for {x.type}")
    rng = np.random.default_rng(int(seed) if seed else int(np.random.randint(1, 2**31 - 1)))
    rows = pooling_sequence(h, oh, rng, pseudo_random)
    cols = pooling_sequence(w, ow, rng, pseudo_random)
    out = pool_with_sequences(x, rows, cols, overlapping, kind)
    return out, constant_tensor(rows.astype(I64.np_dtype)), constant_tensor(cols)


def fractional_max_pool(value: TensorLike, pooling_ratio: Any, pseudo_random: bool = False,
                        overlapping: bool = False, seed: int = 0, name: str | None = None,
                        ) -> tuple[Tensor, Tensor, Tensor]:
    """(output, row_pooling_sequence, col_pooling_sequence): the max over each region of a
    random (or pseudo-random) partition of the rows and columns; output sizes are
    floor(size / ratio) (tf.nn.fractional_max_pool). See the module note on the draws."""
    return _fractional("max", value, pooling_ratio, pseudo_random, overlapping, seed)


def fractional_avg_pool(value: TensorLike, pooling_ratio: Any, pseudo_random: bool = False,
                        overlapping: bool = False, seed: int = 0, name: str | None = None,
                        ) -> tuple[Tensor, Tensor, Tensor]:
    """As fractional_max_pool, with each region's mean (tf.nn.fractional_avg_pool)."""
    return _fractional("avg", value, pooling_ratio, pseudo_random, overlapping, seed)


__all__ = ["fractional_avg_pool", "fractional_max_pool"]
