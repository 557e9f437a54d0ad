"""Comparing results: the table's tolerances, NaN positions, signed zeros, and which elements a
chain of float ops determines at all (a perturbation test of the reference chain).

Why perturb: eager and compiled runs of one program may round intermediates differently
(XLA keeps float16/bfloat16 chains in float32 inside a fusion, contracts FMAs, reassociates
constant additions), by about an ulp each, and an ill-conditioned step (x - y with x ~ y,
floor of a value next to an integer, a comparison of near-ties, overflow at the edge of the
range) turns an ulp into any amount. Elements whose reference moves beyond the cross-mode
tolerance when every float intermediate is nudged by an ulp are "unstable": left out of
cross-mode comparisons. Every eager op is still checked strictly against its own reference
on the inputs it actually received (differential_checks.node_check).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ml_dtypes
import numpy as np

from tests.optable import DEFAULT_TOL

from .differential_values import is_float

ULPS = 1  # how far each float intermediate is nudged (in its own dtype's eps, relatively)
CROSS_ULPS = 8  # across modes, float results may differ by this many ulps of their dtype
TRIALS = 4  # all up, all down, and two random sign patterns


@dataclass
class Mismatch:
    kind: str  # "shape", "dtype", "value", "nan", "signed_zero"
    message: str
    count: int = 0


def tolerance(entry, dtype_name: str) -> tuple[float, float]:
    """(rtol, atol) as test_numerics picks them: the entry's override, else DEFAULT_TOL
    (integers and bools: exact)."""
    return entry.tol.get(dtype_name, DEFAULT_TOL.get(dtype_name, (0.0, 0.0)))


def close_mask(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Elementwise agreement: equal (inf == inf), both NaN, or within atol + rtol * |want|."""
    if is_float(want.dtype) or is_float(got.dtype):
        g, w = got.astype(np.float64), want.astype(np.float64)
        with np.errstate(all="ignore"):
            near = np.abs(g - w) <= atol + rtol * np.abs(w)
        return (g == w) | (np.isnan(g) & np.isnan(w)) | (near & np.isfinite(g) & np.isfinite(w))
    return np.asarray(got == want)


def compare(got: np.ndarray, want: np.ndarray, rtol: float, atol: float,
            ignore: np.ndarray | None = None, zero_sign: bool = False) -> Mismatch | None:
    """None if `got` matches `want`, else what differs first. `ignore` masks elements out;
    `zero_sign` also requires zeros to carry the same sign (mode-vs-mode comparisons only:
    the table's references do not model the sign of zero, and test_numerics ignores it)."""
    if got.shape != want.shape:
        return Mismatch("shape", f"shape {got.shape} != {want.shape}")
    if got.dtype != want.dtype:
        return Mismatch("dtype", f"dtype {got.dtype} != {want.dtype}")
    bad = ~close_mask(got, want, rtol, atol)
    if ignore is not None:
        bad &= ~ignore
    if bad.any():
        idx = np.argwhere(bad)[:3]
        shown = "; ".join(f"at {tuple(int(i) for i in ix)}: {got[tuple(ix)]!r} vs "
                          f"{want[tuple(ix)]!r}" for ix in idx)
        nan = is_float(want.dtype) and bool(
            (np.isnan(got.astype(np.float64)) != np.isnan(want.astype(np.float64)))[bad].any())
        return Mismatch("nan" if nan else "value", f"{int(bad.sum())} of {bad.size} elements "
                        f"differ (rtol={rtol}, atol={atol}): {shown}", int(bad.sum()))
    if zero_sign and is_float(want.dtype):
        g, w = got.astype(np.float64), want.astype(np.float64)
        flipped = (g == 0) & (w == 0) & (np.signbit(g) != np.signbit(w))
        if ignore is not None:
            flipped &= ~ignore
        if flipped.any():
            ix = tuple(int(i) for i in np.argwhere(flipped)[0])
            return Mismatch("signed_zero", f"{int(flipped.sum())} zeros differ in sign, first at "
                            f"{ix}: {got[ix]!r} vs {want[ix]!r}", int(flipped.sum()))
    return None


def eps(dt: np.dtype) -> float:
    return float(ml_dtypes.finfo(dt).eps)


def cross_tolerance(tol: tuple[float, float], dt: np.dtype) -> tuple[float, float]:
    """The tolerance between two modes: the table's, at least CROSS_ULPS ulps of a float
    dtype (float16/bfloat16 tolerances are ~2 ulps, while an eager chain rounds every step
    and a fused kernel keeps float32 throughout)."""
    if not is_float(dt):
        return tol
    return max(tol[0], CROSS_ULPS * eps(dt)), tol[1]


def nudge(a: np.ndarray, rng: np.random.Generator, trial: int, ulps: float = ULPS) -> np.ndarray:
    """`a` with every finite float element scaled by (1 + u * ulps * eps), u in [-1, 1]:
    trial 0 all up, 1 all down, others random. Integers and bools are returned unchanged."""
    if not is_float(a.dtype) or a.size == 0:
        return a
    if trial == 0:
        u = np.ones(a.shape)
    elif trial == 1:
        u = -np.ones(a.shape)
    else:
        u = rng.uniform(-1, 1, a.shape)
    with np.errstate(all="ignore"):  # the largest finite values may round up to inf
        w = a.astype(np.float64) * (1 + u * ulps * eps(a.dtype))
        if a.dtype == np.dtype(ml_dtypes.bfloat16):
            return w.astype(np.float32).astype(a.dtype)
        return w.astype(a.dtype)


def unstable_masks(evaluate: Callable[[Callable | None], list], base: list, tols: list,
                   seed: int = 0, ulps: float = ULPS) -> list:
    """For each value of a chain, the elements a perturbation of the intermediates moves.

    `evaluate(perturb)` reruns the reference chain, calling `perturb(array) -> array` on every
    op result (None: exact); `base` is the unperturbed run; `tols[i]` the tolerance of value i.
    A value that cannot be computed under perturbation is unstable everywhere.
    """
    masks = [np.zeros(np.shape(b), bool) for b in base]
    rng = np.random.default_rng(seed)
    for t in range(TRIALS):
        try:
            runs = evaluate(lambda a, t=t: nudge(a, rng, t, ulps))
        except Exception:
            return [np.ones(np.shape(b), bool) for b in base]
        for i, (b, r) in enumerate(zip(base, runs)):
            if b is None or r is None or np.shape(r) != np.shape(b):
                continue
            masks[i] |= ~close_mask(np.asarray(r), np.asarray(b), *tols[i])
    return masks
