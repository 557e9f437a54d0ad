"""Op-table entries for complex64/complex128: tx.complex, real/imag/conj/angle/abs, and the
arithmetic, transcendental, reduction, matmul and layout ops on complex tensors."""
from __future__ import annotations

import numpy as np

import tfx_core as tx
from compiler.ir.types import DType

from . import OpInfo, Sample

C = (tx.complex64, tx.complex128)
CF = (tx.float32, tx.complex64, tx.complex128)  # ops that also take real tensors
_SHAPES = [(), (2, 3)]  # (empty tensors: the reduction samples)
_PAIRS = [((), (3,)), ((2, 1), (1, 4))]
_SKIP_GRAD = "complex gradients: tests/ops/test_complex.py checks them against TF 2.21"


def carg(rng, shape, dtype: DType, low=-2.0, high=2.0) -> np.ndarray:
    """Random values of `dtype`; complex ones get random real and imaginary parts."""
    if dtype.is_complex:
        re = rng.uniform(low, high, size=shape)
        im = rng.uniform(low, high, size=shape)
        return (re + 1j * im).astype(dtype.np_dtype)
    if dtype.is_integer:
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype.np_dtype)
    return np.asarray(rng.uniform(low, high, size=shape)).astype(dtype.np_dtype)


def _few(seq, dt: DType) -> list:
    """Every shape for complex64; the last one for the other dtypes (keeps the table fast)."""
    return list(seq) if dt is tx.complex64 else list(seq)[-1:]


def _unary_samples(low=-2.0, high=2.0):
    def samples(rng, dt):
        return [Sample((carg(rng, s, dt, low, high),)) for s in _few(_SHAPES, dt)]

    return samples


def _binary_samples(rng, dt):
    return [Sample((carg(rng, a, dt), carg(rng, b, dt))) for a, b in _few(_PAIRS, dt)]


def _div_samples(rng, dt):
    out = []
    for a, b in _few(_PAIRS, dt):
        y = carg(rng, b, dt, 0.5, 2.0) * np.exp(1j * rng.uniform(0, 6.28, size=b))
        out.append(Sample((carg(rng, a, dt), y.astype(dt.np_dtype))))
    return out


def _same(fn):
    """A numpy reference keeping the input dtype."""
    return lambda x, *rest: np.asarray(fn(x, *rest)).astype(x.dtype)


def _complex_ref(re, im):
    out = np.complex64 if re.dtype == np.float32 else np.complex128
    return (re.astype(out) + 1j * im.astype(out)).astype(out)


def _angle_ref(x):
    if x.dtype.kind == "c":
        return np.angle(x).astype(x.real.dtype)
    return np.where(x < 0, np.pi, 0.0).astype(x.dtype)


def _imag_ref(x):
    return np.imag(x).astype(x.real.dtype) if x.dtype.kind == "c" else np.zeros_like(x)


def _reduce_samples(rng, dt):
    return [Sample((carg(rng, (2, 3), dt),), {"axis": 1}), Sample((carg(rng, (4,), dt),)),
            Sample((carg(rng, (0, 2), dt),), {"axis": 0, "keepdims": True})]


def _reduce_ref(fn):
    def ref(x, axis=None, keepdims=False):
        with np.errstate(all="ignore"):
            return np.asarray(fn(x, axis=axis, keepdims=keepdims)).astype(x.dtype)

    return ref


def _cast_samples(rng, dt):
    return [Sample((carg(rng, (2, 3), dt),), {"dtype": to}) for to in
            (tx.float32, tx.float64, tx.int32, tx.complex64, tx.complex128, tx.bool)]


def _cast_ref(x, dtype):
    with np.errstate(all="ignore"):
        v = np.real(x) if x.dtype.kind == "c" and not dtype.is_complex else x
        if dtype.is_bool:
            return x != 0
        if dtype.is_integer:
            return np.trunc(v).astype(dtype.np_dtype)
        return np.asarray(v).astype(dtype.np_dtype)


