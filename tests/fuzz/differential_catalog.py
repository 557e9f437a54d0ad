"""The fuzzer's ops: op-table entries whose calls can be chained, and how to pick their arguments.

Each FuzzOp names an op-table entry (its public function, numpy reference and tolerances are
the table's) and a `make(g, x)` that, given the primary operand `x` (a value of the program),
picks the other arguments: partners of a compatible dtype and shape (earlier values, or new
inputs), axes, shapes, flags. `make` returns None when the op does not apply to `x`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import tfx_core as tx
from tests.optable import all_entries

from .differential_excuse import cast_undefined, reciprocal_undefined

ENTRY = {e.name: e for e in all_entries()}
FUZZ_DTYPES = frozenset({"float32", "float64", "bfloat16", "float16", "int32", "int64", "bool",
                         "int8", "uint8"})
MAX_RESULT = 256  # elements per value: keeps references and eager compiles cheap
# ops that only move or copy values (XLA fuses and contracts straight through them)
MOVES = {"reshape", "transpose", "expand_dims", "squeeze", "broadcast_to", "tile", "reverse",
         "identity", "stop_gradient", "concat", "stack", "pad", "slice", "getitem", "split",
         "unstack", "gather", "op_pos"}


@dataclass
class Call:
    args: list
    kwargs: dict
    take: int | None = None


@dataclass
class FuzzOp:
    """`valid(args, kwargs)` (numpy values) rejects calls whose meaning differs by design
    (integer division by zero: eager raises, XLA returns -1). `undefined(args, kwargs)` is a
    mask of result elements the reference leaves undefined (compared across modes only)."""

    name: str
    make: Callable
    weight: float = 1.0
    valid: Callable | None = None
    undefined: Callable | None = None
    tol_arg: int = 0  # the argument whose dtype keys the table's tolerance (as in test_numerics)
    dtypes: frozenset = frozenset()

    @property
    def entry(self):
        return ENTRY[self.name]


OPS: list[FuzzOp] = []


def op(name: str, make: Callable, weight: float = 1.0, only: tuple = (), **kw) -> None:
    """Register entry `name`; its primary operand may have the table's dtypes (or `only`)."""
    dts = frozenset(only or (d.name for d in ENTRY[name].dtypes)) & FUZZ_DTYPES
    OPS.append(FuzzOp(name, make, weight, dtypes=dts, **kw))


# ---------------------------------------------------------------- makers
def unary(**choices):
    """x alone, plus keyword arguments drawn from `choices` (None: leave the default)."""

    def make(g, x):
        kw = {k: g.pick(v) for k, v in choices.items()}
        return Call([x.ref], {k: v for k, v in kw.items() if v is not None})

    return make


FLOAT_LITERALS = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, -2.5, float("inf"), float("-inf"),
                  float("nan"))
INT_LITERALS = (0, 1, -1, 2, 3, 7)


def literal(g, x):
    """A Python scalar for x's dtype (it adopts the dtype): identities the simplifiers
    rewrite (x * 1, x + -0.0, x / 2), and values that make rewrites wrong (inf, NaN, -0.0)."""
    if x.dt.is_bool:
        return g.pick([True, False])
    if x.dt.is_unsigned:  # TF refuses -1 as a uint8 (numpy compares it happily)
        return g.pick([v for v in INT_LITERALS if v >= 0])
    return g.pick(FLOAT_LITERALS if x.dt.is_floating else INT_LITERALS)


def binary(g, x):
    if g.coin(0.2):  # second: the table's references take a tensor first (truediv_ref)
        return Call([x.ref, literal(g, x)], {})
    y = g.partner(x).ref
    return Call([x.ref, y] if g.coin(0.7) else [y, x.ref], {})


def _where(g, x):
    cond = g.partner(x, dtype="bool")
    if g.coin(0.15):  # a Python scalar adopts x's dtype
        return Call([cond.ref, x.ref, True if x.dt.is_bool else 0], {})
    y = g.partner(x)
    return Call([cond.ref, x.ref, y.ref], {})


