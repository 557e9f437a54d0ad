"""numpy references for the special ops (constant folding and tests): scipy.special when it is
installed, imported lazily; without it a reference raises and constant folding leaves the op
to XLA."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


def scipy_special():
    import scipy.special  # optional: product code runs without it (see module docstring)

    return scipy.special


def in_f32(fn: Callable) -> Callable:
    """Evaluate in float32 (or wider) and round back: numpy and scipy have no bf16/f16 kernels."""

    def ref(*xs):
        dt = xs[-1].dtype
        if dt.itemsize >= 4:
            return np.asarray(fn(*xs)).astype(dt)
        return np.asarray(fn(*[x.astype(np.float32) for x in xs])).astype(dt)

    return ref


def special(name: str) -> Callable:
    """The scipy.special function `name` as a reference (looked up at call time)."""
    return in_f32(lambda *xs: getattr(scipy_special(), name)(*xs))
