"""tfx bugs the fuzzer found, which the generator steers around so that new ones stand out.

Each has expected-failure regression cases in differential_regressions.json. Run
the CLI with --no-avoid-known to generate such calls again (e.g. to check a fix); remove a
predicate once its bug is fixed (as for the bfloat16 pow/remainder/cast and int64 cast folding
bugs, fixed by 3215852, and integer pow, float16 division, bfloat16 zero signs, pow at
+-0.5 and squeeze over unknown dims, fixed by 1e688cd), so that the fuzzer notices a relapse.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

_BF16 = np.dtype(ml_dtypes.bfloat16)

_DIVIDING = {"truediv", "divide", "op_truediv", "floordiv", "floor_div", "op_floordiv"}


def _arrays(args):
    return [a for a in args if isinstance(a, np.ndarray)]


# |y| beyond which 1 / y is not a normal number of y's dtype (XLA:CPU flushes subnormals)
# (float16 divides in float32 since 1e688cd: 1 / y no longer overflows there)
_RECIPROCAL_LIMITS = {"bfloat16": (0.0, 2.0 ** 126), "float32": (0.0, 2.0 ** 126),
                      "float64": (0.0, 2.0 ** 1022)}


def broadcast_divide(op: str, args: list, kwargs: dict) -> bool:
    """x / y with y broadcast: XLA rewrites it to x * broadcast(1 / y), eagerly and compiled;
    where 1 / y overflows (float16: |y| < 2**-16, 1e-4 / 1e-5 gives inf) or is subnormal and
    flushed to 0 (float32: |y| > 2**126, 8.5e37 / 3.4e38 gives 0, inf / 3.4e38 NaN)."""
    if op not in _DIVIDING or len(_arrays(args)) < 2:
        return False
    x, y = args[0], args[1]
    limits = _RECIPROCAL_LIMITS.get(str(getattr(y, "dtype", "")) if not _is_bf16(y)
                                    else "bfloat16")
    if limits is None:
        return False
    out = np.broadcast_shapes(np.shape(x), y.shape)
    w = np.abs(y.astype(np.float64))
    lo, hi = limits
    return y.shape != out and bool(np.any((w > 0) & ((w < lo) | ((w > hi) & np.isfinite(w)))))


def _second(args) -> np.ndarray:
    """The second operand as float64 (a Python scalar too)."""
    return np.asarray(args[1]).astype(np.float64)


def _is_bf16(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype == _BF16


_ZERO_SIGN_OPS = {"reduce_max", "reduce_min", "reduce_logsumexp", "nn.softmax",
                  "nn.log_softmax"}  # (the last three take a reduce_max)


def pred_multiply(op: str, args: list, kwargs: dict, ctx=None) -> bool:
    """Compiled only: XLA's simplifier turns convert(pred) * x into select(pred, x, 0), also
    through reshapes, transposes, broadcasts and bool -> int -> float casts, so 0 * inf and
    0 * NaN give 0 instead of NaN and 0 * -x gives +0.0 (float16/32/64; not bfloat16). A
    division by a broadcast y is first made a multiplication by 1 / y, so convert(pred) / y
    is hit too (0 / -7 gives +0.0, 0 / 0 gives 0)."""
    if ctx is None or len(args) != 2:
        return False
    if op in ("multiply", "op_mul"):
        pairs = ((0, 1), (1, 0))
    elif op in _DIVIDING:
        pairs = ((0, 1),)
    else:
        return False
    for k, other in pairs:
        y = np.asarray(args[other])
        if ctx.from_bool(k) and y.dtype != _BF16:
            w = y.astype(np.float64)
            if np.any(~np.isfinite(w) | np.signbit(w) | (op in _DIVIDING and w == 0)):
                return True
    return False


def matmul_unknown_batch(op: str, args: list, kwargs: dict) -> bool:
    """With a None-dim input_signature, matmul takes unknown batch dims as equal and skips
    the broadcast; batch dims 4 and 1 then fail at call time with compiler.registry's
    OpTypeError (tfx_core/ops/linalg_ops.py:_broadcast_batch)."""
    if op != "matmul" or len(args) != 2:
        return False
    a, b = (np.shape(x)[:-2] for x in args)
    if not a or not b:
        return False
    n = min(len(a), len(b))
    return len(a) != len(b) or any(p != q for p, q in zip(a[-n:], b[-n:]))


def exp_of_constant_nan(op: str, args: list, kwargs: dict) -> bool:
    """Compiled only: exp of a value XLA:CPU can prove NaN (x * nan, x / nan, x + nan with a
    NaN constant) returns garbage that changes from call to call (-1.2e-06, 3.1e-41, 5.2e14;
    float32/float16, not float64); eager and a runtime NaN give NaN."""
    return op == "exp" and args[0].size > 0 and bool(np.isnan(args[0].astype(np.float64)).all())


def log_exp_pow_identities(op: str, args: list, kwargs: dict, ctx=None) -> bool:
    """Compiled only: XLA's simplifier applies real-number identities that ignore overflow,
    underflow and NaN: log(exp(x)) -> x (log(exp(100)) is 100, eagerly inf),
    log(pow(a, b)) -> b * log(|a|) (log(pow(-2, 0.5)) is 0.3466, eagerly NaN),
    pow(pow(a, 2), 0.5) -> |a| (1e30: eagerly inf), pow(exp(a), b) -> exp(a * b)
    (pow(exp(inf), 0) is NaN, eagerly 1)."""
    if ctx is None:
        return False
    inner = ctx.producer(0)
    if inner is None:
        return False
    pows = ("pow", "op_pow", "scalar_pow")
    return (op == "log" and inner.op in (*pows, "exp")) or (
        op in ("pow", "op_pow") and inner.op in (*pows, "exp"))


def int_abs_of_square(op: str, args: list, kwargs: dict, ctx=None) -> bool:
    """Compiled only: XLA's simplifier drops abs() of a square as non-negative, also for
    integers, where x * x wraps: int8 abs(13 * 13) is -87 (eager 87)."""
    if op not in ("abs", "op_abs") or ctx is None or args[0].dtype.kind != "i":
        return False
    inner = ctx.producer(0)
    squares = ("square", "squared_difference", "scalar_pow", "multiply", "op_mul", "pow_int",
               "op_pow_int")
    return inner is not None and inner.op in squares and bool(np.any(args[0] < 0))


KNOWN = {
    "broadcast-divide": broadcast_divide,
    "exp-of-constant-nan": exp_of_constant_nan,
    "int-abs-of-square": int_abs_of_square,
    "log-exp-pow-identities": log_exp_pow_identities,
    "matmul-unknown-batch": matmul_unknown_batch,
    "pred-multiply": pred_multiply,
}
AVOID = [True]  # the CLI's --no-avoid-known clears it


_NEEDS_CONTEXT = {"pred-multiply", "log-exp-pow-identities", "int-abs-of-square"}


def known_bug(op: str, args: list, kwargs: dict, ctx=None) -> str | None:
    """The id of a known bug this call would hit, if the generator should avoid it. `ctx`
    knows the program: ctx.from_bool(k), whether argument k is a cast (possibly reshaped) of
    a bool tensor; ctx.producer(k), the Node that computed argument k (or None)."""
    if not AVOID[0]:
        return None
    for name, pred in KNOWN.items():
        try:
            hit = pred(op, args, kwargs, ctx) if name in _NEEDS_CONTEXT else \
                pred(op, args, kwargs)
            if hit:
                return name
        except Exception:  # a predicate must never break generation
            continue
    return None