def _clip(g, x):
    if g.coin(0.4):
        lo, hi = sorted(g.pick([-2, -1, 0, 1, 2]) for _ in range(2))
        if x.dt.is_unsigned:
            lo, hi = abs(lo), abs(hi) + 1
        if x.dt.is_floating:
            lo, hi = float(lo) - 0.5, float(hi) + 0.25
        return Call([x.ref, lo, hi], {})
    return Call([x.ref, g.partner(x).ref, g.partner(x).ref], {})


def _cast(g, x):
    return Call([x.ref], {"dtype": tx.as_dtype(g.pick(sorted(FUZZ_DTYPES)))})


def _axis(g, x, allow_list=True):
    r = x.ndim
    c = g.rng.random()
    if c < 0.25 or r == 0:
        return None if c < 0.2 or r else []
    if c < 0.65 or not allow_list:
        a = int(g.rng.integers(r))
        return a - r if g.coin(0.3) else a
    k = int(g.rng.integers(1, r + 1))
    axes = [int(a) for a in g.rng.choice(r, k, replace=False)]
    return [a - r if g.coin(0.3) else a for a in axes]


def reduce(g, x):
    kw = {"axis": _axis(g, x)}
    if g.coin(0.5):
        kw["keepdims"] = g.coin(0.5)
    return Call([x.ref], kw)


def _one_axis(g, x):
    a = int(g.rng.integers(x.ndim))
    return a - x.ndim if g.coin(0.3) else a


def _argminmax(g, x):
    if x.ndim == 0:
        return None
    kw = {"axis": _one_axis(g, x)} if g.coin(0.8) else {}
    if x.shape[kw.get("axis", 0)] == 0:
        return None  # an empty axis has no arg-extremum (TF and numpy both refuse)
    if g.coin(0.5):
        kw["output_type"] = g.pick([tx.int32, tx.int64])
    return Call([x.ref], kw)


def _scan(g, x):
    if x.ndim == 0:
        return None
    return Call([x.ref], {"axis": _one_axis(g, x), "exclusive": g.coin(0.3),
                          "reverse": g.coin(0.3)})


def _softmax(g, x):
    if x.ndim == 0:
        return None
    return Call([x.ref], {"axis": _one_axis(g, x)} if g.coin(0.5) else {})


def _sort(g, x):
    if x.ndim == 0:
        return None
    kw = {"axis": _one_axis(g, x)} if g.coin(0.5) else {}
    if g.coin(0.5):
        kw["direction"] = g.pick(["ASCENDING", "DESCENDING"])
    return Call([x.ref], kw)


def _top_k(g, x):
    if x.ndim == 0:
        return None
    return Call([x.ref], {"k": int(g.rng.integers(0, x.shape[-1] + 1))}, take=0)


def _argsort(g, x):
    call = _sort(g, x)  # stable: ties (frequent on the value grid) have one right answer
    return None if call is None else Call(call.args, {**call.kwargs, "stable": True})


def _one_hot(g, x):
    # NOTE: always a dtype: without one the table's _one_hot_ref answers float64 (tfx: float32)
    kw = {"dtype": tx.as_dtype(g.pick(sorted(FUZZ_DTYPES)))}
    if g.coin(0.3):
        kw["axis"] = int(g.rng.integers(-1, x.ndim + 1))
    return Call([x.ref, int(g.rng.integers(1, 5))], kw)


# ---------------------------------------------------------------- linear algebra
def _matrix(make):
    def fn(g, x):
        return make(g, x) if x.ndim >= 2 else None

    return fn


def _band_part(g, x):
    return Call([x.ref, int(g.rng.integers(-1, 3)), int(g.rng.integers(-1, 3))], {})


def _diag_part(g, x):
    m, n = x.shape[-2:]  # TF wants -rows < k < cols (numpy allows any k: an empty diagonal)
    if not g.coin(0.4) or m == 0 or n == 0:
        return Call([x.ref], {})
    return Call([x.ref], {"k": int(g.rng.integers(-(m - 1), n))})