def _matmul_samples(rng, dt):
    return [Sample((carg(rng, (2, 3), dt), carg(rng, (3, 4), dt))),
            Sample((carg(rng, (2, 3, 2), dt), carg(rng, (2, 3, 2), dt)), {"adjoint_a": True}),
            Sample((carg(rng, (3, 2), dt), carg(rng, (4, 2), dt)), {"adjoint_b": True})]


def _matmul_ref(a, b, adjoint_a=False, adjoint_b=False):
    a = np.conj(np.swapaxes(a, -1, -2)) if adjoint_a else a
    b = np.conj(np.swapaxes(b, -1, -2)) if adjoint_b else b
    return np.matmul(a.astype(np.complex128), b.astype(np.complex128)).astype(a.dtype)


def _layout_samples(rng, dt):
    return [Sample((carg(rng, (2, 3), dt), carg(rng, (9,), dt)))]


def _layout_fn(a, b):
    """transpose, reshape and concat of complex tensors in one entry."""
    return tx.concat([tx.transpose(a), tx.reshape(b, (3, 3))[:, :1]], axis=1)


def _layout_ref(a, b):
    return np.concatenate([a.T, b.reshape(3, 3)[:, :1]], axis=1)


def _entry(name, fn, ref, samples, dtypes=C, ops=(), **kw):
    kw.setdefault("grad", _SKIP_GRAD)
    return OpInfo(name, fn, ref, samples, dtypes, ops, **kw)


