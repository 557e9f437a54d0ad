"""Categorical samples and shuffles (tf.random.categorical, stateless_categorical, shuffle,
tf.random.experimental.stateless_shuffle): Gumbel-max on the logits, and a permutation from
sorting random 64-bit keys."""
from __future__ import annotations

from typing import Any

from compiler.ir.types import I32, I64, DType
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.indexing_ops import gather
from tfx_core.ops.random_ops import stateless_uniform
from tfx_core.ops.reduction_ops import argmax
from tfx_core.ops.sampling.seeds import open_uniform, stateful_seed, streams, work_dtype
from tfx_core.ops.sort_ops import argsort

TensorLike = Any


def _categorical(name: str, logits: TensorLike, num_samples: Any, seed: Tensor,
                 dtype: Any) -> Tensor:
    x = to_tensor(logits, name)
    if not x.dtype.is_floating:
        raise op_error(name, f"logits must be a floating tensor, got {x.type}", TypeError)
    if x.ndim != 2 or None in x.shape:
        raise op_error(name, f"logits must be a 2-D [batch, classes] tensor of known shape, "
                       f"got {x.type}")
    out = I64 if dtype is None else DType.from_any(dtype)
    if out not in (I32, I64):
        raise op_error(name, f"dtype must be int32 or int64, got {out.name}", TypeError)
    k = static_int(num_samples, name, "num_samples")
    if k < 0:
        raise op_error(name, f"num_samples must be >= 0, got {k}")
    batch, classes = x.shape
    if classes == 0 and batch * k > 0:
        raise op_error(name, "logits has no classes to sample from")
    w = work_dtype(x.dtype)
    if classes == 0 or batch * k == 0:
        return A.zeros((batch, k), out)
    # Gumbel-max: argmax(logits + G), G = -log(-log U), is a draw from softmax(logits).
    u = open_uniform((batch, k, classes), seed, w)
    gumbel = M.negative(M.log(M.negative(M.log(u))))
    xw = x if x.dtype is w else M.cast(x, w)
    return argmax(M.add(A.expand_dims(xw, 1), gumbel), axis=2, output_type=out)


def stateless_categorical(logits: TensorLike, num_samples: Any, seed: TensorLike,
                          dtype: Any = I64, name: str | None = None) -> Tensor:
    """[batch, num_samples] class indices drawn from softmax(logits) per row, a function of
    `seed` (tf.random.stateless_categorical)."""
    n = "stateless_categorical"
    return _categorical(n, logits, num_samples, streams(seed, 1, n)[0], dtype)


def categorical(logits: TensorLike, num_samples: Any, dtype: Any = None, seed: Any = None,
                name: str | None = None) -> Tensor:
    """[batch, num_samples] class indices drawn from softmax(logits) per row, from the global
    (or op-seed) stream (tf.random.categorical; int64 unless dtype=int32)."""
    return _categorical("categorical", logits, num_samples,
                        stateful_seed(seed, "categorical"), dtype)


def _shuffle(name: str, value: TensorLike, seed: Tensor) -> Tensor:
    x = to_tensor(value, name)
    if x.ndim == 0 or (x.shape[0] is not None and x.shape[0] <= 1):
        return A.identity(x)  # nothing to permute (TF returns the input)
    if x.shape[0] is None:
        raise op_error(name, f"the first dimension must be known at trace time, got {x.type}")
    keys = stateless_uniform((x.shape[0],), seed, minval=None, maxval=None, dtype=I64)
    return gather(x, argsort(keys, stable=True), axis=0)


def stateless_shuffle(value: TensorLike, seed: TensorLike, alg: Any = "auto_select",
                      name: str | None = None) -> Tensor:
    """`value` with its first dimension permuted, a function of `seed`
    (tf.random.experimental.stateless_shuffle)."""
    return _shuffle("stateless_shuffle", value, streams(seed, 1, "stateless_shuffle")[0])


def shuffle(value: TensorLike, seed: Any = None, name: str | None = None) -> Tensor:
    """`value` with its first dimension randomly permuted, from the global (or op-seed)
    stream (tf.random.shuffle)."""
    return _shuffle("shuffle", value, stateful_seed(seed, "shuffle"))