def _norm(g, x):
    kw = {}
    if g.coin(0.6):  # NOTE: ord=inf of an empty vector is -inf in tfx (the max of nothing,
        # as TF computes it), 0 in numpy: a reference gap, see differential_regressions.json
        kw["ord"] = g.pick([1, 2, 3] if 0 in x.shape else [1, 2, float("inf"), 3])
    if x.ndim and g.coin(0.6):
        kw["axis"] = _one_axis(g, x)
    if g.coin(0.3):
        kw["keepdims"] = True
    return Call([x.ref], kw)


def _l2_normalize(g, x):
    return Call([x.ref], {"axis": _one_axis(g, x)} if x.ndim and g.coin(0.7) else {})


def _einsum(g, x):
    """Transposes, diagonals and sums of x alone, or a contraction with a partner."""
    letters = "abcd"[:x.ndim]
    if not letters:
        return None
    if g.coin(0.4):
        k = x.shape[-1]
        y = g.partner(x, shape=(k, g.pick([1, 2, 3])))
        return Call([f"{letters},{letters[-1]}z->{letters[:-1]}z", x.ref, y.ref], {})
    out = "".join(c for c in g.rng.permutation(list(letters)) if g.coin(0.7))
    return Call([f"{letters}->{out}", x.ref], {})


# ---------------------------------------------------------------- shape ops
def _factor(g, n: int) -> list[int]:
    """A random shape with n elements (rank 0..3)."""
    if n == 0:
        return g.pick([[0], [0, 3], [2, 0], [1, 0, 2]])
    dims, rest = [], n
    for _ in range(int(g.rng.integers(0, 3))):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = g.pick(divs)
        dims.append(d)
        rest //= d
    dims.append(rest)
    if n == 1 and g.coin(0.3):
        return []
    return [int(d) for d in g.rng.permutation(dims)]


def _reshape(g, x):
    shape = _factor(g, x.size)
    if shape and x.size and g.coin(0.3):
        shape[int(g.rng.integers(len(shape)))] = -1
    return Call([x.ref, tuple(shape) if g.coin(0.5) else shape], {})


def _transpose(g, x):
    if g.coin(0.2):
        return Call([x.ref], {})
    return Call([x.ref, [int(p) for p in g.rng.permutation(x.ndim)]], {})


def _expand_dims(g, x):
    return Call([x.ref, int(g.rng.integers(-x.ndim - 1, x.ndim + 1))], {})


def _squeeze(g, x):
    ones = [i for i, d in enumerate(x.shape) if d == 1]
    if not ones or g.coin(0.3):
        return Call([x.ref], {})
    return Call([x.ref, [i - x.ndim if g.coin(0.3) else i for i in ones
                         if g.coin(0.7)] or [ones[0]]], {})


def _broadcast_to(g, x):
    lead = [g.pick([1, 2, 3]) for _ in range(int(g.rng.integers(0, 2)))]
    shape = lead + [g.pick([2, 3]) if d == 1 and g.coin(0.5) else d for d in x.shape]
    return Call([x.ref, shape], {})


def _tile(g, x):
    return Call([x.ref, [g.pick([1, 1, 2, 3, 0]) for _ in x.shape]], {})


def _reverse(g, x):
    return Call([x.ref, [a for a in range(x.ndim) if g.coin(0.5)]], {})


def _concat(g, x):
    if x.ndim == 0:
        return None
    ax = _one_axis(g, x)
    shape = list(x.shape)
    shape[ax] = g.pick([0, 1, 2, 3])
    parts = [x.ref, g.partner(x, shape=tuple(shape)).ref]
    if g.coin(0.3):
        parts.append(x.ref)  # the same value twice
    return Call([parts[i] for i in g.rng.permutation(len(parts))], {"axis": ax})


def _stack(g, x):
    parts = [x.ref, g.partner(x, shape=x.shape).ref][:int(g.rng.integers(1, 3))]
    return Call(parts, {"axis": int(g.rng.integers(-x.ndim - 1, x.ndim + 1))})


