"""tx against TF 2.21's recorded outputs (tests/oracles/array_more.npz) for the array and segment
functions whose semantics are subtle: empty segments, searchsorted sides, reverse_sequence,
space/batch reshuffles, extract_volume_patches, histogram edges, pad REFLECT/SYMMETRIC.
Each case runs eagerly and under @tx.function (arrays as inputs, except the ids of the sorted
segment ops, whose maximum sets the output size and so stays a Python list there)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tfx_core as tx
from tests.oracles.array_more_cases import CASES

DATA = np.load(Path(__file__).parents[1] / "oracles" / "array_more.npz")


def _fn(path: str):
    fn = tx
    for part in path.split("."):
        fn = getattr(fn, part)
    return fn


def _want(key: str) -> np.ndarray:
    return DATA[key]


def _same(got, want: np.ndarray, key: str) -> None:
    if isinstance(got, tuple):
        got = np.stack([np.asarray(g) for g in got])
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == want.dtype, (key, got.dtype, got.shape)
    np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("key", sorted(CASES))
def test_eager(key):
    path, args, kwargs = CASES[key]
    got = _fn(path)(*[tx.constant(a) if isinstance(a, np.ndarray) else a for a in args],
                    **kwargs)
    _same(tuple(g.numpy() for g in got) if isinstance(got, tuple) else got.numpy(), _want(key),
          key)


@pytest.mark.parametrize("key", sorted(CASES))
def test_compiled(key):
    path, args, kwargs = CASES[key]
    keep_static = path.startswith("math.segment_")
    as_input = [isinstance(a, np.ndarray) and not (keep_static and i == 1)
                for i, a in enumerate(args)]

    @tx.function
    def f(*tensors):
        it = iter(tensors)
        full = [next(it) if t else (list(a) if isinstance(a, np.ndarray) else a)
                for a, t in zip(args, as_input)]
        return _fn(path)(*full, **kwargs)

    got = f(*[tx.constant(a) for a, t in zip(args, as_input) if t])
    _same(tuple(g.numpy() for g in got) if isinstance(got, tuple) else got.numpy(), _want(key),
          key)
