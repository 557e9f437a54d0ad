"""Op table: tx.nn activations, softmax, bias_add and cross-entropy losses.

float32/int32 get every sample; the other dtypes the 0-d, empty and special-value samples plus
one or two rotated by dtype (tests/optable/__init__.py `trim`).
"""
from __future__ import annotations

import math

import numpy as np

import tfx_core as tx
from tests.optable import FLOATS, SHAPES, SIGNED, OpInfo, Sample, make_arg, trim

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _f64(fn):
    """A reference computed in float64 and rounded once to the input dtype."""

    def ref(x, *args, **kwargs):
        with np.errstate(all="ignore"):
            return np.asarray(fn(x.astype(np.float64), *args, **kwargs)).astype(x.dtype)

    return ref


def _unary_samples(low=-4.0, high=4.0, specials=True, **kw):
    def fn(rng, dtype):
        out = trim([Sample((make_arg(rng, s, dtype, low, high),), dict(kw)) for s in SHAPES],
                   dtype, keep=(0, 1), k=1)
        if specials and dtype.is_floating:
            x = np.array([-np.inf, -30.0, -1.0, -0.0, 0.0, 0.5, 7.0, 30.0, np.inf, np.nan])
            out.append(Sample((x.astype(dtype.np_dtype),), dict(kw)))
        return out

    return fn


def _relu(x):
    return np.maximum(x, 0)


def _relu6(x):
    return np.minimum(np.maximum(x, 0), 6)


def _leaky_relu(x, alpha=0.2):
    return np.where(x > 0, x, alpha * x)


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _gelu(x, approximate=False):
    if approximate:
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


def _silu(x, beta=1.0):
    return x / (1 + np.exp(-beta * x))


def _softplus(x):
    return np.logaddexp(0, x)


def _log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    s = x - m
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _softmax(x, axis=-1):
    return np.exp(_log_softmax(x, axis))


def _softmax_samples(rng, dtype):
    out = [Sample((make_arg(rng, s, dtype, -5, 5),), {}) for s in [(5,), (2, 3), (2, 3, 4)]]
    out += [
        Sample((make_arg(rng, (2, 3, 4), dtype, -5, 5),), {"axis": 1}),
        Sample((make_arg(rng, (3, 4), dtype, -5, 5),), {"axis": 0}),
        Sample((make_arg(rng, (2, 4), dtype, 50, 60),), {"axis": -1}),  # large: needs the shift
        Sample((make_arg(rng, (0, 4), dtype),), {}),
    ]
    return trim(out, dtype, keep=(5, 6), k=1)


def _xent_ref(labels, logits, axis=-1):
    dt = logits.dtype
    lab, lg = labels.astype(np.float64), logits.astype(np.float64)
    return (-np.sum(lab * _log_softmax(lg, axis), axis=axis)).astype(dt)


def _xent_samples(rng, dtype):
    out = []
    for shape, axis in [((4,), -1), ((3, 5), -1), ((2, 3, 4), -1), ((3, 5), 0), ((0, 3), -1)]:
        p = make_arg(rng, shape, tx.float64, 0, 1)
        p = p / np.maximum(p.sum(axis=axis, keepdims=True), 1e-9)
        out.append(Sample((p.astype(dtype.np_dtype), make_arg(rng, shape, dtype)),
                          {"axis": axis}))
    return trim(out, dtype, keep=(4,))


def _sparse_xent_ref(labels, logits):
    dt = logits.dtype
    logp = _log_softmax(logits.astype(np.float64), -1)
    n = logits.shape[-1]
    valid = (labels >= 0) & (labels < n)
    safe = np.where(valid, labels, 0).astype(np.int64)
    picked = np.take_along_axis(logp, safe[..., None], axis=-1)[..., 0]
    return np.where(valid, -picked, np.nan).astype(dt)


def _sparse_xent_samples(rng, dtype):
    out = []
    for lshape, n, ldt in [((), 4, np.int32), ((3,), 5, np.int64), ((2, 3), 4, np.int32),
                           ((0,), 3, np.int64)]:
        labels = rng.integers(0, n, size=lshape).astype(ldt)
        out.append(Sample((labels, make_arg(rng, (*lshape, n), dtype))))
    # (out-of-range labels raise eagerly and give NaN compiled: tests/ops/test_issue16_review.py)
    return trim(out, dtype, keep=(0, 3), k=1)


def _bias_add_ref(value, bias, data_format=None):
    dt = value.dtype
    v, b = (value.astype(np.float64), bias.astype(np.float64)) if dt.kind in "fV" else (value, bias)
    if data_format is not None and data_format.startswith("NC") and value.ndim > 2:
        b = b.reshape((-1,) + (1,) * (value.ndim - 2))
    return (v + b).astype(dt)


