"""Random bits: `rng_bit_generator` (StableHLO's, THREE_FRY), with a bit-exact numpy reference.

The state is i64[2] (TF's threefry state layout): element 0 is the threefry key, element 1 the
counter. A call returns the advanced state and the bits; the same state always gives the same
bits. The reference reproduces XLA's expansion of the op (xla/hlo/builder/lib/prng.cc,
ThreeFryBitGenerator), so constant folding and static values agree with what XLA computes.
"""
from __future__ import annotations

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.types import I64, U32, DType, TensorType
from ..lowering import helpers as H
from ..registry import NOT_DIFFERENTIABLE, PURE, OpDef, OpTypeError, register

BIT_DTYPES = (U32, I64)  # 32-bit words, or 64-bit words (as signed ints: the IR has no u64)
STATE = TensorType(I64, (2,))


def _infer(state: TensorType, *, shape: tuple, dtype: DType) -> tuple:
    if state != STATE:
        raise OpTypeError(f"the state must be {STATE} (threefry key, counter), got {state}")
    if not isinstance(shape, tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise OpTypeError(f"shape must be a tuple of ints >= 0, got {shape!r}")
    if dtype not in BIT_DTYPES:
        raise OpTypeError(f"dtype must be uint32 or int64, got {dtype!r}")
    return STATE, TensorType(dtype, shape)


def _u64(shape) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), ir.IntegerType.get_unsigned(64))


def _lower(ctx, state, *, shape, dtype):
    out = ctx.types_out[1]
    bits_t = H.ir_type(out) if dtype is U32 else _u64(shape)
    new_state, bits = hlo.rng_bit_generator(
        _u64((2,)), bits_t, hlo.RngAlgorithmAttr.get("THREE_FRY"),
        hlo.bitcast_convert(_u64((2,)), state))
    if dtype is I64:
        bits = hlo.bitcast_convert(H.ir_type(out), bits)
    return [hlo.bitcast_convert(H.ir_type(STATE), new_state), bits]


# ---------------------------------------------------------------- numpy threefry (reference)
_ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
_PARITY = np.uint32(0x1BD11BDA)


def threefry2x32(key: int, x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Threefry-2x32 with 20 rounds (Salmon et al. 2011) on uint32 arrays, 64-bit `key`."""
    k = (np.uint32(key & 0xFFFFFFFF), np.uint32(key >> 32))
    ks = (k[0], k[1], _PARITY ^ k[0] ^ k[1])
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for i in range(5):
        for r in _ROTATIONS[4 * (i % 2):4 * (i % 2) + 4]:
            x0 = x0 + x1
            x1 = ((x1 << np.uint32(r)) | (x1 >> np.uint32(32 - r))) ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def _blocks(counter: int, key: int, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Threefry of the counters counter + (row-major index) over `shape`."""
    n = int(np.prod(shape, dtype=np.int64))
    c = (np.uint64(counter) + np.arange(n, dtype=np.uint64)).reshape(shape)
    lo = (c & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    hi = (c >> np.uint64(32)).astype(np.uint32)
    return threefry2x32(key, lo, hi)


def _split_dim(shape: tuple) -> int:
    """XLA's SplitShapeIntoHalves: the first even dim, else the largest."""
    for i, d in enumerate(shape):
        if d % 2 == 0:
            return i
    return int(np.argmax(shape))


def rng_bits(state: np.ndarray, shape: tuple, dtype: DType) -> tuple[np.ndarray, np.ndarray]:
    """(new state, bits) exactly as XLA's THREE_FRY rng_bit_generator computes them."""
    key, counter = (int(v) for v in np.asarray(state, np.int64).view(np.uint64))
    shape = tuple(shape)
    with np.errstate(over="ignore"):
        if dtype is I64:  # one 64-bit word per threefry block: (hi << 32) | lo
            x0, x1 = _blocks(counter, key, shape)
            bits = (x0.astype(np.uint64) | (x1.astype(np.uint64) << np.uint64(32)))
            bits, used = bits.view(np.int64), int(np.prod(shape, dtype=np.int64))
        elif not shape:  # a scalar takes the first word of one block
            x0, _ = _blocks(counter, key, (1,))
            bits, used = x0.reshape(()), 1
        else:  # two 32-bit words per block, interleaved along the split dim
            a = _split_dim(shape)
            half = (*shape[:a], -(-shape[a] // 2), 1, *shape[a + 1:])
            x0, x1 = _blocks(counter, key, half)
            full = list(shape)
            full[a] = 2 * half[a]
            words = np.concatenate([x0, x1], axis=a + 1).reshape(full)
            bits = words[tuple(slice(0, d) for d in shape)]
            used = int(np.prod(half, dtype=np.int64))
        new_counter = np.uint64(counter) + np.uint64(used)
    new_state = np.array([key, int(new_counter)], np.uint64).view(np.int64)
    return new_state, np.array(bits)  # NOTE: a copy that keeps 0-d arrays 0-d


def _reference(state, *, shape, dtype):
    return rng_bits(state, shape, dtype)


rng_bit_generator_op = register(OpDef(
    "rng_bit_generator", _infer, _lower, _reference, NOT_DIFFERENTIABLE, frozenset({PURE}),
    multiple_results=True))
