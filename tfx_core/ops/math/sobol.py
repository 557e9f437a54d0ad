"""tf.math.sobol_sample: points of the Sobol sequence TF uses, from its direction numbers
(sobol_directions.npz, recorded by tests/oracles/record_sobol.py), computed at trace time."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from compiler.ir.types import F32, F64, DType
from tfx_core.framework.operands import Tensor, to_tensor
from tfx_core.ops.arguments import op_error, static_int

MAX_DIM = 21200  # as TF
BITS = 29  # direction numbers per dimension: indices below 2**29 (TF 2.21 breaks past them)


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """All direction numbers, [MAX_DIM, BITS] uint64 holding 32-bit integers."""
    data = np.load(Path(__file__).with_name("sobol_directions.npz"))
    s, a = data["s"].astype(np.int64), data["a"].astype(np.uint64)
    bits = np.unpackbits(data["m_bits"]).astype(np.uint64)
    start = np.concatenate([[0], np.cumsum(s * (s + 1) // 2)])[:-1]  # dim d's first bit
    shifts = np.uint64(31) - np.arange(BITS, dtype=np.uint64)
    v = np.zeros((MAX_DIM, BITS), np.uint64)
    v[0] = np.uint64(1) << shifts  # the first dimension: van der Corput
    for j in range(int(s.max())):  # initial m_(j+1): j + 1 bits, most significant first
        dims = np.nonzero(s > j)[0]
        m = np.zeros(dims.size, np.uint64)
        for b in range(j + 1):
            m = (m << np.uint64(1)) | bits[start[dims] + j * (j + 1) // 2 + b]
        v[dims, j] = m << shifts[j]
    for degree in range(1, int(s.max()) + 1):  # the recurrence of each primitive polynomial
        dims = np.nonzero(s == degree)[0]
        if not dims.size:
            continue
        w, coef = v[dims], a[dims]
        for k in range(degree, BITS):
            acc = w[:, k - degree] ^ (w[:, k - degree] >> np.uint64(degree))
            for i in range(1, degree):
                on = ((coef >> np.uint64(i - 1)) & np.uint64(1)).astype(bool)
                acc ^= np.where(on, w[:, k - i], np.uint64(0))
            w[:, k] = acc
        v[dims] = w
    return v


def sobol_sample(dim: Any, num_results: Any, skip: Any = 0, dtype: Any = F32,
                 name: str | None = None) -> Tensor:
    """`num_results` points of the `dim`-dimensional Sobol sequence after the first `skip`
    (and after the all-zero point, as TF), in [0, 1), as float32 or float64 (tf.math.sobol_sample).

    The arguments must be known at trace time (the points become a constant). TF 2.21 returns
    negative numbers once skip + num_results reaches 2**29; that is an error here.
    """
    d = static_int(dim, "sobol_sample", "dim")
    n = static_int(num_results, "sobol_sample", "num_results")
    k = static_int(skip, "sobol_sample", "skip")
    dt = DType.from_any(dtype)
    if dt not in (F32, F64):
        raise op_error("sobol_sample", f"dtype must be float32 or float64, got {dt.name}")
    if not 1 <= d <= MAX_DIM:
        raise op_error("sobol_sample", f"dim must be in [1, {MAX_DIM}], got {d}")
    if n < 1:
        raise op_error("sobol_sample", f"num_results must be at least one, got {n}")
    if k < 0:
        raise op_error("sobol_sample", f"skip must be non-negative, got {k}")
    if k + n >= 2**BITS:
        raise op_error("sobol_sample", f"skip + num_results must be below 2**{BITS}, got "
                       f"{k + n} (TF 2.21 returns negative numbers there)")
    v = _table()[:d]
    index = np.arange(k + 1, k + n + 1, dtype=np.uint64)
    gray = index ^ (index >> np.uint64(1))
    acc = np.zeros((n, d), np.uint64)
    for j in range(BITS):
        on = ((gray >> np.uint64(j)) & np.uint64(1)).astype(bool)
        acc ^= np.where(on[:, None], v[None, :, j], np.uint64(0))
    points = (acc.astype(np.float64) * 2.0**-32).astype(dt.np_dtype)
    return to_tensor(points, "sobol_sample")


__all__ = ["sobol_sample"]
