"""Why one op's XLA result may differ from its numpy reference: closeness, hazards, likely causes.

Read-only helpers for `tx.debugging.compare`: given an op, the (reference) values fed to it and
both results, they say whether the results agree and, when they don't or when the op did
something compiled code silently tolerates (a clamped index, a NaN from finite inputs, an
integer that wrapped), what the likely cause is.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .ir.graph import Op
from .ir.types import DType
from .registry import ELEMENTWISE, ORDER_INDEPENDENT, REDUCTION

# Ops XLA implements with polynomial approximations (fast-math style) rather than correctly
# rounded library calls: a few ulps off numpy is normal for them.
TRANSCENDENTAL = frozenset({"exp", "expm1", "log", "log1p", "logistic", "tanh", "sin", "cos",
                            "tan", "atan2", "power", "erf", "rsqrt", "sqrt"})
# Ops that add up many products or terms whose order XLA chooses (besides the float REDUCTIONs):
# their rounding error scales with the terms' magnitude, not with the result's.
_ACCUMULATING = frozenset({"dot_general", "convolution", "cumsum", "cumprod", "segment_sum"})
# Default (rtol, atol) per float dtype: a few hundred ulps, so approximations pass by default.
_TOLERANCES = {"f64": (1e-9, 1e-12), "f32": (1e-5, 1e-6), "f16": (1e-2, 1e-3),
               "bf16": (2e-2, 1e-2)}
MAX_APPROX_ULPS = 64  # beyond this an approximation is not the explanation
REASSOCIATION_FACTOR = 2.0  # error <= factor * eps * n * magnitude: reordered sums explain it


def default_tolerances(dtype: DType) -> tuple[float, float]:
    """(rtol, atol) for comparing values of `dtype` (0, 0 for exact dtypes)."""
    return _TOLERANCES.get(dtype.short, (0.0, 0.0)) if dtype.is_floating else (0.0, 0.0)


def _floats(a: np.ndarray) -> np.ndarray:
    return np.asarray(a).astype(np.float64)


def is_float(a: Any) -> bool:
    """Whether an array holds floats (bfloat16 too, whose numpy kind is "V")."""
    dt = np.asarray(a).dtype
    return dt.kind == "f" or dt.name in ("bfloat16", "float8_e4m3fn", "float8_e5m2")


@dataclass(frozen=True)
class Closeness:
    """How two results of one value compare."""

    ok: bool
    max_abs: float  # largest |got - want| over finite pairs
    max_rel: float  # largest |got - want| / scale over finite pairs
    worst: tuple | None  # index of the element with the largest scaled error
    special_mismatch: bool  # NaN/Inf where the other result has something else


def closeness(want: np.ndarray, got: np.ndarray, rtol: float, atol: float,
              scale: np.ndarray | None = None) -> Closeness:
    """|got - want| <= atol + rtol * scale elementwise (scale defaults to |want|); NaN equals
    NaN and infinities must match exactly; non-floats must be equal."""
    want, got = np.asarray(want), np.asarray(got)
    if want.shape != got.shape:
        return Closeness(False, float("inf"), float("inf"), None, False)
    if not is_float(want):
        bad = want != got
        if not bad.any():
            return Closeness(True, 0.0, 0.0, None, False)
        diff = np.abs(_floats(want) - _floats(got))
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(np.where(bad, diff, -1)),
                                                       want.shape))
        return Closeness(False, float(diff.max()), float("inf"), worst, False)
    w, g = _floats(want), _floats(got)
    s = np.abs(w) if scale is None else np.maximum(_floats(scale), np.abs(w))
    finite = np.isfinite(w) & np.isfinite(g)
    special = ~finite & ~((np.isnan(w) & np.isnan(g)) | (w == g))
    with np.errstate(all="ignore"):
        diff = np.where(finite, np.abs(w - g), 0.0)
        rel = np.where(finite, diff / np.where(s > 0, s, np.inf), 0.0)
        rel = np.where(finite & (s == 0) & (diff > 0), np.inf, rel)
        bad = special | (diff > atol + rtol * s)
    score = np.where(special, np.inf, np.where(bad, diff + 1, 0) + rel)
    worst = (tuple(int(i) for i in np.unravel_index(np.argmax(score), w.shape))
             if bad.any() else None)
    return Closeness(not bad.any(), float(diff.max(initial=0.0)), float(rel.max(initial=0.0)),
                     worst, bool(special.any()))


# ---------------------------------------------------------------- accumulation
def is_accumulating(op: Op) -> bool:
    """An op whose float result sums many terms in an order XLA picks."""
    if op.name == "reduce_window":
        return op.attr_dict.get("computation") == "sum"
    traits = op.opdef.traits
    return op.name in _ACCUMULATING or (REDUCTION in traits and ORDER_INDEPENDENT not in traits)


def accumulation_magnitude(op: Op, ins: list) -> np.ndarray | None:
    """The op's reference over |inputs|: the magnitude of the terms each result adds up, the
    scale its rounding error is measured against (a cancelling sum has a tiny result but not
    tiny errors)."""
    if not is_accumulating(op) or not ins or not is_float(ins[0]):
        return None
    absd = [np.abs(x) if is_float(x) else x for x in ins]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.abs(_floats(op.opdef.reference(*absd, **op.attr_dict)))
    except Exception:  # noqa: BLE001  (a diagnostic: without it we use |result|)
        return None


def accumulated_terms(op: Op, ins: list, out: np.ndarray) -> int:
    """About how many terms one result element adds up."""
    a = op.attr_dict
    if op.name == "dot_general":
        return max(1, int(np.prod([ins[0].shape[d] for d in a["lhs_contract"]])))
    if op.name == "cumsum" or op.name == "cumprod":
        return max(1, ins[0].shape[a["axis"]])
    if op.name == "reduce_window":
        return max(1, int(np.prod(a["window_dimensions"])))
    if op.name == "convolution":  # kernel elements per output feature (an upper bound)
        return max(1, ins[1].size // max(1, min(ins[1].shape)))
    return max(1, ins[0].size // max(1, np.asarray(out).size))


def _eps(a: np.ndarray) -> float:
    return float(np.finfo(np.asarray(a).dtype).eps) if np.asarray(a).dtype.kind == "f" \
        else 2.0 ** -7  # bfloat16


def _ulps(want: np.ndarray, got: np.ndarray) -> float:
    """The largest |got - want| in units of the last place of `want` in its own dtype."""
    w = np.asarray(want)
    dt = w.dtype if w.dtype.kind == "f" else np.dtype(np.float32)
    wf, gf = _floats(w), _floats(got)
    finite = np.isfinite(wf) & np.isfinite(gf)
    if not finite.any():
        return 0.0
    spacing = np.spacing(np.abs(wf[finite]).astype(dt)).astype(np.float64)
    return float(np.max(np.abs(wf[finite] - gf[finite]) / spacing))


# ---------------------------------------------------------------- hazards
def index_hazard(op: Op, ins: list) -> str | None:
    """An index outside its range, which compiled code clamps (or skips) where eager ops and
    numpy raise."""
    a = op.attr_dict
    if op.name == "dynamic_slice":
        return _start_hazard(ins[0].shape, ins[1:], a["sizes"])
    if op.name == "dynamic_update_slice":
        return _start_hazard(ins[0].shape, ins[2:], ins[1].shape)
    if op.name == "gather":
        x, idx = ins[0], ins[1]
        sizes = [n if s is None else s for s, n in zip(a["slice_sizes"], x.shape)]
        return _vector_hazard(x.shape, idx, a["index_vector_dim"], a["start_index_map"], sizes,
                              "XLA clamps the slice into range")
    if op.name == "scatter":
        x, idx, upd = ins
        window = [d for d in range(x.ndim)
                  if d not in a["inserted_window_dims"] + a["input_batching_dims"]]
        size = dict(zip(window, (upd.shape[d] for d in a["update_window_dims"])))
        sizes = [size.get(d, 1) for d in range(x.ndim)]
        return _vector_hazard(x.shape, idx, a["index_vector_dim"],
                              a["scatter_dims_to_operand_dims"], sizes,
                              "XLA skips those updates")
    if op.name == "case":
        k, n = int(ins[0]), len(a["branches"])
        if not 0 <= k < n:
            return f"branch index {k} is outside [0, {n - 1}]: XLA runs the last branch"
    return None


def _start_hazard(shape: tuple, starts: list, sizes: tuple) -> str | None:
    for axis, (s, d, n) in enumerate(zip(starts, shape, sizes)):
        s, hi = int(s), d - n
        if not 0 <= s <= hi:
            clamped = min(max(s, 0), hi)
            what = f"index {s} on axis {axis} of size {d}" if n == 1 else \
                f"start {s} of a size-{n} slice on axis {axis} of size {d}"
            return (f"clamped index: {what} is out of range (valid starts [0, {hi}]); XLA "
                    f"clamps it to {clamped}, where eager code and numpy raise an "
                    "out-of-range error")
    return None


def _vector_hazard(shape: tuple, idx: np.ndarray, ivd: int, dims: tuple, sizes: list,
                   effect: str) -> str | None:
    iv = idx[..., None] if ivd == idx.ndim else np.moveaxis(idx, ivd, -1)
    iv = iv.astype(np.int64)
    for j, d in enumerate(dims):
        col, hi = iv[..., j], shape[d] - sizes[d]
        bad = (col < 0) | (col > hi)
        if bad.any():
            first = int(col[bad].reshape(-1)[0])
            return (f"clamped index: {int(bad.sum())} index value(s) on operand axis {d} "
                    f"(size {shape[d]}) are out of range [0, {hi}], e.g. {first}; {effect}, "
                    "where eager code and numpy raise an out-of-range error")
    return None


_NAN_CAUSES = {
    "log": "log of a negative number", "log1p": "log1p of a number below -1",
    "sqrt": "sqrt of a negative number", "rsqrt": "rsqrt of a negative number",
    "power": "a negative base to a non-integer power (or 0 ** negative)",
    "divide": "0/0 or inf/inf", "multiply": "0 * inf", "add": "inf + -inf",
    "subtract": "inf - inf", "remainder": "a remainder by zero or of inf",
    "reduce_sum": "a sum of +inf and -inf", "dot_general": "inf * 0 or inf - inf in a sum",
    "sin": "sin of inf", "cos": "cos of inf", "tan": "tan of inf",
}


def nan_born(op: Op, ins: list, want: tuple, got: tuple) -> str | None:
    """'NaN born here' when no input holds a NaN but a float result does."""
    if any(is_float(x) and np.isnan(_floats(x)).any() for x in ins):
        return None
    for k, (w, g) in enumerate(zip(want, got)):
        if not is_float(w):
            continue
        wn, gn = np.isnan(_floats(w)), np.isnan(_floats(g))
        if not (wn.any() or gn.any()):
            continue
        where = "in both results" if wn.any() and gn.any() else \
            "only in XLA's result" if gn.any() else "only in the reference's result"
        at = tuple(int(i) for i in np.argwhere(wn | gn)[0])
        cause = _NAN_CAUSES.get(op.name, "from inputs free of NaN")
        return (f"NaN born here ({where}, output {k} at {list(at)}): {cause}"
                f"{_operands_at(op, ins, np.shape(w), at)}")
    return None


def _operands_at(op: Op, ins: list, shape: tuple, at: tuple) -> str:
    """', with x = -1.0' for an elementwise op: the operand values at one result index."""
    if ELEMENTWISE not in op.opdef.traits:
        return ""
    try:
        vals = [np.broadcast_to(x, shape)[at] for x in ins]
    except ValueError:
        return ""
    return ", with inputs " + ", ".join(repr(v.item()) for v in vals)


def integer_overflow(op: Op, ins: list, out: np.ndarray) -> str | None:
    """An integer result that wrapped: the op redone on Python ints (unbounded) disagrees."""
    out = np.asarray(out)
    if out.dtype.kind not in "iu":
        return None
    if op.name == "convert":
        x = ins[0]
        info = np.iinfo(out.dtype)
        with np.errstate(invalid="ignore"):
            bad = (_floats(x) > info.max) | (_floats(x) < info.min)
        if bad.any():
            v = np.asarray(x)[bad].reshape(-1)[0].item()
            return f"integer overflow: converting {v!r} to {out.dtype} is out of range"
        return None
    if ELEMENTWISE not in op.opdef.traits or not all(np.asarray(x).dtype.kind in "iu"
                                                     for x in ins):
        return None
    # int64 holds any result of two 32-bit operands exactly (cheap); wider ints need Python's
    wide_t = np.int64 if op.name != "power" and all(
        np.asarray(x).dtype.itemsize <= 4 for x in ins) else object
    try:
        wide = np.asarray(op.opdef.reference(*[np.asarray(x).astype(wide_t) for x in ins],
                                             **op.attr_dict)).astype(object)
        bad = np.broadcast_to(wide, out.shape) != out.astype(object)
    except Exception:  # noqa: BLE001  (a reference that needs fixed-width ints: no verdict)
        return None
    if not np.any(bad):
        return None
    at = tuple(int(i) for i in np.argwhere(bad)[0])
    return (f"integer overflow: {op.name}{_operands_at(op, ins, out.shape, at)} is "
            f"{np.broadcast_to(wide, out.shape)[at]} exactly, which wraps to {out[at]} in "
            f"{out.dtype}")


# ---------------------------------------------------------------- causes of a mismatch
def mismatch_cause(op: Op, ins: list, want: np.ndarray, got: np.ndarray, c: Closeness,
                   magnitude: np.ndarray | None) -> str:
    """The likeliest reason XLA's result of `op` differs from the reference's."""
    if c.special_mismatch:
        return ("NaN/Inf in one result only: the edge case (overflow, 0 * inf, a pole) is "
                f"handled differently by XLA's {op.name} and numpy's")
    if not is_float(want):
        return (f"exact results differ (e.g. at {list(c.worst or ())}: reference "
                f"{np.asarray(want)[c.worst].item()!r}, XLA {np.asarray(got)[c.worst].item()!r}):"
                " the op's lowering and its numpy reference disagree")
    w, g = np.asarray(want), np.asarray(got)
    if magnitude is not None:
        n = accumulated_terms(op, ins, w)
        err = float(np.max(np.abs(_floats(w) - _floats(g)) / np.maximum(magnitude, 1e-300)))
        k = err / (_eps(w) * n)
        if k <= REASSOCIATION_FACTOR:
            return (f"float reassociation: XLA adds the ~{n} terms of each result in another "
                    f"order than the reference (error {err:.2g} of the terms' magnitude = "
                    f"{k:.2g}·eps·n); normal for float sums — loosen rtol, or accumulate in "
                    "float64 if it matters")
        return (f"accumulation error {k:.3g}·eps·n of the terms' magnitude ({n} terms): more "
                "than reordering a float sum explains; suspect the lowering")
    ulps = _ulps(w, g)
    tiny = np.finfo(w.dtype).tiny if w.dtype.kind == "f" else 1.2e-38
    if c.worst is not None and 0 < abs(float(w[c.worst])) < tiny and float(g[c.worst]) == 0:
        return ("denormal flushed to zero: the reference keeps a subnormal result that XLA's "
                "CPU code flushes to 0")
    if op.name in TRANSCENDENTAL and ulps <= MAX_APPROX_ULPS:
        return (f"approximate transcendental (fast-math): XLA evaluates {op.name} with a "
                f"polynomial approximation, {ulps:.3g} ulp from numpy's correctly rounded value")
    if ulps <= 2:
        return (f"rounding ({ulps:.3g} ulp): a fused multiply-add or a different rounding "
                "of intermediate results")
    return (f"no known cause ({ulps:.3g} ulp): the op's lowering and its numpy reference "
            "disagree — a bug in one of them")