ENTRIES = [
    _entry("complex", tx.complex, _complex_ref, _binary_samples, (tx.float32, tx.float64),
           ("complex",)),
    _entry("real", tx.math.real, lambda x: np.real(x).astype(x.real.dtype), _unary_samples(),
           CF, ("real",)),
    _entry("imag", tx.math.imag, _imag_ref, _unary_samples(), CF, ("imag",)),
    _entry("conj", tx.math.conj, lambda x: np.conj(x), _unary_samples(), CF, ("conj",)),
    _entry("angle", tx.math.angle, _angle_ref, _unary_samples(), CF, ("atan2",),
           grad="kinks: angle is piecewise constant on real tensors"),
    _entry("abs_complex", tx.abs, lambda x: np.abs(x).astype(x.real.dtype), _unary_samples(),
           C, ("complex_abs",)),
    _entry("add_complex", tx.add, np.add, _binary_samples, ops=("add",)),
    _entry("subtract_complex", tx.subtract, np.subtract, _binary_samples, ops=("subtract",)),
    _entry("multiply_complex", tx.multiply, np.multiply, _binary_samples, ops=("multiply",)),
    _entry("divide_complex", tx.divide, _same(np.divide), _div_samples, ops=("divide",)),
    _entry("pow_complex", tx.pow, _same(np.power), _div_samples, ops=("power",),
           tol={"complex64": (2e-4, 1e-5)}),
    _entry("negative_complex", tx.negative, np.negative, _unary_samples(), ops=("negate",)),
    _entry("exp_complex", tx.exp, _same(np.exp), _unary_samples(), ops=("exp",)),
    _entry("expm1_complex", tx.math.expm1, _same(np.expm1), _unary_samples(), ops=("expm1",),
           tol={"complex64": (1e-4, 1e-5)}),
    _entry("log_complex", tx.math.log, _same(np.log), _unary_samples(0.2, 2.0), ops=("log",)),
    _entry("log1p_complex", tx.math.log1p, _same(np.log1p), _unary_samples(0.2, 2.0),
           ops=("log1p",), tol={"complex64": (1e-4, 1e-5)}),
    _entry("sqrt_complex", tx.sqrt, _same(np.sqrt), _unary_samples(), ops=("sqrt",)),
    _entry("rsqrt_complex", tx.math.rsqrt, _same(lambda x: 1 / np.sqrt(x)),
           _unary_samples(0.2, 2.0), ops=("rsqrt",), tol={"complex64": (1e-4, 1e-5)}),
    _entry("sin_complex", tx.sin, _same(np.sin), _unary_samples(), ops=("sin",)),
    _entry("cos_complex", tx.cos, _same(np.cos), _unary_samples(), ops=("cos",)),
    _entry("tan_complex", tx.math.tan, _same(np.tan), _unary_samples(-1.0, 1.0), ops=("tan",),
           tol={"complex64": (1e-4, 1e-5)}),
    _entry("tanh_complex", tx.tanh, _same(np.tanh), _unary_samples(-1.0, 1.0), ops=("tanh",),
           tol={"complex64": (1e-4, 1e-5)}),
    _entry("sigmoid_complex", tx.sigmoid, _same(lambda x: 1 / (1 + np.exp(-x))),
           _unary_samples(-1.0, 1.0), ops=("logistic",), tol={"complex64": (1e-4, 1e-5)}),
    _entry("equal_complex", tx.equal, np.equal,
           lambda rng, dt: [Sample((a, np.where(rng.random(a.shape) < 0.5, a, a + 1j)))
                            for a in [carg(rng, (2, 3), dt)]], ops=("compare",)),
    _entry("not_equal_complex", tx.not_equal, np.not_equal, _binary_samples, ops=("compare",)),
    _entry("reduce_sum_complex", tx.reduce_sum, _reduce_ref(np.sum), _reduce_samples,
           ops=("reduce_sum",)),
    _entry("reduce_prod_complex", tx.reduce_prod, _reduce_ref(np.prod), _reduce_samples,
           ops=("reduce_prod",), tol={"complex64": (1e-4, 1e-5)}),
    _entry("reduce_mean_complex", tx.reduce_mean, _reduce_ref(np.mean),
           lambda rng, dt: _reduce_samples(rng, dt)[:2], ops=("reduce_sum", "divide")),
    _entry("matmul_complex", tx.matmul, _matmul_ref, _matmul_samples, ops=("dot_general",),
           tol={"complex64": (1e-4, 1e-5)}),
    _entry("einsum_complex", lambda a, b: tx.einsum("ij,jk->ik", a, b),
           lambda a, b: (a.astype(np.complex128) @ b).astype(a.dtype),
           lambda rng, dt: _matmul_samples(rng, dt)[:1], ops=("dot_general",),
           tol={"complex64": (1e-4, 1e-5)}),
    _entry("layout_complex", _layout_fn, _layout_ref, _layout_samples,
           ops=("transpose", "reshape", "concatenate")),
    _entry("sign_complex", tx.math.sign,
           lambda x: np.where(x == 0, 0, x / np.where(x == 0, 1, np.abs(x))).astype(x.dtype),
           lambda rng, dt: [Sample((np.concatenate([carg(rng, (4,), dt), [0j]]).astype(
               dt.np_dtype),))], ops=("complex_abs", "divide")),
    _entry("cumsum_complex", lambda x: tx.math.cumsum(x, axis=1, reverse=True),
           lambda x: np.flip(np.cumsum(np.flip(x, 1), axis=1), 1).astype(x.dtype),
           lambda rng, dt: [Sample((carg(rng, (2, 4), dt),))], ops=("cumsum",)),
    _entry("cumprod_complex", lambda x: tx.math.cumprod(x, exclusive=True),
           lambda x: np.concatenate([[1], np.cumprod(x)[:-1]]).astype(x.dtype),
           lambda rng, dt: [Sample((carg(rng, (5,), dt),))], ops=("cumprod",),
           tol={"complex64": (1e-4, 1e-5)}),
    _entry("norm_complex", tx.norm,
           lambda x: np.asarray(np.sqrt(np.sum(np.abs(x.astype(np.complex128)) ** 2))).astype(
               x.dtype),  # (TF's euclidean norm of a complex tensor stays complex)
           lambda rng, dt: [Sample((carg(rng, (2, 3), dt),))], ops=("complex_abs",)),
    _entry("cast_complex", tx.cast, _cast_ref, _cast_samples, ops=("convert",)),
    _entry("cast_to_complex", lambda x: (tx.cast(x, tx.complex64), tx.cast(x, tx.complex128)),
           lambda x: (x.astype(np.complex64), x.astype(np.complex128)),
           lambda rng, dt: [Sample((carg(rng, (2, 3), dt),))],
           (tx.float32, tx.float64, tx.int32, tx.bool), ("convert",)),
]