def _pad(g, x):
    pads = [[g.pick([0, 0, 1, 2]), g.pick([0, 1])] for _ in x.shape]
    if g.coin(0.5):
        v = True if x.dt.is_bool else g.pick([1, 5, -1] if not x.dt.is_unsigned else [1, 5])
        v = float(v) - 0.5 if x.dt.is_floating else v
        return Call([x.ref, pads], {"constant_values": v})
    return Call([x.ref, pads], {})


def _slice(g, x):
    begin = [int(g.rng.integers(0, d + 1)) for d in x.shape]
    size = [int(g.rng.integers(0, d - b + 1)) if g.coin(0.7) else -1
            for b, d in zip(begin, x.shape)]
    return Call([x.ref, begin, size], {})


def _index(g, d: int):
    c = g.rng.random()
    if c < 0.3 and d > 0:
        i = int(g.rng.integers(0, d))
        return i - d if g.coin(0.4) else i
    if c < 0.4:
        return None  # tx.newaxis
    lo = g.pick([None, 0, 1, -1, -2, d + 1])
    hi = g.pick([None, 1, 2, -1, d])
    step = g.pick([None, None, 1, 2, -1, -2])
    return slice(lo, hi, step)


def _getitem(g, x):
    key = [_index(g, d) for d in x.shape if g.coin(0.8)]
    if g.coin(0.2):
        key.insert(int(g.rng.integers(0, len(key) + 1)), Ellipsis)
    return Call([x.ref, tuple(key) if len(key) != 1 or g.coin(0.5) else key[0]], {})


def _split(g, x):
    if x.ndim == 0:
        return None
    ax = _one_axis(g, x)
    d = x.shape[ax]
    if g.coin(0.5):
        n = g.pick([k for k in range(1, 4) if d % k == 0] or [1])
        return Call([x.ref, n], {"axis": ax}, take=int(g.rng.integers(n)))
    a = int(g.rng.integers(0, d + 1))
    sizes = [a, d - a] if g.coin(0.5) else [a, -1]
    return Call([x.ref, sizes], {"axis": ax}, take=int(g.rng.integers(2)))


def _unstack(g, x):
    if x.ndim == 0:
        return None
    ax = _one_axis(g, x)
    if x.shape[ax] == 0:
        return None
    return Call([x.ref], {"axis": ax}, take=int(g.rng.integers(x.shape[ax])))


def _gather(g, x):
    if x.ndim == 0:
        return None
    ax = _one_axis(g, x)
    d = x.shape[ax]
    if d == 0:
        return None
    shape = g.pick([(), (2,), (3,), (2, 2)])
    idx = g.new_input(shape, g.pick(["int32", "int64"]), low=0, high=d - 1)
    return Call([x.ref, idx.ref], {"axis": ax})


# ---------------------------------------------------------------- matmul, bias_add
def _matmul(g, x):
    if x.ndim < 2:
        return None
    ta, tb = g.coin(0.25), g.coin(0.25)
    k = x.shape[-2] if ta else x.shape[-1]
    n = g.pick([1, 2, 3, 4])
    batch = g.pick([(), x.shape[:-2], tuple(1 for _ in x.shape[:-2])])
    y = g.partner(x, shape=(*batch, *((n, k) if tb else (k, n))))
    kw = {}
    if ta:
        kw["transpose_a"] = True
    if tb:
        kw["transpose_b"] = True
    return Call([x.ref, y.ref], kw)


def _bias_add(g, x):
    if x.ndim < 2:
        return None
    fmt = None
    if x.ndim in (3, 4) and g.coin(0.4):
        fmt = {3: "NCW", 4: "NCHW"}[x.ndim]
    c = x.shape[1] if fmt else x.shape[-1]
    b = g.partner(x, shape=(c,))
    return Call([x.ref, b.ref], {"data_format": fmt} if fmt else {})


# ---------------------------------------------------------------- validity / undefined masks
def _nonzero_int_divisor(args, kwargs) -> bool:
    x, y = args[0], args[1]
    ints = any(isinstance(a, np.ndarray) and a.dtype.kind in "iu" for a in (x, y))
    return not ints or bool(np.all(np.asarray(y) != 0))


def _nonzero_int(args, kwargs) -> bool:
    x = args[0]
    return x.dtype.kind not in "iu" or bool(np.all(x != 0))


