"""tf.random_index_shuffle by TF's Simon-cipher Feistel permutation with cycle walking."""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from compiler.interpreters import is_tracing
from compiler.ir.types import I32, I64, U32, U64, DType
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops import math_ops as M
from tfx_core.ops.arguments import op_error, static_int
from tfx_core.ops.control_flow_ops import while_loop
from tfx_core.ops.reduction_ops import reduce_any

TensorLike = Any
_C = 0xFFFFFFFC  # the Simon key schedule's constant
_Z = 0x7369F885192C0EF5  # its z sequence (bit i used at round i + 3)


def _block_bits(max_index: int) -> int:
    """TF's block size: ceil(log2(max_index)) rounded up to even, at least 16."""
    b = int(math.ceil(math.log2(max_index)))
    return max(b + b % 2, 16)


def _i64(v: int) -> Tensor:
    return to_tensor(np.asarray(v, np.int64), "random_index_shuffle")


def _rot(x: Tensor, r: int, w: int, left: bool) -> Tensor:
    """Rotate the low w bits of non-negative int64 `x` by r (r == w is the identity)."""
    mask = _i64((1 << w) - 1)
    a, b = (r, w - r) if left else (w - r, r)
    hi = M.bitwise_and(M.left_shift(x, _i64(a)), mask)
    return M.bitwise_or(hi, M.right_shift(x, _i64(b)))


def _f(x: Tensor, w: int) -> Tensor:
    return M.bitwise_xor(M.bitwise_and(_rot(x, 1, w, True), _rot(x, 8, w, True)),
                         _rot(x, 2, w, True))


def _round_keys(key: list[Tensor], w: int, rounds: int) -> list[Tensor]:
    mask = (1 << w) - 1
    rk = [M.bitwise_and(k, _i64(mask)) for k in key]
    z = _Z & mask
    for i in range(3, rounds):
        base = _i64((_C & mask) ^ (z & 1))
        nxt = M.bitwise_xor(M.bitwise_xor(base, rk[i - 3]),
                            M.bitwise_xor(_rot(rk[i - 1], 3, w, False),
                                          _rot(rk[i - 1], 4, w, False)))
        rk.append(nxt)
        z >>= 1
    return rk


def _encrypt(v: Tensor, rk: list[Tensor], w: int) -> Tensor:
    mask = _i64((1 << w) - 1)
    left = M.bitwise_and(M.right_shift(v, _i64(w)), mask)
    right = M.bitwise_and(v, mask)
    for i in range(0, len(rk), 2):
        left = M.bitwise_xor(M.bitwise_xor(left, _f(right, w)), rk[i])
        right = M.bitwise_xor(M.bitwise_xor(right, _f(left, w)), rk[i + 1])
    return M.bitwise_or(M.left_shift(left, _i64(w)), right)


def random_index_shuffle(index: TensorLike, seed: TensorLike, max_index: Any, rounds: int = 4,
                         name: str | None = None) -> Tensor:
    """The position of `index` (scalar or vector) in a permutation of [0, max_index] chosen by
    `seed` (3 ints), the same permutation TF computes (tf.random_index_shuffle). max_index
    must be known at trace time (it sets the cipher's block size) and below 2**62."""
    idx = to_tensor(index, "random_index_shuffle")
    if idx.dtype not in (I32, I64, U32, U64) or idx.ndim > 1:
        raise op_error("random_index_shuffle", f"index must be an int32/int64/uint32/uint64 "
                       f"scalar or vector, got {idx.type}", TypeError)
    m = static_int(max_index, "random_index_shuffle", "max_index")
    r = static_int(rounds, "random_index_shuffle", "rounds")
    if r < 4 or r % 2:
        raise op_error("random_index_shuffle", f"rounds must be an even int >= 4, got {r}")
    if not 0 <= m < 2 ** 62:
        raise op_error("random_index_shuffle", f"max_index must be in [0, 2**62), got {m}")
    s = to_tensor(seed, "random_index_shuffle")
    if s.dtype.kind not in "iu" or s.shape != (3,):
        raise op_error("random_index_shuffle", f"seed must be 3 integers, got {s.type}",
                       TypeError)
    if m == 0:
        return M.multiply(idx, M.cast(0, idx.dtype))
    if is_tracing():
        return _shuffle(idx, s, m, r)
    # eagerly, cycle walking can take thousands of steps (block of >= 2**16 for a small
    # max_index): run it as one compiled function per (max_index, rounds), not op by op
    return _compiled(m, r)(idx, s)


@functools.lru_cache(maxsize=64)
def _compiled(m: int, r: int) -> Any:
    from tfx_core.polymorphic_function.function import function  # (function imports ops)

    return function(lambda idx, seed: _shuffle(idx, seed, m, r))


def _shuffle(idx: Tensor, s: Tensor, m: int, r: int) -> Tensor:
    out_dt: DType = idx.dtype
    # key words are the seed's low 32 bits, as TF's uint32 key
    key = [M.bitwise_and(M.cast(s[i], I64), _i64(0xFFFFFFFF)) for i in range(3)]
    w = _block_bits(m) // 2
    rk = _round_keys(key, w, r)
    top = _i64(m)
    first = _encrypt(M.cast(idx, I64), rk, w)

    def outside(v: Tensor) -> Tensor:
        return reduce_any(M.greater(v, top))

    def walk(v: Tensor) -> Tensor:  # cycle walking: re-encrypt what fell outside [0, m]
        return M.where(M.greater(v, top), _encrypt(v, rk, w), v)

    (out,) = while_loop(lambda v: outside(v), lambda v: (walk(v),), (first,))
    return M.cast(out, out_dt)


__all__ = ["random_index_shuffle"]
