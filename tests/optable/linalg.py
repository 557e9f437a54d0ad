"""Op table: matmul (2-D, batched, broadcast batch dims, transposes)."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from tests.optable import FLOATS, SIGNED, OpInfo, Sample, make_arg, trim
from tfx_core import linalg as tx_linalg

# (a shape, b shape, kwargs); shapes are as passed (already transposed where flagged).
CASES = [
    ((2, 3), (3, 4), {}),
    ((1, 1), (1, 1), {}),
    ((3, 0), (0, 2), {}),
    ((0, 3), (3, 2), {}),
    ((3, 2), (3, 4), {"transpose_a": True}),
    ((2, 3), (4, 3), {"transpose_b": True}),
    ((3, 2), (4, 3), {"transpose_a": True, "transpose_b": True}),
    ((3, 2), (4, 3), {"adjoint_a": True, "adjoint_b": True}),
    ((2, 2, 3), (2, 3, 4), {}),
    ((2, 5, 3), (3, 4), {}),
    ((3, 4), (2, 4, 5), {}),
    ((3, 4), (2, 5, 4), {"transpose_b": True}),
    ((2, 1, 3, 4), (5, 4, 6), {}),
    ((2, 1, 4, 3), (1, 5, 6, 4), {"transpose_a": True, "transpose_b": True}),
    ((1, 2, 3), (4, 1, 3, 2), {}),
]


def _samples(rng, dtype):
    """float32/int32 every case; the other dtypes 1x1, the empty ones and two rotated (`trim`)."""
    return trim([Sample((make_arg(rng, a, dtype, -1, 1), make_arg(rng, b, dtype, -1, 1)), kw)
                 for a, b, kw in CASES], dtype, keep=(1, 2, 3))


def _matmul_ref(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False):
    dt = a.dtype
    wa, wb = (a.astype(np.float64), b.astype(np.float64)) if dt.kind in "fV" else (a, b)
    if transpose_a or adjoint_a:
        wa = np.swapaxes(wa, -1, -2)
    if transpose_b or adjoint_b:
        wb = np.swapaxes(wb, -1, -2)
    return np.matmul(wa, wb).astype(dt)


ENTRIES = [
    OpInfo("matmul", tx.matmul, _matmul_ref, _samples, (*FLOATS, *SIGNED),
           ops=("dot_general", "transpose", "broadcast_to"),
           tol={"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}),
    OpInfo("linalg.matmul", tx_linalg.matmul, _matmul_ref,
           lambda rng, dt: _samples(rng, dt)[:3], (tx.float32,), ops=("dot_general",)),
]
