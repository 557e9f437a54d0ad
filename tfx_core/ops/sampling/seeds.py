"""Seeds for the samplers: tf.random.Algorithm, create_rng_state, split, fold_in, and the
per-op streams (a [2] seed split into independent seeds, one per draw)."""
from __future__ import annotations

import enum
import functools
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from compiler.ir.types import F32, F64, I32, I64, DType
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import array_ops as A
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.random_ops import generator_for, stateless_uniform
from tfx_core.ops.reduction_ops import reduce_any, reduce_sum
from tfx_core.ops.sort_ops import cumsum

TensorLike = Any


class Algorithm(enum.Enum):
    """tf.random.Algorithm. Only THREEFRY exists here (XLA's rng_bit_generator); PHILOX,
    TF's default, is refused, and AUTO_SELECT picks THREEFRY."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


_NAMES = {"philox": Algorithm.PHILOX, "threefry": Algorithm.THREEFRY,
          "auto_select": Algorithm.AUTO_SELECT}


def check_alg(alg: Any, name: str) -> Algorithm:
    """`alg` (None, a name, an Algorithm or its int) as THREEFRY, else TF's error."""
    if alg is None:
        return Algorithm.THREEFRY
    try:
        a = (_NAMES[alg.lower()] if isinstance(alg, str) else
             alg if isinstance(alg, Algorithm) else Algorithm(int(alg)))
    except (KeyError, ValueError, TypeError):
        raise op_error(name, f"unknown RNG algorithm {alg!r} (use 'threefry' or "
                       "'auto_select')") from None
    if a is Algorithm.PHILOX:
        raise op_error(name, "only the 'threefry' algorithm exists here (numbers come from "
                       "XLA's THREE_FRY rng_bit_generator); 'philox' is not supported")
    return Algorithm.THREEFRY


def create_rng_state(seed: Any, alg: Any) -> np.ndarray:
    """The int64[2] threefry state (key, counter) for `seed` (tf.random.create_rng_state):
    an int is split into 64-bit words, low first, padded with zeros; a 1-D array is its words."""
    check_alg(alg, "create_rng_state")
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        s, words = int(seed) % 2**128, []
        while s:
            words.append(s & (2**64 - 1))
            s >>= 64
    else:
        arr = np.asarray(seed)
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise ValueError(f"create_rng_state: seed must be an int or a 1-D int array, got "
                             f"{seed!r}")
        words = [int(v) % 2**64 for v in arr.tolist()]
    words = (words + [0, 0])[:2]
    return np.array(words, np.uint64).view(np.int64)


def _seed(seed: TensorLike, name: str) -> Tensor:
    s = seed if isinstance(seed, Tensor) else to_tensor(seed, name)
    if s.dtype not in (I32, I64) or tuple(s.shape) != (2,):
        raise op_error(name, f"seed must be a shape [2] int32/int64 tensor, got {s.type}",
                       TypeError if s.dtype not in (I32, I64) else ValueError)
    return s


def split(seed: TensorLike, num: Any = 2, alg: Any = "auto_select") -> Tensor:
    """`num` new seeds, shape [num, 2] of seed's dtype, a function of `seed`
    (tf.random.split / tf.random.experimental.stateless_split)."""
    check_alg(alg, "split")
    s = _seed(seed, "split")
    n = static_int(num, "split", "num")
    if n < 0:
        raise op_error("split", f"num must be >= 0, got {n}")
    return stateless_uniform((n, 2), s, minval=None, maxval=None, dtype=s.dtype)


