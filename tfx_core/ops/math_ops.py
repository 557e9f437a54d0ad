"""Elementwise math, comparisons, logic, `where`, `cast` and `clip_by_value` (tf.math.*)."""
from __future__ import annotations

from typing import Any

import numpy as np

from compiler.interpreters import is_tracing, nothing_active
from compiler.ir.types import F32, F64, DType
from compiler.ops import bitwise as BW
from compiler.ops import cast as CA
from compiler.ops import elementwise as E
from compiler.ops import shape as S
from runtime.errors import InvalidArgumentError
from tfx_core.framework.eager import EAGER
from tfx_core.framework.operands import Tensor, binary_operands, bind, nary_operands, to_tensor
from tfx_core.ops.arguments import op_error
from tfx_core.ops.data_dependent_ops import where_indices

TensorLike = Any


_FAST_TABLES: list[dict] = []  # every unary op's eager fast-path table


def clear_fast_paths() -> None:
    """Forget the eager fast paths (enable_check_numerics must see every op)."""
    for table in _FAST_TABLES:
        table.clear()


def _unary(opdef, opname: str, doc: str):
    fast: dict = {}  # eager: input type -> (execute, handlers, out type, executable)
    _FAST_TABLES.append(fast)

    def fn(x: TensorLike, name: str | None = None) -> Tensor:
        if type(x) is Tensor and nothing_active():
            e = fast.get(x._type)
            if e is not None and x._buf is not None:
                try:
                    return Tensor(e[0]([x._buf]).consume_with_handlers(e[1])[0], e[2])
                except Exception:
                    pass  # let the executor raise its usual, named error
            out = bind(opdef, x)
            if x._buf is not None:
                entry = EAGER.unary_entry(opdef, x._type)
                if entry is not None:
                    fast[x._type] = entry
            return out
        return bind(opdef, x if type(x) is Tensor else to_tensor(x, opname))

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


