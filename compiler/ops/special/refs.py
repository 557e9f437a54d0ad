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


# TF's values where scipy's differ (poles, limits, out of the domain), so constant folding
# gives what the lowered op gives.
def _whole(x):
    return np.isfinite(x) & (np.floor(x) == x)


def lgamma(x):
    return np.where(x == -np.inf, np.inf, scipy_special().gammaln(x))


def digamma(x):
    return np.where(x == 0, np.nan, scipy_special().digamma(x))


def polygamma(n, x):
    out = scipy_special().polygamma(n, x)
    even = _whole(n) & (np.mod(n, 2) == 0)
    return np.where(_whole(x) & (x <= 0) & even, np.nan, out)


def zeta(s, q):
    out = np.where(_whole(q) & (q <= 0) & ~_whole(s), np.nan, scipy_special().zeta(s, q))
    at_inf = np.where(q < 1, np.inf, np.where(q == 1, 1.0, 0.0))
    return np.where(s == np.inf, at_inf, out)


def igamma(a, x, upper: bool = False):
    sp = scipy_special()
    value = sp.gammaincc(a, x) if upper else sp.gammainc(a, x)
    bad = (x < 0) | (a <= 0) | np.isnan(x) | np.isnan(a)
    if upper:
        out = np.where(a == np.inf, 1.0, value)
        out = np.where(x == np.inf, 0.0, out)
        out = np.where(x == 0, 1.0, out)
        return np.where(bad, np.nan, out)
    out = np.where(x == np.inf, 1.0, value)
    out = np.where(a == np.inf, 0.0, out)
    out = np.where(bad, np.nan, out)
    return np.where(x == 0, 0.0, out)


def betainc(a, b, x):
    bad = (a <= 0) | (b <= 0) | (x < 0) | (x > 1) | np.isnan(a) | np.isnan(b) | np.isnan(x)
    return np.where(bad, np.nan, scipy_special().betainc(a, b, x))
