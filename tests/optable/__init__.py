"""The op table: one entry per public op, driving every numeric test (eager and compiled).

Each family module (elementwise.py, reduction.py, ...) defines `ENTRIES: list[OpInfo]`.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np

import tfx_core as tx
from compiler.ir.types import ALL_DTYPES, DType


@dataclass
class Sample:
    """One call: positional args (numpy arrays become tensors; other values stay Python)."""

    args: tuple
    kwargs: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else repr(a) for a in self.args
        )
        kw = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"({shown}{', ' if kw and shown else ''}{kw})"


@dataclass
class OpInfo:
    """A public tfx function, its numpy reference and how to sample inputs.

    Attributes:
        name: test id (usually the public name, e.g. "reduce_sum").
        fn: the public function, called as fn(*args, **kwargs).
        ref: numpy reference with the same signature, returning an array or tuple of arrays.
        samples: (rng, dtype) -> list[Sample].
        dtypes: dtypes to test.
        ops: IR op names this entry exercises (a registry test checks every op is covered).
        tol: optional {dtype: (rtol, atol)} overrides.
        xfail: {dtype or "compiled"/"eager": reason} expected failures, recorded as data.
        grad: how tests/autodiff checks the gradient. None: against central finite differences
            of `ref`. GRAD_ZERO: the op is (piecewise) constant, so its gradient must be None or
            zeros. "kinks: <reason>": the samples sit on non-differentiable points, which are
            left out (found where one-sided differences disagree). Any other string: the reason
            the gradient check is skipped.
    """

    name: str
    fn: Callable
    ref: Callable
    samples: Callable[[np.random.Generator, DType], list[Sample]]
    dtypes: tuple
    ops: tuple[str, ...] = ()
    tol: dict = field(default_factory=dict)
    xfail: dict = field(default_factory=dict)
    grad: str | None = None


GRAD_ZERO = "zero"


DEFAULT_TOL = {
    "float16": (2e-3, 2e-3),
    "bfloat16": (2e-2, 2e-2),
    "float32": (2e-5, 1e-6),
    "float64": (1e-10, 1e-12),
    "complex64": (2e-5, 1e-6),
    "complex128": (1e-10, 1e-12),
}

FLOATS = (tx.float16, tx.bfloat16, tx.float32, tx.float64)
SIGNED = (tx.int8, tx.int16, tx.int32, tx.int64)
INTS = (*SIGNED, tx.uint8)
NUMERIC = (*FLOATS, *INTS)
ALL = (*NUMERIC, tx.bool)
PRIMARY = (tx.float32, tx.int32, tx.bool)


def trim(samples: list, dtype: DType, keep: tuple[int, ...] = (), k: int = 2) -> list:
    """Suite-time policy: every sample for a primary dtype (float32, int32, bool; also the
    dtype tests/framework/test_grad_numerics.py differentiates); any other dtype gets the
    samples at `keep` (0-d, empty, special values: where dtypes can differ) plus `k` of the
    rest rotated by the dtype, so each case still runs in several dtypes."""
    if dtype in PRIMARY:
        return list(samples)
    keep = tuple(j % len(samples) for j in keep)
    rest = [x for j, x in enumerate(samples) if j not in keep]
    i = ALL_DTYPES.index(dtype)
    return [samples[j] for j in keep] + [rest[(i + j) % len(rest)]
                                         for j in range(min(k, len(rest)))]

# Shapes every elementwise op is tried on: 0-d, empty, vector, matrix, 3-d.
SHAPES = [(), (0,), (5,), (2, 3), (2, 1, 4)]
# Broadcasting pairs.
BCAST_PAIRS = [((), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((4, 1, 3), (2, 1)), ((0, 3), (3,))]


def make_arg(rng: np.random.Generator, shape: tuple, dtype: DType, low: float = -3.0,
             high: float = 3.0) -> np.ndarray:
    """Random array of `dtype` with values in [low, high) (integers: [low, high] rounded)."""
    npdt = dtype.np_dtype
    if dtype.is_bool:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.is_integer:
        info = np.iinfo(npdt)
        lo, hi = max(int(np.floor(low)), info.min), min(int(np.ceil(high)), info.max)
        return rng.integers(lo, hi + 1, size=shape).astype(npdt)
    a = rng.uniform(low, high, size=shape)
    if npdt == np.dtype(ml_dtypes.bfloat16):
        return a.astype(np.float32).astype(npdt)
    return a.astype(npdt)


def all_entries() -> list[OpInfo]:
    entries: list[OpInfo] = []
    for mod in pkgutil.iter_modules(__path__):
        m = importlib.import_module(f"{__name__}.{mod.name}")
        entries.extend(getattr(m, "ENTRIES", []))
    return entries


def to_input(a: Any) -> Any:
    return tx.constant(a) if isinstance(a, np.ndarray) else a