def _binary(opdef, opname: str, doc: str):
    def fn(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
        if type(x) is Tensor and type(y) is Tensor:
            return bind(opdef, x, y)
        return bind(opdef, *binary_operands(opname, x, y))

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


# ---------------------------------------------------------------- 1:1 with an IR op
exp = _unary(E.exp_op, "exp", "Elementwise e**x (tf.math.exp).")
expm1 = _unary(E.expm1_op, "expm1", "Elementwise e**x - 1, accurate near 0 (tf.math.expm1).")
log = _unary(E.log_op, "log", "Elementwise natural logarithm (tf.math.log).")
log1p = _unary(E.log1p_op, "log1p", "Elementwise log(1 + x), accurate near 0 (tf.math.log1p).")
sqrt = _unary(E.sqrt_op, "sqrt", "Elementwise square root (tf.math.sqrt).")
rsqrt = _unary(E.rsqrt_op, "rsqrt", "Elementwise 1 / sqrt(x) (tf.math.rsqrt).")
sin = _unary(E.sin_op, "sin", "Elementwise sine (tf.math.sin).")
cos = _unary(E.cos_op, "cos", "Elementwise cosine (tf.math.cos).")
tan = _unary(E.tan_op, "tan", "Elementwise tangent (tf.math.tan).")
tanh = _unary(E.tanh_op, "tanh", "Elementwise hyperbolic tangent (tf.math.tanh).")
sigmoid = _unary(E.logistic_op, "sigmoid", "Elementwise 1 / (1 + e**-x) (tf.math.sigmoid).")
erf = _unary(E.erf_op, "erf", "Elementwise Gauss error function (tf.math.erf).")
floor = _unary(E.floor_op, "floor", "Elementwise floor (tf.math.floor).")
ceil = _unary(E.ceil_op, "ceil", "Elementwise ceiling (tf.math.ceil).")
is_finite = _unary(E.is_finite_op, "is_finite", "True where x is neither inf nor NaN.")
negative = _unary(E.neg_op, "negative", "Elementwise -x (tf.math.negative).")
_real_sign = _unary(E.sign_op, "sign", "Elementwise sign: -1, 0 or 1 (tf.math.sign).")


def sign(x: TensorLike, name: str | None = None) -> Tensor:
    """Elementwise sign: -1, 0 or 1 (tf.math.sign); z / |z| (0 at 0) for complex z, which
    differentiates as that quotient (TF: div_no_nan(z, |z|))."""
    x = x if isinstance(x, Tensor) else to_tensor(x, "sign")
    if not x.dtype.is_complex:
        return _real_sign(x)
    mag = bind(E.complex_abs_op, x)
    zero = to_tensor(0, "sign", mag.dtype)
    is_zero = bind(E.compare_op, mag, zero, direction="EQ")
    safe = bind(E.select_op, is_zero, to_tensor(1, "sign", mag.dtype), mag)
    unit = bind(E.div_op, x, bind(CA.convert_op, safe, dtype=x.dtype))
    return bind(E.select_op, is_zero, to_tensor(0, "sign", x.dtype), unit)

add = _binary(E.add_op, "add", "Elementwise x + y with broadcasting (tf.math.add).")
subtract = _binary(E.sub_op, "subtract", "Elementwise x - y with broadcasting (tf.math.subtract).")
multiply = _binary(E.mul_op, "multiply", "Elementwise x * y with broadcasting (tf.math.multiply).")
maximum = _binary(E.max_op, "maximum", "Elementwise max(x, y) (tf.math.maximum).")
minimum = _binary(E.min_op, "minimum", "Elementwise min(x, y) (tf.math.minimum).")
pow = _binary(E.pow_op, "pow", "Elementwise x ** y (tf.math.pow).")  # noqa: A001
atan2 = _binary(E.atan2_op, "atan2", "Elementwise arctangent of y / x (tf.math.atan2).")


def _compare(direction: str, opname: str, doc: str):
    def fn(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
        return bind(E.compare_op, *binary_operands(opname, x, y), direction=direction)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


equal = _compare("EQ", "equal", "Elementwise x == y (tf.math.equal).")
not_equal = _compare("NE", "not_equal", "Elementwise x != y (tf.math.not_equal).")
less = _compare("LT", "less", "Elementwise x < y (tf.math.less).")
less_equal = _compare("LE", "less_equal", "Elementwise x <= y (tf.math.less_equal).")
greater = _compare("GT", "greater", "Elementwise x > y (tf.math.greater).")
greater_equal = _compare("GE", "greater_equal", "Elementwise x >= y (tf.math.greater_equal).")


# ---------------------------------------------------------------- composites with TF semantics
def abs(x: TensorLike, name: str | None = None) -> Tensor:  # noqa: A001
    """Elementwise |x| (tf.math.abs); identity on unsigned integers; the (real) magnitude of
    complex numbers."""
    x = to_tensor(x, "abs")
    if x.dtype.is_complex:
        return bind(E.complex_abs_op, x)
    return x if x.dtype.is_unsigned else bind(E.abs_op, x)


def cast(x: TensorLike, dtype: Any, name: str | None = None) -> Tensor:
    """Convert to `dtype` (tf.cast): float -> int truncates; x -> bool is x != 0."""
    dt = DType.from_any(dtype)
    if not isinstance(x, Tensor):
        x = to_tensor(x, "cast") if getattr(x, "_as_tensor", None) is None else x._as_tensor()
    if x.dtype is dt:
        return x
    return bind(CA.convert_op, x, dtype=dt)


def _true_div_dtype(dt: DType) -> DType | None:
    # TF: int8/int16/uint8 -> float32, int32/int64 -> float64; floats and complex stay.
    if dt.is_inexact:
        return None
    if dt.is_bool:
        raise TypeError(f"truediv: bool tensors cannot be divided ({dt.name})")
    return F64 if dt.bits >= 32 else F32


def truediv(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x / y in floating point; integers convert first (int32/int64 -> float64) as in TF."""
    x, y = binary_operands("truediv", x, y)
    if x.dtype is y.dtype:
        target = _true_div_dtype(x.dtype)
        if target is not None:
            x, y = cast(x, target), cast(y, target)
    return bind(E.div_op, x, y)


divide = truediv


def _check_integer_divisor(opname: str, y: Tensor) -> None:
    """Eagerly, integer division by zero raises as in TF (XLA would quietly return -1 / x)."""
    if y._buf is None or is_tracing() or not y.dtype.is_integer:
        return
    if not y.numpy().all():
        from compiler.tracing import user_location

        where = user_location()
        raise InvalidArgumentError(
            None, None, f"{opname}: integer division by zero ({y.dtype.name} divisor "
            f"{y._type} holds 0){f' ({where})' if where else ''} [Op:{opname}]")


def _not_complex(opname: str, x: Tensor, y: Tensor) -> None:
    if x.dtype.is_complex or y.dtype.is_complex:  # TF has no kernel: there is no floor of z
        raise op_error(opname, f"expected real tensors, got {x.type} and {y.type}", TypeError)


def floordiv(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x // y rounding toward -inf (tf.math.floordiv), for floats and integers.

    Raises:
        tx.errors.InvalidArgumentError: eagerly, an integer divisor holding 0 (inside
            @tx.function XLA's rule applies: x // 0 is -1, as with tf.function(jit_compile)).
    """
    x, y = binary_operands("floordiv", x, y)
    _not_complex("floordiv", x, y)
    if x.dtype.is_floating:
        return floor(bind(E.div_op, x, y))
    _check_integer_divisor("FloorDiv", y)
    q = bind(E.div_op, x, y)
    if x.dtype.is_unsigned:
        return q
    r = bind(E.rem_op, x, y)
    zero = to_tensor(0, "floordiv", x.dtype)
    adjust = logical_and(not_equal(r, zero), not_equal(less(r, zero), less(y, zero)))
    return where(adjust, subtract(q, to_tensor(1, "floordiv", x.dtype)), q)


floor_div = floordiv


def floormod(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x % y with the sign of y, as Python (tf.math.floormod).

    Raises:
        tx.errors.InvalidArgumentError: eagerly, an integer divisor holding 0 (compiled: x).
    """
    x, y = binary_operands("floormod", x, y)
    _not_complex("floormod", x, y)
    _check_integer_divisor("FloorMod", y)
    r = bind(E.rem_op, x, y)
    if x.dtype.is_unsigned:
        return r
    zero = to_tensor(0, "floormod", x.dtype)
    adjust = logical_and(not_equal(r, zero), not_equal(less(r, zero), less(y, zero)))
    return where(adjust, add(r, y), r)


mod = floormod


def square(x: TensorLike, name: str | None = None) -> Tensor:
    """Elementwise x * x (tf.math.square)."""
    x = to_tensor(x, "square")
    return bind(E.mul_op, x, x)


def reciprocal(x: TensorLike, name: str | None = None) -> Tensor:
    """Elementwise 1 / x (tf.math.reciprocal)."""
    x = to_tensor(x, "reciprocal")
    return bind(E.div_op, to_tensor(1, "reciprocal", x.dtype), x)


def round(x: TensorLike, name: str | None = None) -> Tensor:  # noqa: A001
    """Round half to even (tf.math.round); identity on integers."""
    x = to_tensor(x, "round")
    return bind(E.round_op, x) if x.dtype.is_floating else x


def squared_difference(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """Elementwise (x - y)**2 (tf.math.squared_difference); complex: |x - y|**2 =
    (x - y) * conj(x - y), as TF's kernel, still of the complex dtype."""
    d = subtract(x, y)
    return bind(E.mul_op, d, bind(E.conj_op, d) if d.dtype.is_complex else d)


def _require_float(x: Tensor, name: str) -> None:
    if not x.dtype.is_floating:
        raise TypeError(f"{name}: expected a floating tensor, got {x.type}")


def is_nan(x: TensorLike, name: str | None = None) -> Tensor:
    """True where x is NaN (tf.math.is_nan)."""
    x = to_tensor(x, "is_nan")
    _require_float(x, "is_nan")
    return not_equal(x, x)


def is_inf(x: TensorLike, name: str | None = None) -> Tensor:
    """True where x is +inf or -inf (tf.math.is_inf)."""
    x = to_tensor(x, "is_inf")
    _require_float(x, "is_inf")
    return equal(bind(E.abs_op, x), to_tensor(float("inf"), "is_inf", x.dtype))


def _logical(opdef, opname: str, doc: str):
    def fn(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
        a, b = binary_operands(opname, x, y)
        for t in (a, b):
            if not t.dtype.is_bool:
                raise TypeError(f"{opname}: expected bool tensors, got {a.type} and {b.type}")
        return bind(opdef, a, b)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


logical_and = _logical(E.and_op, "logical_and", "Elementwise x AND y on bool tensors.")
logical_or = _logical(E.or_op, "logical_or", "Elementwise x OR y on bool tensors.")
logical_xor = _logical(E.xor_op, "logical_xor", "Elementwise x XOR y on bool tensors.")


def logical_not(x: TensorLike, name: str | None = None) -> Tensor:
    """Elementwise NOT on a bool tensor (tf.math.logical_not)."""
    x = to_tensor(x, "logical_not")
    if not x.dtype.is_bool:
        raise TypeError(f"logical_not: expected a bool tensor, got {x.type}")
    return bind(E.not_op, x)


def _bitwise(opdef, opname: str):
    def fn(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
        a, b = binary_operands(opname, x, y)
        if not a.dtype.is_integer:
            raise op_error(opname, f"expected integer tensors, got {a.type} and {b.type}",
                           TypeError)
        return bind(opdef, a, b)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = f"Elementwise {opname.split('_')[1].upper()} of the bits of integer tensors."
    return fn


bitwise_and = _bitwise(E.and_op, "bitwise_and")
bitwise_or = _bitwise(E.or_op, "bitwise_or")
bitwise_xor = _bitwise(E.xor_op, "bitwise_xor")


def invert(x: TensorLike, name: str | None = None) -> Tensor:
    """Flip every bit of an integer tensor (tf.bitwise.invert)."""
    x = to_tensor(x, "invert")
    if not x.dtype.is_integer:
        raise op_error("invert", f"expected an integer tensor, got {x.type}", TypeError)
    return bind(E.not_op, x)


# ---------------------------------------------------------------- complex numbers
def complex(real: TensorLike, imag: TensorLike, name: str | None = None) -> Tensor:  # noqa: A001
    """real + i * imag (tf.complex): float32 parts give complex64, float64 complex128."""
    re, im = binary_operands("complex", real, imag)
    if re.dtype not in (F32, F64) or im.dtype is not re.dtype:
        raise TypeError(f"complex: real and imag must both be float32 or both float64, got "
                        f"{re.type} and {im.type}")
    return bind(E.complex_op, re, im)


def real(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """The real part (tf.math.real); a real tensor is returned as is."""
    x = to_tensor(input, "real")
    return bind(E.real_op, x) if x.dtype.is_complex else x


def imag(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """The imaginary part (tf.math.imag); zeros for a real tensor."""
    x = to_tensor(input, "imag")
    if x.dtype.is_complex:
        return bind(E.imag_op, x)
    zero = to_tensor(0, "imag", x.dtype)  # (x * 0 would keep NaN and make inf NaN)
    return bind(E.select_op, to_tensor(False, "imag"), x, zero)


def conj(x: TensorLike, name: str | None = None) -> Tensor:
    """The complex conjugate (tf.math.conj); a real numeric tensor is returned as is."""
    x = to_tensor(x, "conj")
    if x.dtype.is_bool:
        raise TypeError(f"conj: expected a numeric tensor, got {x.type}")
    return bind(E.conj_op, x) if x.dtype.is_complex else x


def angle(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """The argument atan2(imag, real) of complex numbers (tf.math.angle); for a real tensor
    pi where x < 0, else 0."""
    x = to_tensor(input, "angle")
    if x.dtype.is_complex:
        return bind(E.atan2_op, bind(E.imag_op, x), bind(E.real_op, x))
    if not x.dtype.is_floating:
        raise TypeError(f"angle: expected a floating or complex tensor, got {x.type}")
    zero = to_tensor(0, "angle", x.dtype)
    neg = bind(E.compare_op, x, zero, direction="LT")
    return bind(E.select_op, neg, to_tensor(np.pi, "angle", x.dtype), bind(E.mul_op, x, zero))


# ---------------------------------------------------------------- bits
def _shift(opdef, opname: str, doc: str):
    def fn(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
        a, b = binary_operands(opname, x, y)
        if not (a.dtype.is_integer and b.dtype is a.dtype):
            raise op_error(opname, f"expected integer tensors of one dtype, got {a.type} and "
                           f"{b.type}", TypeError)
        return bind(opdef, a, b)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


left_shift = _shift(BW.shift_left_op, "left_shift",
                    "x << y on integers (tf.bitwise.left_shift); as TF, y is clamped to "
                    "[0, bits - 1] and the result wraps.")
right_shift = _shift(BW.shift_right_op, "right_shift",
                     "x >> y on integers (tf.bitwise.right_shift): arithmetic for signed, logical "
                     "for unsigned dtypes; y is clamped to [0, bits - 1], as TF.")


def bitcast(input: TensorLike, type: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Reinterpret the bits as another dtype (tf.bitcast). Same size: same shape; a wider input
    gains a last dim of the size ratio; a narrower one must end in that dim, which goes."""
    x = to_tensor(input, "bitcast")
    dt = DType.from_any(type)
    if x.dtype is dt:
        return x
    for d in (x.dtype, dt):
        if d.is_bool:
            raise op_error("bitcast", f"cannot bitcast {x.type} to {dt.name}: {d.name} is not "
                           "supported (numeric dtypes only)", TypeError)
    if x.dtype.is_complex or dt.is_complex:
        return _complex_bitcast(x, dt)
    return bind(BW.bitcast_convert_op, x, dtype=dt)


def _complex_bitcast(x: Tensor, dt: DType) -> Tensor:
    """tf.bitcast to or from complex64/complex128 through bytes (XLA's bitcast_convert has no
    complex types): a complex element is its (real, imag) pair in memory order, as TF's."""
    if None in x.shape:
        raise op_error("bitcast", f"bitcasting complex tensors needs a static shape, got {x.type}")
    shape, bs, bt = tuple(x.shape), x.dtype.size, dt.size
    if bs < bt and (not shape or shape[-1] != bt // bs):
        raise op_error("bitcast", f"cannot bitcast {x.type} to {dt.name}: the last dimension "
                       f"must be {bt // bs} ({dt.name} is {bt} bytes, {x.dtype.name} {bs})")
    u8 = DType.from_any("uint8")

    def reshape(t: Tensor, dims: tuple) -> Tensor:
        return bind(S.reshape_op, t, shape=dims)

    if x.dtype.is_complex:  # (real, imag) pairs on a new last axis
        x = bind(S.concatenate_op, reshape(bind(E.real_op, x), (*shape, 1)),
                 reshape(bind(E.imag_op, x), (*shape, 1)), axis=len(shape))
    raw = bind(BW.bitcast_convert_op, x, dtype=u8) if x.dtype.size > 1 else x
    lead = (*shape, bs // bt) if bs > bt else shape[:-1] if bs < bt else shape
    raw = reshape(raw, (*lead, bt))  # one row of bytes per output element
    if not dt.is_complex:
        out = bind(BW.bitcast_convert_op, raw, dtype=dt)
        return reshape(out, lead) if bt == 1 else out
    part = dt.real_dtype
    pairs = bind(BW.bitcast_convert_op, reshape(raw, (*lead, 2, part.size)), dtype=part)
    k = len(lead)

    def half(i: int) -> Tensor:
        return reshape(bind(S.slice_op, pairs, begin=(None,) * k + (i,),
                            end=(None,) * k + (i + 1,), strides=(1,) * (k + 1)), lead)

    return bind(E.complex_op, half(0), half(1))


def _inward(bound, np_dtype: np.dtype, toward: float):
    """`bound` as a `np_dtype` scalar, stepped toward `toward` if rounding took it past
    (float32(int32 max) is 2**31, out of int32's range: 2147483520 is the largest inside)."""
    v = np.asarray(bound).astype(np_dtype)
    exact = v.item()  # a Python int or float: compares exactly with an int bound (numpy would
    bound = bound.item() if isinstance(bound, np.generic) else bound  # round it to float32)
    over = (exact > bound) if toward < bound else (exact < bound)
    return np.nextafter(v, np_dtype.type(toward)) if over else v


def _saturation_limits(src: DType, dst: DType) -> tuple:
    """(low, high) clamp values in `src`'s dtype keeping a cast to `dst` in range (None: no
    clamp needed)."""
    if src.is_bool:
        return None, None
    npd = src.np_dtype
    smin, smax, dmin, dmax = (np.asarray(v).item() for v in (src.min, src.max, dst.min, dst.max))
    lo = _inward(dmin, npd, np.inf) if smin < dmin else None
    hi = _inward(dmax, npd, -np.inf) if smax > dmax else None
    return lo, hi


def _clamp(x: Tensor, src: DType, dst: DType) -> Tensor:
    lo, hi = _saturation_limits(src, dst)
    if lo is not None:
        x = bind(E.max_op, x, to_tensor(lo, "saturate_cast", src))
    if hi is not None:
        x = bind(E.min_op, x, to_tensor(hi, "saturate_cast", src))
    return x


def saturate_cast(value: TensorLike, dtype: Any, name: str | None = None) -> Tensor:
    """Cast with the values first clamped to `dtype`'s range (tf.dtypes.saturate_cast); complex
    to complex clamps both parts, complex to real keeps the real part. NaN casts to 0 for
    integer dtypes (TF's x86 kernels give the integer minimum for 32/64-bit dtypes)."""
    dt = DType.from_any(dtype)
    x = to_tensor(value, "saturate_cast")
    src = x.dtype
    if src.is_complex:
        re, im = bind(E.real_op, x), bind(E.imag_op, x)
        if dt.is_complex:
            part, out_part = src.real_dtype, dt.real_dtype
            x = bind(E.complex_op, _clamp(re, part, out_part), _clamp(im, part, out_part))
            return cast(x, dt)
        x, src = re, src.real_dtype
    return cast(_clamp(x, src, dt.real_dtype), dt)


def where(condition: TensorLike, x: TensorLike = None, y: TensorLike = None,
          name: str | None = None) -> Tensor:
    """Pick x where condition is true, else y, with broadcasting (tf.where); with only
    `condition`, the coordinates of its true entries (data_dependent_ops.where_indices)."""
    if x is None and y is None:
        return where_indices(condition, name)
    if x is None or y is None:
        raise ValueError("where: x and y must both be given, or neither")
    cond = to_tensor(condition, "where")
    if not cond.dtype.is_bool:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.type}")
    a, b = binary_operands("where", x, y)
    return bind(E.select_op, cond, a, b)


def clip_by_value(t: TensorLike, clip_value_min: TensorLike, clip_value_max: TensorLike,
                  name: str | None = None) -> Tensor:
    """Clamp values to [clip_value_min, clip_value_max] (tf.clip_by_value)."""
    t, lo, hi = nary_operands("clip_by_value", t, clip_value_min, clip_value_max)
    return maximum(minimum(t, hi), lo)  # TF's order: with min > max every value becomes min


__all__ = [
    "abs", "add", "angle", "atan2", "bitcast", "bitwise_and", "bitwise_or", "bitwise_xor", "cast",
    "ceil", "clip_by_value", "complex", "conj", "cos", "divide", "equal", "erf", "exp", "expm1",
    "floor", "floor_div", "floordiv", "floormod", "greater", "greater_equal", "imag", "invert",
    "is_finite", "is_inf", "is_nan", "less", "less_equal", "log", "log1p", "logical_and",
    "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "mod", "multiply",
    "negative", "not_equal", "pow", "real", "reciprocal", "round", "rsqrt", "saturate_cast",
    "sigmoid", "sign", "sin", "sqrt", "square", "squared_difference", "subtract", "tan", "tanh",
    "truediv", "where",
]
