"""Documented, legitimate differences from the references and between modes, as masks.

Every excused element is counted by reason in the run's summary ("ref:<reason>" in the eager
reference checks, "cross:<reason>" between a compiled mode and eager), so a tolerance that
starts hiding too much shows up. Each reason is pinned by a case in
differential_regressions.json.

ftz           XLA:CPU runs with flush-to-zero and denormals-are-zero: float32/float64/bfloat16
              subnormal operands act as (signed) zero, subnormal results become zero (pow and a
              few others compute garbage from them); ops that only move data keep them.
              float16 is computed in float32, where its subnormals are normal: never flushed.
              Across modes: numpy (constant folding) never flushes.
overflow      Accumulations (sums, products, scans, matmul, variance, norms) whose partials can
              leave the dtype's range: the references accumulate in float64, XLA in the dtype
              (float32 for float16/bfloat16) in its own order, so an intermediate overflow (inf,
              then inf - inf = NaN) or underflow may happen in one and not the other.
conditioning  Elements with a condition number above 16: their float64 reference moves beyond
              the tolerance when the operands move by rtol / 16; a composite rounding inside,
              in the operands' dtype, cannot match it (differential_checks.ill_conditioned).
floordiv      tfx (like TF) computes float x // y as floor(x / y); the table's reference
              np.floor_divide follows Python: NaN for +-inf // y, -1 for -1 // inf, 9 for
              1 // 0.1 (where x / y rounds up to an integer). A table-reference gap.
unstable      Across modes: elements a few-ulp nudge of every intermediate moves beyond the
              tolerance (fused kernels round differently: float16/bfloat16 kept in float32,
              XLA reassociates constant additions, (x + 1e4) - 1e4 becomes x), see
              differential_compare.py.
fma           Across compiled modes: XLA:CPU contracts a * b + c into an FMA in fused kernels,
              so a product that overflows when rounded (eager) may not (compiled), and x * c -
              max(x * c) leaves the product's rounding residue (exp of it: inf).
zero_sign     Across modes: XLA's simplifier does not keep the sign of zero (x + 0.0 is x, also
              for -0.0), and a sum of zeros is -0.0 or +0.0 depending on where the accumulator
              starts; values computed from such zeros (1 / x) are left out too.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from .differential_values import is_float

_FLUSHED = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(ml_dtypes.bfloat16))

SUM_LIKE = {"reduce_sum", "reduce_mean", "cumsum", "nn.softmax", "nn.log_softmax",
            "reduce_logsumexp"}
SQUARE_SUM = {"reduce_variance", "reduce_std"}
PROD_LIKE = {"reduce_prod", "cumprod", "cumprod_int_wraps"}
FLOORDIV = {"floordiv", "floor_div", "op_floordiv", "scalar_floordiv"}


def flush(a):
    """`a` with float32/float64/bfloat16 subnormals replaced by zeros of the same sign."""
    if isinstance(a, np.generic):  # a 0-d quotient comes back as a numpy scalar
        a = np.asarray(a)
    if not isinstance(a, np.ndarray) or a.dtype not in _FLUSHED or a.size == 0:
        return a
    tiny = float(ml_dtypes.finfo(a.dtype).tiny)
    w = a.astype(np.float64)
    sub = (w != 0) & (np.abs(w) < tiny)
    if not sub.any():
        return a
    return np.where(sub, np.copysign(0.0, w), w).astype(np.float32).astype(a.dtype) \
        if a.dtype == ml_dtypes.bfloat16 else np.where(sub, np.copysign(0.0, w), w).astype(a.dtype)


def has_subnormals(args) -> bool:
    return any(flush(a) is not a for a in args if isinstance(a, np.ndarray))


def _reduced(fn, x: np.ndarray, kwargs: dict, name: str) -> np.ndarray:
    """`fn` (a float64 ufunc reduce over |x| or log terms) over the axes `name` reduces,
    broadcast back to the result's shape when that is known (scans: the whole axis)."""
    if name.startswith("cum"):
        ax = kwargs.get("axis", 0)
        return np.broadcast_to(fn(x, axis=ax, keepdims=True), x.shape)
    if name.startswith("nn."):
        ax = kwargs.get("axis", -1)
        return np.broadcast_to(fn(x, axis=ax, keepdims=True), x.shape)
    axis = kwargs.get("axis")
    axes = tuple(range(x.ndim)) if axis is None else tuple(
        a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else [axis]))
    return fn(x, axis=axes, keepdims=bool(kwargs.get("keepdims", False)))