# ---------------------------------------------------------------- the table
UNARY = ["exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid",
         "erf", "floor", "ceil", "round", "is_finite", "is_nan", "is_inf", "abs", "negative",
         "sign", "square", "invert", "logical_not", "op_neg", "op_abs", "op_invert", "op_pos",
         "nn.relu", "nn.relu6", "nn.elu", "nn.softplus", "scalar_add", "scalar_radd",
         "scalar_rmul", "scalar_rsub_float", "scalar_sub", "scalar_truediv", "scalar_rtruediv",
         "scalar_floordiv", "scalar_mod", "scalar_pow", "scalar_lt", "scalar_req", "scalar_and",
         "scalar_bool_or", "identity", "stop_gradient"]
BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "squared_difference", "atan2",
          "pow", "pow_int", "truediv", "divide", "bitwise_and", "bitwise_or", "bitwise_xor",
          "logical_and", "logical_or", "logical_xor", "equal", "not_equal", "less", "less_equal",
          "greater", "greater_equal", "op_add", "op_sub", "op_mul", "op_truediv", "op_pow",
          "op_pow_int", "op_lt", "op_le", "op_gt", "op_ge", "op_eq", "op_ne", "op_and", "op_or",
          "op_xor"]
INT_DIVISION = ["floordiv", "floor_div", "floormod", "mod", "op_floordiv", "op_mod"]
REDUCE = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_all", "reduce_any",
          "reduce_mean", "reduce_mean_int", "reduce_logsumexp", "reduce_variance", "reduce_std"]

for _n in UNARY:
    op(_n, unary(), weight=0.5 if _n.startswith(("scalar_", "op_")) else 1.0)
op("reciprocal", unary(), valid=_nonzero_int, undefined=reciprocal_undefined)
op("nn.leaky_relu", unary(alpha=[None, 0.01, 0.3]))
op("nn.gelu", unary(approximate=[None, True]))
op("nn.silu", unary(beta=[None, 1.5]))
op("cast", _cast, weight=2.0, undefined=cast_undefined)
for _n in BINARY:
    op(_n, binary, weight=0.5 if _n.startswith("op_") else 1.5)
for _n in INT_DIVISION:
    op(_n, binary, weight=0.7, valid=_nonzero_int_divisor)
op("where", _where, weight=2.0, tol_arg=1)
op("clip_by_value", _clip)
for _n in REDUCE:
    op(_n, reduce, weight=1.2)
op("argmax", _argminmax)
op("argmin", _argminmax)
op("cumsum", _scan)
op("cumprod", _scan)
op("cumprod_int_wraps", _scan, weight=0.3)
op("nn.softmax", _softmax)
op("nn.log_softmax", _softmax)
op("sort", _sort)
op("top_k", _top_k, weight=0.5)
op("reshape", _reshape, weight=1.5)
op("transpose", _transpose, weight=1.5)
op("expand_dims", _expand_dims)
op("squeeze", _squeeze)
op("broadcast_to", _broadcast_to)
op("tile", _tile)
op("reverse", _reverse)
op("concat", _concat, weight=1.5)
op("stack", _stack)
op("pad", _pad)
op("slice", _slice)
op("getitem", _getitem, weight=1.5)
op("split", _split, weight=0.7)
op("unstack", _unstack, weight=0.7)
op("gather", _gather)
op("argsort", _argsort, weight=0.5)
op("one_hot", _one_hot, weight=0.5, only=("int32", "int64", "int8", "uint8"))  # indices
op("linalg.band_part", _matrix(_band_part), weight=0.5)
op("linalg.diag_part", _matrix(_diag_part), weight=0.5)
op("linalg.trace", _matrix(lambda g, x: Call([x.ref], {})), weight=0.5)
op("norm", _norm, weight=0.7)
op("nn.l2_normalize", _l2_normalize, weight=0.5)
op("einsum", _einsum, weight=0.7, tol_arg=0)
op("matmul", _matmul, weight=1.5)
op("nn.bias_add", _bias_add)

OP = {o.name: o for o in OPS}
