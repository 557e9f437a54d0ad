"""Op table: convolutions (conv1d/2d/3d, grouped, depthwise, transposed) and max/avg pooling.

The references here are written straight from TF's definitions with explicit loops over output
positions, channels-last; they share nothing with the ops' own `reference` (which folds over
kernel offsets in the canonical layout).
"""
from __future__ import annotations

import math

import numpy as np

import tfx_core as tx
from tests.optable import FLOATS, SIGNED, OpInfo, Sample, make_arg, trim

_FIRST = {"NCW", "NCHW", "NCDHW"}
_TOL = {"float16": (3e-3, 3e-3), "float32": (1e-5, 1e-5)}


# ---------------------------------------------------------------- TF semantics by hand
def _nsp(v, n: int, first: bool) -> list[int]:
    """TF's int-or-list strides/dilations/ksize as n spatial values."""
    if v is None:
        return [1] * n
    v = [v] if isinstance(v, int) else list(v)
    if len(v) == 1:
        return v * n
    if len(v) == n + 2:
        return v[2:] if first else v[1:-1]
    return v


def _pads(padding, n, first, in_sp, ks, strides, dil):
    if padding == "VALID":
        return [(0, 0)] * n
    if padding == "SAME":  # out = ceil(in / s); total pad split with the extra one at the end
        out = []
        for i, k, s, d in zip(in_sp, ks, strides, dil):
            total = max((math.ceil(i / s) - 1) * s + (k - 1) * d + 1 - i, 0)
            out.append((total // 2, total - total // 2))
        return out
    pairs = [tuple(p) for p in padding]
    return pairs[2:] if first else pairs[1:-1]


def _to_last(x, first):
    return np.moveaxis(x, 1, -1) if first else x


def _from_last(x, first):
    return np.moveaxis(x, -1, 1) if first else x


def _conv_ref(x, w, strides=None, padding="VALID", data_format=None, dilations=None):
    """out[b, o..., co] = sum over k..., ci of xpad[b, o*s + k*d, g*cin_g + ci] w[k..., ci, co]
    with group g = co // (cout / groups)."""
    dt = x.dtype
    first = data_format in _FIRST
    n = x.ndim - 2
    xl = _to_last(x.astype(np.float64), first)
    w = w.astype(np.float64)
    s, d = _nsp(strides, n, first), _nsp(dilations, n, first)
    ks, (cin_g, cout) = w.shape[:n], w.shape[n:]
    groups = xl.shape[-1] // cin_g
    pads = _pads(padding, n, first, xl.shape[1:-1], ks, s, d)
    xp = np.pad(xl, [(0, 0), *pads, (0, 0)])
    out_sp = [(p - ((k - 1) * dd + 1)) // ss + 1 for p, k, ss, dd in zip(xp.shape[1:-1], ks, s, d)]
    out = np.zeros((xl.shape[0], *out_sp, cout))
    per = cout // groups
    for o in np.ndindex(*out_sp):
        win = tuple(slice(oi * ss, oi * ss + (k - 1) * dd + 1, dd)
                    for oi, k, ss, dd in zip(o, ks, s, d))
        patch = xp[(slice(None), *win)]  # [B, *ks, C]
        for g in range(groups):
            pg = patch[..., g * cin_g:(g + 1) * cin_g]
            wg = w[..., g * per:(g + 1) * per]
            out[(slice(None), *o, slice(g * per, (g + 1) * per))] = np.tensordot(
                pg, wg, axes=(list(range(1, n + 2)), list(range(n + 1))))
    return _from_last(out, first).astype(dt)


def _depthwise_ref(x, w, strides, padding, data_format=None, dilations=None):
    """out[..., c * M + m] = conv of channel c alone with w[..., c, m]."""
    first = data_format in _FIRST
    xl = _to_last(x, first)
    s, d = _nsp(strides, 2, first), _nsp(dilations, 2, first)
    outs = [_conv_ref(xl[..., c:c + 1], w[:, :, c:c + 1, :], s, padding, "NHWC", d)
            for c in range(x.shape[1 if first else -1])]
    return _from_last(np.concatenate(outs, -1), first)


def _conv_transpose_ref(x, w, output_shape, strides, padding="SAME", data_format=None,
                        dilations=None):
    """Scatter: each input position i adds w[k] @ x[i] at output position i*s + k*d - pad_lo."""
    dt = x.dtype
    first = data_format in _FIRST
    n = x.ndim - 2
    xl = _to_last(x.astype(np.float64), first)
    w = w.astype(np.float64)
    s, d = _nsp(strides, n, first), _nsp(dilations, n, first)
    shape_l = list(output_shape)
    if first:
        shape_l = [shape_l[0], *shape_l[2:], shape_l[1]]
    ks = w.shape[:n]
    pads = _pads(padding, n, first, shape_l[1:-1], ks, s, d)
    full = [o + lo + hi for o, (lo, hi) in zip(shape_l[1:-1], pads)]
    out = np.zeros((shape_l[0], *[f + max(k * dd for k, dd in zip(ks, d)) for f in full],
                    shape_l[-1]))
    for i in np.ndindex(*xl.shape[1:-1]):
        for k in np.ndindex(*ks):
            pos = tuple(ii * ss + kk * dd for ii, kk, ss, dd in zip(i, k, s, d))
            out[(slice(None), *pos)] += xl[(slice(None), *i)] @ w[k].T
    crop = tuple(slice(lo, lo + o) for (lo, _), o in zip(pads, shape_l[1:-1]))
    return _from_last(out[(slice(None), *crop)], first).astype(dt)


def _pool_ref(kind):
    def ref(x, ksize, strides, padding, data_format=None):
        """Each window clipped to the input: max, or the mean of the elements inside."""
        dt = x.dtype
        first = data_format in _FIRST
        n = x.ndim - 2
        xl = _to_last(x.astype(np.float64) if dt.kind == "f" else x, first)
        ks, s = _nsp(ksize, n, first), _nsp(strides, n, first)
        in_sp = xl.shape[1:-1]
        pads = _pads(padding, n, first, in_sp, ks, s, [1] * n)
        out_sp = [(i + lo + hi - k) // ss + 1 for i, (lo, hi), k, ss in zip(in_sp, pads, ks, s)]
        out = np.zeros((xl.shape[0], *out_sp, xl.shape[-1]), xl.dtype)
        for o in np.ndindex(*out_sp):
            win = tuple(slice(max(oi * ss - lo, 0), min(oi * ss - lo + k, i))
                        for oi, ss, (lo, _), k, i in zip(o, s, pads, ks, in_sp))
            patch = xl[(slice(None), *win)].reshape(xl.shape[0], -1, xl.shape[-1])
            out[(slice(None), *o)] = patch.max(1) if kind == "max" else patch.mean(1)
        return _from_last(out, first).astype(dt)

    return ref


# ---------------------------------------------------------------- samples
def _arg(rng, shape, dtype):
    return make_arg(rng, shape, dtype, -1, 1)


def _conv_samples(cases):
    """cases: (input shape, filter shape, kwargs). Every case for float32 (and int32), two
    rotated by dtype for the others (padding/stride/layout handling does not depend on the
    dtype; tests/optable/__init__.py `trim`). Same for the transpose and pool samplers."""
    def fn(rng, dtype):
        return trim([Sample((_arg(rng, xs, dtype), _arg(rng, ws, dtype)), dict(kw))
                     for xs, ws, kw in cases], dtype)

    return fn


_C2 = dict(data_format="NHWC")
CONV2D = [  # SAME on odd and even sizes, strides 1 and 2, VALID, odd/even kernels
    ((2, 5, 5, 3), (3, 3, 3, 4), dict(strides=1, padding="SAME", **_C2)),
    ((2, 6, 6, 3), (3, 3, 3, 2), dict(strides=2, padding="SAME", **_C2)),
    ((1, 7, 5, 2), (2, 2, 2, 3), dict(strides=[2, 2], padding="SAME", **_C2)),
    ((1, 6, 7, 2), (2, 3, 2, 3), dict(strides=[1, 2, 1, 1], padding="SAME", **_C2)),
    ((2, 5, 6, 2), (3, 3, 2, 2), dict(strides=1, padding="VALID", **_C2)),
    ((1, 7, 6, 3), (3, 2, 3, 2), dict(strides=2, padding="VALID", **_C2)),
]
CONV2D_NCHW = [
    ((2, 3, 5, 5), (3, 3, 3, 4), dict(strides=1, padding="SAME", data_format="NCHW")),
    ((1, 2, 6, 7), (3, 3, 2, 3), dict(strides=2, padding="SAME", data_format="NCHW")),
    ((1, 2, 7, 6), (2, 3, 2, 2), dict(strides=[1, 1, 2, 1], padding="VALID",
                                      data_format="NCHW")),
]
CONV2D_DILATED = [
    ((1, 7, 7, 2), (3, 3, 2, 2), dict(strides=1, padding="SAME", dilations=2, **_C2)),
    ((1, 8, 7, 2), (2, 3, 2, 3), dict(strides=1, padding="VALID", dilations=[2, 1], **_C2)),
    ((1, 2, 6, 6), (3, 2, 2, 2), dict(strides=1, padding="SAME", dilations=[1, 1, 2, 2],
                                      data_format="NCHW")),
    ((1, 5, 6, 2), (3, 3, 2, 2), dict(strides=2, padding=[[0, 0], [1, 2], [0, 1], [0, 0]],
                                      **_C2)),
    ((1, 2, 5, 5), (2, 2, 2, 2), dict(strides=1, padding=[[0, 0], [0, 0], [1, 0], [2, 1]],
                                      data_format="NCHW")),
]
CONV2D_GROUPED = [  # input channels a multiple of the filters' in_channels
    ((1, 5, 5, 4), (3, 3, 2, 4), dict(strides=1, padding="SAME", **_C2)),
    ((2, 6, 5, 6), (2, 2, 2, 3), dict(strides=2, padding="SAME", **_C2)),
    ((1, 6, 6, 5), (3, 3, 2, 3), dict(strides=1, padding="VALID", data_format="NCHW")),
]
CONV1D = [
    ((2, 7, 3), (3, 3, 4), dict(stride=1, padding="SAME")),
    ((2, 8, 2), (3, 2, 3), dict(stride=2, padding="SAME")),
    ((1, 9, 2), (2, 2, 2), dict(stride=2, padding="VALID", dilations=2)),
    ((2, 3, 7), (3, 3, 2), dict(stride=1, padding="SAME", data_format="NCW")),
]
CONV3D = [
    ((1, 4, 5, 3, 2), (2, 3, 2, 2, 3), dict(strides=[1, 1, 1, 1, 1], padding="SAME")),
    ((1, 5, 4, 4, 2), (3, 2, 2, 2, 2), dict(strides=[1, 2, 2, 1, 1], padding="VALID")),
    ((1, 2, 5, 4, 3), (2, 2, 2, 2, 2), dict(strides=[1, 1, 2, 1, 2], padding="SAME",
                                            data_format="NCDHW")),
]
CONVOLUTION = [  # tf.nn.convolution: rank from the input, VALID by default
    ((2, 7, 3), (3, 3, 2), dict()),
    ((1, 6, 5, 2), (3, 3, 2, 3), dict(strides=2, padding="SAME")),
    ((1, 2, 6, 6), (2, 2, 2, 2), dict(padding="SAME", data_format="NCHW", dilations=2)),
]
DEPTHWISE = [  # filter [h, w, in, multiplier]
    ((2, 5, 5, 3), (3, 3, 3, 1), dict(strides=[1, 1, 1, 1], padding="SAME")),
    ((1, 6, 7, 2), (3, 3, 2, 2), dict(strides=[1, 2, 2, 1], padding="SAME")),
    ((1, 7, 6, 2), (2, 3, 2, 2), dict(strides=[1, 1, 1, 1], padding="VALID", dilations=[2, 1])),
    ((1, 2, 5, 6), (3, 2, 2, 3), dict(strides=[1, 1, 2, 2], padding="SAME",
                                      data_format="NCHW")),
]
TRANSPOSE2D = [  # (input, filters [h, w, out, in], output_shape, kwargs)
    ((2, 3, 3, 3), (3, 3, 2, 3), (2, 6, 6, 2), dict(strides=2, padding="SAME")),
    ((1, 3, 4, 2), (3, 3, 2, 2), (1, 5, 7, 2), dict(strides=2, padding="SAME")),
    ((1, 4, 3, 2), (2, 3, 3, 2), (1, 4, 3, 3), dict(strides=1, padding="SAME")),
    ((1, 3, 3, 2), (3, 2, 2, 2), (1, 7, 6, 2), dict(strides=2, padding="VALID")),
    ((1, 2, 3, 3), (3, 3, 2, 2), (1, 2, 6, 6), dict(strides=[1, 1, 2, 2], padding="SAME",
                                                    data_format="NCHW")),
    ((1, 4, 4, 2), (3, 3, 2, 2), (1, 8, 8, 2), dict(strides=1, padding="VALID", dilations=2)),
]
TRANSPOSE1D = [
    ((2, 4, 3), (3, 2, 3), (2, 8, 2), dict(strides=2, padding="SAME")),
    ((1, 4, 2), (2, 3, 2), (1, 9, 3), dict(strides=2, padding="VALID", dilations=2)),
]
POOL2D = [  # (input shape, kwargs)
    ((2, 5, 5, 3), dict(ksize=3, strides=1, padding="SAME")),
    ((2, 6, 6, 2), dict(ksize=2, strides=2, padding="SAME")),
    ((1, 7, 5, 2), dict(ksize=[3, 2], strides=[2, 2], padding="SAME")),
    ((1, 6, 7, 2), dict(ksize=[1, 3, 3, 1], strides=[1, 2, 1, 1], padding="VALID")),
    ((1, 2, 7, 6), dict(ksize=3, strides=2, padding="SAME", data_format="NCHW")),
    ((1, 2, 5, 6), dict(ksize=[2, 3], strides=[1, 2], padding="VALID", data_format="NCHW")),
]
MAX_POOL2D_EXPLICIT = [
    ((1, 5, 6, 2), dict(ksize=3, strides=2, padding=[[0, 0], [1, 1], [2, 0], [0, 0]])),
]
POOL1D = [
    ((2, 7, 3), dict(ksize=3, strides=2, padding="SAME")),
    ((2, 8, 2), dict(ksize=2, strides=1, padding="VALID")),
    ((1, 2, 9), dict(ksize=4, strides=3, padding="SAME", data_format="NCW")),
]
POOL3D = [
    ((1, 4, 5, 3, 2), dict(ksize=2, strides=2, padding="SAME")),
    ((1, 2, 5, 4, 3), dict(ksize=[2, 3, 2], strides=1, padding="VALID", data_format="NCDHW")),
]


def _transpose_samples(cases):
    def fn(rng, dtype):
        return trim([Sample((_arg(rng, xs, dtype), _arg(rng, ws, dtype), list(out)), dict(kw))
                     for xs, ws, out, kw in cases], dtype)

    return fn


def _pool_samples(cases):
    def fn(rng, dtype):
        return trim([Sample((_arg(rng, xs, dtype) if dtype.is_floating else
                             make_arg(rng, xs, dtype, -50, 50),), dict(kw)) for xs, kw in cases],
                    dtype)

    return fn


def _conv1d_ref(x, w, stride, padding, data_format="NWC", dilations=None):
    return _conv_ref(x, w, stride, padding, data_format, dilations)


_CONV = ("convolution",)
_TRANSPOSE = ("convolution", "reverse")
ENTRIES = [
    OpInfo("nn.conv2d", tx.nn.conv2d, _conv_ref, _conv_samples(CONV2D), FLOATS, ops=_CONV,
           tol=_TOL),
    OpInfo("nn.conv2d_nchw", tx.nn.conv2d, _conv_ref, _conv_samples(CONV2D_NCHW), FLOATS,
           ops=_CONV, tol=_TOL),
    OpInfo("nn.conv2d_dilated_explicit", tx.nn.conv2d, _conv_ref, _conv_samples(CONV2D_DILATED),
           FLOATS, ops=_CONV, tol=_TOL),
    OpInfo("nn.conv2d_grouped", tx.nn.conv2d, _conv_ref, _conv_samples(CONV2D_GROUPED),
           (tx.float32, tx.float64), ops=_CONV, tol=_TOL),
    OpInfo("nn.conv1d", tx.nn.conv1d, _conv1d_ref, _conv_samples(CONV1D), FLOATS, ops=_CONV,
           tol=_TOL),
    OpInfo("nn.conv3d", tx.nn.conv3d, _conv_ref, _conv_samples(CONV3D), (tx.float32, tx.float64),
           ops=_CONV, tol=_TOL),
    OpInfo("nn.convolution", tx.nn.convolution, _conv_ref, _conv_samples(CONVOLUTION),
           (tx.float32, tx.float64), ops=_CONV, tol=_TOL),
    OpInfo("nn.depthwise_conv2d", tx.nn.depthwise_conv2d, _depthwise_ref,
           _conv_samples(DEPTHWISE), FLOATS, ops=("convolution", "reshape"), tol=_TOL),
    OpInfo("nn.conv2d_transpose", tx.nn.conv2d_transpose, _conv_transpose_ref,
           _transpose_samples(TRANSPOSE2D), FLOATS, ops=_TRANSPOSE, tol=_TOL),
    OpInfo("nn.conv1d_transpose", tx.nn.conv1d_transpose, _conv_transpose_ref,
           _transpose_samples(TRANSPOSE1D), (tx.float32, tx.float64), ops=_TRANSPOSE, tol=_TOL),
    OpInfo("nn.max_pool2d", tx.nn.max_pool2d, _pool_ref("max"),
           _pool_samples(POOL2D + MAX_POOL2D_EXPLICIT), (*FLOATS, *SIGNED),
           ops=("reduce_window",)),
    OpInfo("nn.avg_pool2d", tx.nn.avg_pool2d, _pool_ref("avg"), _pool_samples(POOL2D), FLOATS,
           ops=("reduce_window", "divide"), tol=_TOL),
    OpInfo("nn.max_pool1d", tx.nn.max_pool1d, _pool_ref("max"), _pool_samples(POOL1D),
           (tx.float32, tx.float64), ops=("reduce_window",)),
    OpInfo("nn.avg_pool1d", tx.nn.avg_pool1d, _pool_ref("avg"), _pool_samples(POOL1D),
           (tx.float32, tx.float64), ops=("reduce_window", "divide"), tol=_TOL),
    OpInfo("nn.max_pool3d", tx.nn.max_pool3d, _pool_ref("max"), _pool_samples(POOL3D),
           (tx.float32,), ops=("reduce_window",)),
    OpInfo("nn.avg_pool3d", tx.nn.avg_pool3d, _pool_ref("avg"), _pool_samples(POOL3D),
           (tx.float32,), ops=("reduce_window", "divide"), tol=_TOL),
    OpInfo("nn.max_pool", tx.nn.max_pool, _pool_ref("max"), _pool_samples(POOL1D[:1] + POOL2D[:2]),
           (tx.float32,), ops=("reduce_window",)),
    OpInfo("nn.avg_pool", tx.nn.avg_pool, _pool_ref("avg"), _pool_samples(POOL1D[:1] + POOL2D[:2]),
           (tx.float32,), ops=("reduce_window", "divide"), tol=_TOL),
]
