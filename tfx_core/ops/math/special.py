"""Special functions and inverse/hyperbolic trig (tf.math.lgamma, igamma, bessel_i0e, acos...)."""
from __future__ import annotations

import math
from typing import Any

from compiler.ops.special import binary as SB
from compiler.ops.special import decomposed as SD
from compiler.ops.special import incomplete as SI
from compiler.ops.special import unary as SU
from tfx_core.framework.operands import Tensor, bind, nary_operands, to_tensor
from tfx_core.ops.arguments import op_error
from tfx_core.ops.math_ops import abs as _abs
from tfx_core.ops.math_ops import exp, multiply, subtract
from tfx_core.ops.reduction_ops import reduce_sum

TensorLike = Any


def floating(name: str, *xs: Tensor) -> None:
    """TF's special functions take half, bfloat16, float and double tensors only."""
    for x in xs:
        if not x.dtype.is_floating:
            shown = ", ".join(str(t.type) for t in xs)
            raise op_error(name, f"expected floating tensors, got {shown}", TypeError)


def _unary(opdef, opname: str, doc: str, complex_ok: bool = False):
    def fn(x: TensorLike, name: str | None = None) -> Tensor:
        x = to_tensor(x, opname)
        if not (complex_ok and x.dtype.is_complex):  # (TF's trig kernels take complex too)
            floating(opname, x)
        return bind(opdef, x)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


def _nary(opdef, opname: str, doc: str, arity: int = 2):
    def fn(*args: TensorLike, name: str | None = None) -> Tensor:
        if len(args) != arity:
            raise op_error(opname, f"takes {arity} tensors, got {len(args)}", TypeError)
        xs = nary_operands(opname, *args)
        floating(opname, *xs)
        if len({t.dtype for t in xs}) > 1:
            shown = ", ".join(str(t.type) for t in xs)
            raise op_error(opname, f"operands must have one dtype, got {shown}", TypeError)
        return bind(opdef, *xs)

    fn.__name__ = fn.__qualname__ = opname
    fn.__doc__ = doc
    return fn


def _trig(opdef, opname: str, doc: str):
    return _unary(opdef, opname, doc, complex_ok=True)


acos = _trig(SU.acos_op, "acos", "Elementwise arccosine, NaN outside [-1, 1] (tf.math.acos).")
asin = _trig(SU.asin_op, "asin", "Elementwise arcsine, NaN outside [-1, 1] (tf.math.asin).")
atan = _trig(SU.atan_op, "atan", "Elementwise arctangent (tf.math.atan).")
acosh = _trig(SU.acosh_op, "acosh", "Elementwise inverse hyperbolic cosine (tf.math.acosh).")
asinh = _trig(SU.asinh_op, "asinh", "Elementwise inverse hyperbolic sine (tf.math.asinh).")
atanh = _trig(SU.atanh_op, "atanh", "Elementwise inverse hyperbolic tangent (tf.math.atanh).")
sinh = _trig(SU.sinh_op, "sinh", "Elementwise hyperbolic sine (tf.math.sinh).")
cosh = _trig(SU.cosh_op, "cosh", "Elementwise hyperbolic cosine (tf.math.cosh).")
lgamma = _unary(SU.lgamma_op, "lgamma", "log|Gamma(x)|; inf at the poles (tf.math.lgamma).")
digamma = _unary(SU.digamma_op, "digamma",
                 "The derivative of lgamma; NaN at the poles (tf.math.digamma).")
erfc = _unary(SU.erfc_op, "erfc", "The complementary error function 1 - erf(x) (tf.math.erfc).")
erfinv = _unary(SU.erf_inv_op, "erfinv", "The inverse of erf on [-1, 1] (tf.math.erfinv).")
ndtri = _unary(SD.ndtri_op, "ndtri",
               "The standard normal quantile: the inverse of ndtr on [0, 1] (tf.math.ndtri).")
bessel_i0e = _unary(SD.bessel_i0e_op, "bessel_i0e",
                    "exp(-|x|) * I0(x), the scaled modified Bessel function of order 0.")
bessel_i1e = _unary(SU.bessel_i1e_op, "bessel_i1e",
                    "exp(-|x|) * I1(x), the scaled modified Bessel function of order 1.")
polygamma = _nary(SB.polygamma_op, "polygamma",
                  "The n-th derivative of digamma, polygamma(a, x) (tf.math.polygamma).")
zeta = _nary(SB.zeta_op, "zeta", "The Hurwitz zeta function zeta(x, q) (tf.math.zeta).")
nextafter = _nary(SB.next_after_op, "nextafter",
                  "The next representable value after x1 toward x2 (tf.math.nextafter).")
igamma = _nary(SI.igamma_op, "igamma",
               "The regularized lower incomplete gamma function P(a, x) (tf.math.igamma).")
igammac = _nary(SI.igammac_op, "igammac",
                "The regularized upper incomplete gamma function Q(a, x) (tf.math.igammac).")
betainc = _nary(SI.betainc_op, "betainc",
                "The regularized incomplete beta function I_x(a, b), betainc(a, b, x).", arity=3)


def erfcinv(x: TensorLike, name: str | None = None) -> Tensor:
    """The inverse of erfc on [0, 2]: -ndtri(x / 2) / sqrt(2), as TF defines it."""
    x = to_tensor(x, "erfcinv")
    floating("erfcinv", x)
    half = to_tensor(0.5, "erfcinv", x.dtype)
    return multiply(bind(SD.ndtri_op, multiply(x, half)),
                    to_tensor(-1 / math.sqrt(2), "erfcinv", x.dtype))


def bessel_i0(x: TensorLike, name: str | None = None) -> Tensor:
    """The modified Bessel function I0: exp(|x|) * i0e(x), as TF computes it (NaN at +-inf)."""
    x = to_tensor(x, "bessel_i0")
    floating("bessel_i0", x)
    return multiply(exp(_abs(x)), bind(SD.bessel_i0e_op, x))


def bessel_i1(x: TensorLike, name: str | None = None) -> Tensor:
    """The modified Bessel function I1: exp(|x|) * i1e(x), as TF computes it (NaN at +-inf)."""
    x = to_tensor(x, "bessel_i1")
    floating("bessel_i1", x)
    return multiply(exp(_abs(x)), bind(SU.bessel_i1e_op, x))


def lbeta(x: TensorLike, name: str | None = None) -> Tensor:
    """log|B(x)| over the last axis: sum(lgamma(x)) - lgamma(sum(x)) (tf.math.lbeta); an empty
    last axis gives -inf, as TF."""
    x = to_tensor(x, "lbeta")
    floating("lbeta", x)
    if x.shape.rank == 0:
        raise op_error("lbeta", f"expected a tensor of rank >= 1, got {x.type}")
    return subtract(reduce_sum(bind(SU.lgamma_op, x), axis=-1),
                    bind(SU.lgamma_op, reduce_sum(x, axis=-1)))


__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "bessel_i0", "bessel_i0e", "bessel_i1",
    "bessel_i1e", "betainc", "cosh", "digamma", "erfc", "erfcinv", "erfinv", "igamma",
    "igammac", "lbeta", "lgamma", "ndtri", "nextafter", "polygamma", "sinh", "zeta",
]