def _bias_add_samples(rng, dtype):
    cases = [((2, 3), 3, None), ((2, 4, 4, 3), 3, "NHWC"), ((2, 3, 4, 4), 3, "NCHW"),
             ((2, 3, 5), 3, "NCW"), ((2, 5, 3), 3, "NWC"), ((0, 3), 3, None)]
    return trim([Sample((make_arg(rng, s, dtype), make_arg(rng, (c,), dtype)),
                        {} if f is None else {"data_format": f}) for s, c, f in cases],
                dtype, keep=(5,))


_TRANSCENDENTAL_TOL = {"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2),
                       "float32": (1e-5, 1e-6)}

ENTRIES = [
    OpInfo("nn.relu", tx.nn.relu, _relu, _unary_samples(), (*FLOATS, *SIGNED), ops=("maximum",)),
    OpInfo("nn.relu6", tx.nn.relu6, _relu6, _unary_samples(-8, 8), (*FLOATS, *SIGNED),
           ops=("maximum", "minimum")),
    OpInfo("nn.leaky_relu", tx.nn.leaky_relu, _f64(_leaky_relu), _unary_samples(), FLOATS,
           ops=("compare", "multiply", "select")),
    OpInfo("nn.leaky_relu_alpha", tx.nn.leaky_relu, _f64(_leaky_relu),
           _unary_samples(alpha=0.01), FLOATS, ops=("compare", "multiply", "select")),
    OpInfo("nn.elu", tx.nn.elu, _f64(_elu), _unary_samples(), FLOATS,
           ops=("compare", "minimum", "expm1", "select"), tol=_TRANSCENDENTAL_TOL),
    OpInfo("nn.gelu", tx.nn.gelu, _f64(_gelu), _unary_samples(), FLOATS,
           ops=("multiply", "erf", "add"), tol=_TRANSCENDENTAL_TOL),
    OpInfo("nn.gelu_approximate", tx.nn.gelu, _f64(_gelu), _unary_samples(approximate=True),
           FLOATS, ops=("multiply", "tanh", "add"), tol=_TRANSCENDENTAL_TOL),
    OpInfo("nn.silu", tx.nn.silu, _f64(_silu), _unary_samples(), FLOATS,
           ops=("multiply", "logistic"), tol=_TRANSCENDENTAL_TOL),
    OpInfo("nn.swish_beta", tx.nn.swish, _f64(_silu), _unary_samples(beta=1.5), FLOATS,
           ops=("multiply", "logistic"), tol=_TRANSCENDENTAL_TOL),
    OpInfo("nn.softplus", tx.nn.softplus, _f64(_softplus), _unary_samples(-40, 40), FLOATS,
           ops=("compare", "select", "negate", "exp", "log1p", "add"), tol=_TRANSCENDENTAL_TOL),
    OpInfo("nn.softmax", tx.nn.softmax, _f64(_softmax), _softmax_samples, FLOATS,
           ops=("reduce_max", "subtract", "exp", "reduce_sum", "divide"),
           tol=_TRANSCENDENTAL_TOL),
    OpInfo("nn.log_softmax", tx.nn.log_softmax, _f64(_log_softmax), _softmax_samples, FLOATS,
           ops=("reduce_max", "subtract", "exp", "reduce_sum", "log"),
           tol={"float16": (4e-3, 8e-3), "bfloat16": (3e-2, 6e-2), "float32": (1e-5, 1e-5)}),
    OpInfo("nn.softmax_cross_entropy_with_logits", tx.nn.softmax_cross_entropy_with_logits,
           _xent_ref, _xent_samples, FLOATS,
           ops=("reduce_max", "subtract", "exp", "reduce_sum", "log", "multiply", "negate"),
           tol={"float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2), "float32": (1e-5, 1e-5)}),
    OpInfo("nn.sparse_softmax_cross_entropy_with_logits",
           tx.nn.sparse_softmax_cross_entropy_with_logits, _sparse_xent_ref,
           _sparse_xent_samples, FLOATS,
           ops=("iota", "expand_dims", "compare", "select", "reduce_max", "subtract", "exp", "log",
                "reduce_sum", "negate", "and"),
           tol={"float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2), "float32": (1e-5, 1e-5)}),
    OpInfo("nn.bias_add", tx.nn.bias_add, _bias_add_ref, _bias_add_samples, (*FLOATS, *SIGNED),
           ops=("add", "reshape")),
]