def fold_in(seed: TensorLike, data: TensorLike, alg: Any = "auto_select") -> Tensor:
    """A new seed from `seed` and an integer `data`: [a number drawn from seed, data], of
    data's dtype (tf.random.fold_in / tf.random.experimental.stateless_fold_in)."""
    check_alg(alg, "fold_in")
    s = _seed(seed, "fold_in")
    d = data if isinstance(data, Tensor) else to_tensor(data, "fold_in")
    if d.dtype not in (I32, I64) or d.shape != ():
        raise op_error("fold_in", f"data must be an int32/int64 scalar, got {d.type}",
                       TypeError)
    first = stateless_uniform((), s, minval=None, maxval=None, dtype=d.dtype)
    return A.stack([first, d])


def streams(seed: TensorLike, count: int, name: str) -> list[Tensor]:
    """`count` independent int64[2] seeds from a user's [2] seed (one per draw of an op)."""
    s = _seed(seed, name)
    rows = stateless_uniform((count, 2), s, minval=None, maxval=None, dtype=I64)
    return [rows[i] for i in range(count)]


def stateful_seed(seed: Any, name: str) -> Tensor:
    """A [2] seed drawn from the global generator (seed=None) or the op-seed generator, so
    the stateful ops follow tf.random.set_seed and op seeds as tx.random.uniform does."""
    return generator_for(seed, name).make_seeds(1)[:, 0]


def param(value: TensorLike, dtype: DType, name: str, what: str) -> Tensor:
    """A distribution parameter as a `dtype` tensor of static shape."""
    t = value if isinstance(value, Tensor) else to_tensor(value, name, dtype)
    if None in t.shape:
        raise op_error(name, f"{what} needs a shape known at trace time, got {t.type}")
    return t if t.dtype is dtype else M.cast(t, dtype)


def broadcast_shape(name: str, *shapes: tuple) -> tuple[int, ...]:
    """numpy's broadcast of static shapes, else TF's InvalidArgumentError naming `name`."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except ValueError:
        raise op_error(name, "shapes are not broadcast-compatible: "
                       + ", ".join(str(list(s)) for s in shapes)) from None


def fits(name: str, shape: tuple, param_shape: tuple, what: str) -> None:
    """A stateless op's parameter must broadcast to the output `shape` (TF's rule)."""
    if broadcast_shape(name, shape, param_shape) != tuple(shape):
        raise op_error(name, f"{what} of shape {list(param_shape)} does not broadcast to the "
                       f"output shape {list(shape)}")


def work_dtype(dtype: DType) -> DType:
    """Sampling precision: float64 for float64 results, float32 otherwise."""
    return F64 if dtype is F64 else F32


def first_accepted(ok: Tensor, candidates: Tensor, fallback: Tensor) -> Tensor:
    """Per element, the candidate of the first round (axis 0) whose `ok` is true, else
    `fallback`: rejection sampling as whole-tensor ops (one small graph, not a loop)."""
    hits = cumsum(M.cast(ok, I32), axis=0)
    first = M.logical_and(ok, M.equal(hits, np.asarray(1, np.int32)))
    picked = reduce_sum(M.where(first, candidates, A.zeros_like(candidates)), axis=0)
    return M.where(reduce_any(ok, axis=0), picked, fallback)


def open_uniform(shape: tuple, seed: Tensor, w: DType) -> Tensor:
    """Uniform in the open interval (0, 1): the [0, 1) grid shifted by half a step."""
    u = stateless_uniform(shape, seed, dtype=w)
    half = 2.0 ** -(53 if w is F64 else 24)
    return M.add(u, np.asarray(half, w.np_dtype))


@functools.lru_cache(maxsize=256)
def _compiled(body: Any, statics: tuple) -> Any:
    from tfx_core.polymorphic_function.function import function  # (function imports ops)

    return function(lambda *tensors: body(*tensors, *statics))


def run_compiled(body: Any, tensors: tuple, statics: tuple) -> Any:
    """`body(*tensors, *statics)`: inline under a trace; eagerly as one compiled function per
    `statics` (a sampler is ~100 ops: one by one each would compile for every new shape)."""
    if is_tracing():
        return body(*tensors, *statics)
    return _compiled(body, statics)(*tensors)