def overflow_risk(name: str, args: list, kwargs: dict, out_shape: tuple) -> np.ndarray | None:
    """Result elements whose partial results may leave the input dtype's range."""
    x = args[0] if args and isinstance(args[0], np.ndarray) else None
    if x is None or not is_float(x.dtype) or x.size == 0:
        return None
    info = ml_dtypes.finfo(x.dtype)
    big, tiny = float(info.max) / 4, float(info.tiny) * 4
    with np.errstate(all="ignore"):
        w = np.abs(x.astype(np.float64))
        w = np.where(np.isfinite(w), w, 0.0)  # inf and NaN give the same in every order
        if name in SUM_LIKE | SQUARE_SUM:
            w = w * w if name in SQUARE_SUM else w
            if name in ("nn.softmax", "nn.log_softmax", "reduce_logsumexp"):
                w = w * 0 + (np.max(w) > big)  # the shift by the max can overflow
            risk = _reduced(np.sum, w, kwargs, name) > big
        elif name in PROD_LIKE:
            lg = np.log2(np.where(w > 0, w, 1.0))
            hi = _reduced(np.sum, np.maximum(lg, 0), kwargs, name)
            lo = _reduced(np.sum, np.minimum(lg, 0), kwargs, name)
            risk = (hi > np.log2(big)) | (lo < np.log2(tiny))
        elif name == "nn.l2_normalize":  # x * rsqrt(sum(x * x)): the squares overflow
            axis = kwargs.get("axis")
            axes = tuple(range(x.ndim)) if axis is None else tuple(
                a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else [axis]))
            risk = np.broadcast_to(np.sum(w * w, axis=axes, keepdims=True) > big, x.shape)
        elif name == "norm" and kwargs.get("ord", 2) not in (np.inf, float("inf")):
            p = 2.0 if kwargs.get("ord") in (None, "euclidean", "fro") else float(kwargs["ord"])
            kw = {"axis": kwargs.get("axis"), "keepdims": kwargs.get("keepdims", False)}
            risk = _reduced(np.sum, w ** p, kw, name) > big  # |x|**p overflows first
        elif name == "matmul" and len(args) > 1:
            a, b = w, np.abs(np.nan_to_num(args[1].astype(np.float64), posinf=0, neginf=0))
            if kwargs.get("transpose_a") or kwargs.get("adjoint_a"):
                a = np.swapaxes(a, -1, -2)
            if kwargs.get("transpose_b") or kwargs.get("adjoint_b"):
                b = np.swapaxes(b, -1, -2)
            risk = np.matmul(a, b) > big
        else:
            return None
    risk = np.asarray(risk)
    return risk if risk.shape == tuple(out_shape) else np.ones(out_shape, bool)


def floordiv_gap(name: str, args: list, kwargs: dict) -> np.ndarray | None:
    """Elements where floor(x / y) (tfx, TF) and np.floor_divide (the table) differ."""
    if name not in FLOORDIV:
        return None
    x = args[0]
    y = args[1] if len(args) > 1 else 2  # scalar_floordiv is x // 2
    if not is_float(x.dtype):
        return None
    calc = np.float32 if x.dtype.itemsize < 4 else x.dtype  # float16/bfloat16 in float32
    with np.errstate(all="ignore"):
        xx = x.astype(calc)
        yy = np.asarray(y).astype(calc)
        b = np.floor_divide(xx, yy).astype(x.dtype).astype(np.float64)
        gap = np.zeros(np.shape(b), bool)
        for q in (xx / yy, flush(xx / yy)):  # the quotient may be a (flushed) subnormal
            a = np.floor(q).astype(x.dtype).astype(np.float64)
            gap |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
    return gap


# ---------------------------------------------------------------- reference gaps (masks)
def reciprocal_undefined(args, kwargs):
    """The table's integer reciprocal_ref takes np.abs(x): for INT_MIN it overflows and the
    reference says 1 // INT_MIN is 1 (it is 0, as tfx computes)."""
    x = args[0]
    return x == np.iinfo(x.dtype).min if x.dtype.kind == "i" else None


def cast_undefined(args, kwargs):
    """float -> int of NaN, inf or out-of-range values: undefined in numpy (the table's
    reference); XLA saturates (NaN -> 0). Compared across modes only."""
    x, dt = args[0], kwargs["dtype"]
    if not is_float(x.dtype) or not dt.is_integer:
        return None
    info = np.iinfo(dt.np_dtype)
    w = np.trunc(x.astype(np.float64))
    return ~np.isfinite(w) | (w < info.min) | (w > info.max)
