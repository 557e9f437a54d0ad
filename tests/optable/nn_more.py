"""Op table: the rest of tf.nn (issue 16): activations, losses, moments, lrn, space/depth
shuffles, dilated pools, convolution variants, morphology, isotonic regression."""
from __future__ import annotations

import jax
import numpy as np

import tfx_core as tx
from tests.optable import GRAD_ZERO, OpInfo, Sample, make_arg

F32 = (tx.float32,)
F32_64 = (tx.float32, tx.float64)


def _f64(fn):
    """A reference in float64, each float result rounded to the first array's dtype."""

    def ref(*args, **kwargs):
        dt = next(a.dtype for a in args if isinstance(a, np.ndarray))
        up = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
              for a in args]
        with np.errstate(all="ignore"), jax.enable_x64(True):  # jax refs in float64 too
            out = fn(*up, **kwargs)

        def cast(o):
            o = np.asarray(o)
            return o.astype(dt) if o.dtype.kind == "f" else o

        return tuple(map(cast, out)) if isinstance(out, tuple) else cast(out)

    return ref


def _x(shape, low=-3.0, high=3.0):
    return lambda rng, dt: [Sample((make_arg(rng, shape, dt, low, high),))]


# ---------------------------------------------------------------- activations and losses
def _selu(x):
    a, s = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return s * np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))


def _pair(shape, lo=0.0, hi=1.0):
    return lambda rng, dt: [Sample((make_arg(rng, shape, dt, lo, hi),
                                    make_arg(rng, shape, dt, -30, 30)))]


def _sig_ce(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def _w_ce(z, x, q):
    return (1 - z) * x + (1 + (q - 1) * z) * (np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0))


def _poisson(t, c, compute_full_loss=False):
    out = np.exp(c) - t * c
    if compute_full_loss:
        small = (t >= 0) & (t <= 1)
        safe = np.where(small, 1, t)
        out = out + np.where(small, 0, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe))
    return out


def _poisson_samples(rng, dt):
    t = np.array([[0, 0.5, 1, 1.5, 2.5], [3, 7, 0.9, 1.2, -1]], dt.np_dtype)  # -1: NaN
    valid = np.abs(t)  # gradients need finite outputs
    return [Sample((t, make_arg(rng, (2, 5), dt, -2, 2)), {"compute_full_loss": True}),
            Sample((valid, make_arg(rng, (2, 5), dt, -2, 2)), {"compute_full_loss": True}),
            Sample((t, make_arg(rng, (2, 5), dt, -2, 2)))]


def _avg_loss(loss, sample_weight=None, global_batch_size=None):
    w = 1 if sample_weight is None else sample_weight
    if sample_weight is not None and w.ndim == loss.ndim - 1:  # per-example weights (TF)
        w = w[..., None]
    n = loss.shape[0] if global_batch_size is None else global_batch_size
    return np.sum(loss * w) / n


def _avg_loss_samples(rng, dt):
    return [Sample((make_arg(rng, (4, 3), dt),)),
            Sample((make_arg(rng, (4,), dt), make_arg(rng, (4,), dt, 0, 1)),
                   {"global_batch_size": 8}),
            Sample((make_arg(rng, (4, 3), dt), make_arg(rng, (4,), dt, 0, 1)))]


def _zero_fraction_samples(rng, dt):
    return [Sample((np.array([[0, 1.5, 0], [2, 0, -1]], dt.np_dtype),))]


# ---------------------------------------------------------------- moments
def _suff(x, axes, shift=None, keepdims=False):
    ax = tuple(axes)
    s = 0 if shift is None else shift
    count = np.asarray(np.prod([x.shape[a] for a in ax]), x.dtype)
    return (count, np.sum(x - s, ax, keepdims=keepdims), np.sum((x - s) ** 2, ax,
                                                                 keepdims=keepdims))


def _suff_samples(rng, dt):
    return [Sample((make_arg(rng, (3, 4, 2), dt), [0, 1])),
            Sample((make_arg(rng, (3, 4), dt), [1], make_arg(rng, (3, 1), dt)),
                   {"keepdims": True})]


def _norm_moments(counts, mean_ss, variance_ss, shift):
    m = mean_ss / counts
    return (m if shift is None else m + shift, variance_ss / counts - m * m)


def _norm_moments_samples(rng, dt):
    c = np.asarray(6.0, dt.np_dtype)
    return [Sample((c, make_arg(rng, (3,), dt), make_arg(rng, (3,), dt, 5, 9), None)),
            Sample((c, make_arg(rng, (3,), dt), make_arg(rng, (3,), dt, 5, 9),
                    make_arg(rng, (3,), dt)))]


def _wmoments(x, axes, w, keepdims=False):
    ax = tuple(axes)
    wb = w + np.zeros_like(x)
    tot = np.sum(wb, ax, keepdims=True)
    mean = np.where(tot == 0, 0, np.sum(wb * x, ax, keepdims=True) / np.where(tot == 0, 1, tot))
    var = np.sum(wb * (x - mean) ** 2, ax, keepdims=True)
    var = np.where(tot == 0, 0, var / np.where(tot == 0, 1, tot))
    return (mean, var) if keepdims else (np.squeeze(mean, ax), np.squeeze(var, ax))


def _wmoments_samples(rng, dt):
    x = make_arg(rng, (4, 3), dt)
    return [Sample((x, [0], make_arg(rng, (4, 1), dt, 0, 2))),
            Sample((x, [1], np.array([[1, 2, 0]] * 3 + [[0, 0, 0]], dt.np_dtype)),
                   {"keepdims": True})]  # a row whose weights sum to 0: mean and variance 0


def _bn_global(x, m, v, beta, gamma, eps, scale_after_normalization):
    y = (x - m) / np.sqrt(v + eps)
    return (y * gamma if scale_after_normalization else y) + beta


def _bn_global_samples(rng, dt):
    args = (make_arg(rng, (2, 3, 4), dt), make_arg(rng, (4,), dt), make_arg(rng, (4,), dt, 0.5, 2),
            make_arg(rng, (4,), dt), make_arg(rng, (4,), dt))
    return [Sample((*args, 1e-3, True)), Sample((*args, 1e-3, False))]


def _lrn(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    sq = np.pad(x * x, [(0, 0)] * 3 + [(depth_radius, depth_radius)])
    s = sum(sq[..., i:i + x.shape[-1]] for i in range(2 * depth_radius + 1))
    return x / (bias + alpha * s) ** beta


def _lrn_samples(rng, dt):
    # the default arguments are checked against TF in test_nn_more_oracle.py
    return [Sample((make_arg(rng, (1, 2, 2, 7), dt),), {"depth_radius": 2, "bias": 1.5,
                                                          "alpha": 0.3, "beta": 0.75})]


# ---------------------------------------------------------------- space and depth
def _s2d(x, bs, data_format="NHWC"):
    if data_format == "NCHW":
        return _s2d(x.transpose(0, 2, 3, 1), bs).transpose(0, 3, 1, 2)
    n, h, w, c = x.shape
    y = x.reshape(n, h // bs, bs, w // bs, bs, c).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(n, h // bs, w // bs, bs * bs * c)


def _d2s(x, bs, data_format="NHWC"):
    if data_format == "NCHW":
        return _d2s(x.transpose(0, 2, 3, 1), bs).transpose(0, 3, 1, 2)
    n, h, w, c = x.shape
    y = x.reshape(n, h, w, bs, bs, c // bs // bs).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(n, h * bs, w * bs, c // bs // bs)


def _s2d_samples(rng, dt):
    return [Sample((make_arg(rng, (2, 4, 6, 3), dt), 2)),
            Sample((make_arg(rng, (1, 3, 6, 9), dt), 3), {"data_format": "NCHW"})]


def _d2s_samples(rng, dt):
    return [Sample((make_arg(rng, (2, 2, 3, 8), dt), 2)),
            Sample((make_arg(rng, (1, 8, 2, 3), dt), 2), {"data_format": "NCHW"})]


def _s2b(x, block_shape, paddings):
    m = len(block_shape)
    x = np.pad(x, [(0, 0), *paddings, *[(0, 0)] * (x.ndim - 1 - m)])
    out = [x[(slice(None), *[slice(o, None, b) for o, b in zip(off, block_shape)])]
           for off in np.ndindex(*block_shape)]
    return np.concatenate(out, 0)


def _s2b_samples(rng, dt):
    return [Sample((make_arg(rng, (2, 3, 4, 2), dt), [2, 2], [[1, 0], [0, 2]])),
            Sample((make_arg(rng, (1, 6, 2), dt), [3], [[0, 0]]))]


# ---------------------------------------------------------------- convolutions (jax oracle)
_DN = ("NHWC", "HWIO", "NHWC")


def _jconv(x, w, pad="SAME", rate=1, groups=1):
    return jax.lax.conv_general_dilated(
        x, w, (1, 1), pad, rhs_dilation=(rate, rate), dimension_numbers=_DN,
        feature_group_count=groups, precision="highest")


def _depthwise(x, w, pad="SAME", rate=1):
    return _jconv(x, w.reshape(*w.shape[:2], 1, -1), pad, rate, x.shape[-1])


def _separable(x, dw, pw, strides, padding):
    return _jconv(_depthwise(x, dw, padding), pw, "VALID")


def _separable_samples(rng, dt):
    return [Sample((make_arg(rng, (1, 4, 5, 2), dt), make_arg(rng, (2, 2, 2, 1), dt),
                    make_arg(rng, (1, 1, 2, 2), dt), [1, 1, 1, 1], "SAME"))]


def _atrous(x, w, rate, padding):
    return _jconv(x, w, padding, rate)


def _atrous_samples(rng, dt):
    return [Sample((make_arg(rng, (1, 6, 7, 1), dt), make_arg(rng, (3, 3, 1, 2), dt), 2, pad))
            for pad in ("SAME", "VALID")]


def _transpose_of(fwd, out_shape, dt):
    _, vjp = jax.vjp(fwd, np.zeros(out_shape, dt))
    return vjp


def _atrous_t(x, w, output_shape, rate, padding):
    vjp = _transpose_of(lambda v: _jconv(v, w, padding, rate),
                        output_shape, x.dtype)
    return np.asarray(vjp(x)[0])


def _atrous_t_samples(rng, dt):
    return [Sample((make_arg(rng, (1, 5, 6, 2), dt), make_arg(rng, (3, 3, 1, 2), dt),
                    [1, 5, 6, 1], 2, "SAME")),
            Sample((make_arg(rng, (1, 2, 3, 2), dt), make_arg(rng, (3, 3, 1, 2), dt),
                    [1, 6, 7, 1], 2, "VALID"))]


def _conv_t(x, w, output_shape, strides, padding="SAME"):
    n = x.ndim - 2
    dn = jax.lax.conv_dimension_numbers(output_shape, w.shape, {
        1: ("NWC", "WIO", "NWC"), 2: _DN, 3: ("NDHWC", "DHWIO", "NDHWC")}[n])
    vjp = _transpose_of(lambda v: jax.lax.conv_general_dilated(
        v, w, (strides,) * n, padding, dimension_numbers=dn,
        precision="highest"), output_shape, x.dtype)
    return np.asarray(vjp(x)[0])


def _conv_t_samples(rng, dt):
    return [Sample((make_arg(rng, (1, 3, 2), dt), make_arg(rng, (3, 4, 2), dt), [1, 6, 4], 2)),
            Sample((make_arg(rng, (1, 2, 3, 2), dt), make_arg(rng, (2, 2, 3, 2), dt),
                    [1, 4, 6, 3], 2, "VALID"))]


def _dw_input(input_sizes, w, g, strides, padding):
    vjp = _transpose_of(lambda v: jax.lax.conv_general_dilated(
        v, w.reshape(*w.shape[:2], 1, -1), (1, 1), padding, dimension_numbers=_DN,
        feature_group_count=w.shape[2], precision="highest"), input_sizes, g.dtype)
    return np.asarray(vjp(g)[0])


def _dw_filter(x, filter_sizes, g, strides, padding):
    _, vjp = jax.vjp(lambda w: jax.lax.conv_general_dilated(
        x, w.reshape(*w.shape[:2], 1, -1), (1, 1), padding, dimension_numbers=_DN,
        feature_group_count=x.shape[-1], precision="highest"), np.zeros(filter_sizes, x.dtype))
    return np.asarray(vjp(g)[0])


def _dw_input_samples(rng, dt):
    return [Sample(([1, 3, 4, 2], make_arg(rng, (3, 3, 2, 1), dt),
                    make_arg(rng, (1, 3, 4, 2), dt), [1, 1, 1, 1], "SAME"))]


def _dw_filter_samples(rng, dt):
    return [Sample((make_arg(rng, (1, 3, 4, 2), dt), [2, 2, 2, 1],
                    make_arg(rng, (1, 2, 3, 2), dt), [1, 1, 1, 1], "VALID"))]


# ---------------------------------------------------------------- pools and morphology
def _windows(x, ks, st, rt, pads, fill):
    """[b, oh, ow, c, kh * kw] windows of an NHWC array (padded with `fill`)."""
    xp = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=fill)
    oh = (xp.shape[1] - (ks[0] - 1) * rt[0] - 1) // st[0] + 1
    ow = (xp.shape[2] - (ks[1] - 1) * rt[1] - 1) // st[1] + 1
    wins = [xp[:, i * rt[0]:i * rt[0] + (oh - 1) * st[0] + 1:st[0],
               j * rt[1]:j * rt[1] + (ow - 1) * st[1] + 1:st[1]]
            for i in range(ks[0]) for j in range(ks[1])]
    return np.stack(wins, -1)


def _same(n, k, s, r):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * r + 1 - n, 0)
    return (total // 2, total - total // 2)


def _pool(x, window_shape, pooling_type, padding="VALID", dilations=None):
    rt = dilations or [1, 1]
    w = _windows(x, window_shape, (1, 1), rt, [(0, 0), (0, 0)], 0)
    return w.max(-1) if pooling_type == "MAX" else w.mean(-1)


def _pool_samples(rng, dt):
    x = make_arg(rng, (1, 5, 6, 1), dt)
    # one smooth case: MAX and SAME/VALID are checked against TF in test_nn_more_oracle.py
    return [Sample((x, [2, 2], "AVG"), {"dilations": [2, 1]})]


def _dilation(x, f, strides, padding, data_format, dilations):
    st, rt = strides[1:3], dilations[1:3]
    pads = [(0, 0)] * 2 if padding == "VALID" else [
        _same(n, k, s, r) for n, k, s, r in zip(x.shape[1:3], f.shape[:2], st, rt)]
    w = _windows(x, f.shape[:2], st, rt, pads, -np.inf)
    return (w + f.reshape(-1, f.shape[2]).T).max(-1)


def _erosion(x, f, strides, padding, data_format, dilations):
    return -_dilation(-x, f[::-1, ::-1], strides, padding, data_format, dilations)


def _morph_samples(rng, dt):
    x, f = make_arg(rng, (1, 4, 5, 1), dt), make_arg(rng, (2, 3, 1), dt)
    # one case each (SAME for dilation2d, strided VALID for erosion2d); more vs TF in the oracle
    return [Sample((x, f, [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1]))]


def _erosion_samples(rng, dt):
    x, f = make_arg(rng, (1, 4, 5, 1), dt), make_arg(rng, (2, 3, 1), dt)
    return [Sample((x, f, [1, 2, 1, 1], "VALID", "NHWC", [1, 1, 2, 1]))]


def _argmax_pool(x, ksize, strides, padding, include_batch_in_index=False):
    b, h, w, c = x.shape
    pads = [(0, 0)] * 2 if padding == "VALID" else [_same(n, k, s, 1) for n, k, s in
                                                     zip((h, w), ksize, strides)]
    win = _windows(x, ksize, strides, (1, 1), pads, -np.inf)
    flat = np.arange(b * h * w * c).reshape(b, h, w, c)
    if not include_batch_in_index:
        flat = flat - (np.arange(b) * h * w * c)[:, None, None, None]
    idx = _windows(flat.astype(np.float64), ksize, strides, (1, 1), pads, -1)
    first = np.argmax(win == win.max(-1, keepdims=True), -1)
    return (win.max(-1).astype(x.dtype),
            np.take_along_axis(idx, first[..., None], -1)[..., 0].astype(np.int64))


def _argmax_samples(rng, dt):
    x = rng.integers(-3, 4, (2, 5, 6, 2)).astype(dt.np_dtype)  # ties: the first one wins
    return [Sample((x, [2, 3], [2, 2], "SAME")),
            Sample((x, [3, 3], [1, 2], "VALID"), {"include_batch_in_index": True})]


# ---------------------------------------------------------------- isotonic regression
def _pav(row):
    """Pool adjacent violators (non-decreasing), merging only on a strict violation."""
    blocks = []  # [sum, count, first index]
    for i, v in enumerate(row):
        blocks.append([v, 1, i])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, n, _ = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
    fit, seg = np.empty(len(row)), np.empty(len(row), np.int32)
    for b, (s, n, start) in enumerate(blocks):
        fit[start:start + n], seg[start:start + n] = s / n, b
    return fit, seg


def _isotonic(x, decreasing=True, axis=-1):
    moved = np.moveaxis(-x if decreasing else x, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    res = [_pav(r) for r in flat]
    fit = np.stack([f for f, _ in res]).reshape(moved.shape)
    seg = np.stack([s for _, s in res]).reshape(moved.shape)
    fit = -fit if decreasing else fit
    return np.moveaxis(fit, -1, axis), np.moveaxis(seg, -1, axis)


def _isotonic_samples(rng, dt):
    return [Sample((make_arg(rng, (2, 6), dt),)),
            # (axis=0 and integer inputs are checked against TF in test_nn_more_oracle.py)
            Sample((make_arg(rng, (2, 5), dt),), {"decreasing": False}),
            Sample((np.array([[2, 2, 2, 1, 1, 3], [0, 1, 0, 1, 0, 1]], dt.np_dtype),))]


ENTRIES = [
    OpInfo("nn.selu", tx.nn.selu, _f64(_selu), lambda rng, dt: [
        Sample((make_arg(rng, s, dt, -4, 4),)) for s in ((0,), (2, 5))], F32_64,
        ops=("expm1", "select")),
    OpInfo("nn.softsign", tx.nn.softsign, _f64(lambda x: x / (1 + np.abs(x))), _x((3, 4)),
           F32, ops=("abs", "divide")),
    OpInfo("nn.crelu", tx.nn.crelu, _f64(lambda x, axis=-1: np.concatenate(
        [np.maximum(x, 0), np.maximum(-x, 0)], axis)), lambda rng, dt: [
        Sample((make_arg(rng, (2, 3), dt),)), Sample((make_arg(rng, (2, 3), dt),), {"axis": 0})],
        F32, ops=("concatenate", "maximum")),
    OpInfo("nn.l2_loss", tx.nn.l2_loss, _f64(lambda t: np.sum(t * t) / 2), _x((3, 4)), F32,
           ops=("reduce_sum",)),
    OpInfo("nn.sigmoid_cross_entropy_with_logits", tx.nn.sigmoid_cross_entropy_with_logits,
           _f64(_sig_ce), _pair((3, 4)), F32, ops=("log1p",)),
    OpInfo("nn.weighted_cross_entropy_with_logits", tx.nn.weighted_cross_entropy_with_logits,
           _f64(_w_ce), lambda rng, dt: [Sample((*_pair((3, 4))(rng, dt)[0].args,
                                                 np.asarray(2.5, dt.np_dtype)))], F32,
           ops=("log1p",)),
    OpInfo("nn.log_poisson_loss", tx.nn.log_poisson_loss, _f64(_poisson), _poisson_samples,
           F32, ops=("exp",), grad="kinks: targets at the t > 1 switch"),
    OpInfo("nn.compute_average_loss", tx.nn.compute_average_loss, _f64(_avg_loss),
           _avg_loss_samples, F32, ops=("reduce_sum", "div_no_nan")),
    OpInfo("nn.scale_regularization_loss", tx.nn.scale_regularization_loss,
           _f64(np.sum), _x((3, 2)), F32, ops=("reduce_sum",)),
    OpInfo("math.zero_fraction", tx.math.zero_fraction, lambda x: np.float32(np.mean(x == 0)),
           _zero_fraction_samples, F32, ops=("compare",), grad=GRAD_ZERO),
    OpInfo("nn.sufficient_statistics", lambda *a, **k: tx.nn.sufficient_statistics(*a, **k)[:3],
           _f64(_suff), _suff_samples, F32, ops=("reduce_sum",)),
    OpInfo("nn.normalize_moments", tx.nn.normalize_moments, _f64(_norm_moments),
           _norm_moments_samples, F32, ops=("multiply", "subtract")),
    OpInfo("nn.weighted_moments", tx.nn.weighted_moments, _f64(_wmoments), _wmoments_samples,
           F32, ops=("reduce_sum", "select")),
    OpInfo("nn.batch_norm_with_global_normalization", tx.nn.batch_norm_with_global_normalization,
           _f64(_bn_global), _bn_global_samples, F32, ops=("rsqrt",)),
    OpInfo("nn.local_response_normalization", tx.nn.local_response_normalization, _f64(_lrn),
           _lrn_samples, F32, ops=("reduce_window", "power")),
    OpInfo("nn.space_to_depth", tx.nn.space_to_depth, _s2d, _s2d_samples, F32,
           ops=("reshape", "transpose")),
    OpInfo("nn.depth_to_space", tx.nn.depth_to_space, _d2s, _d2s_samples, F32,
           ops=("reshape", "transpose")),
    OpInfo("nn.space_to_batch", tx.nn.space_to_batch, _s2b, _s2b_samples, F32,
           ops=("pad", "transpose")),
    OpInfo("nn.pool", tx.nn.pool, _f64(_pool), _pool_samples, F32,
           ops=("reduce_window",), grad="kinks: max pooling ties"),
    OpInfo("nn.separable_conv2d", tx.nn.separable_conv2d, _f64(_separable), _separable_samples,
           F32, ops=("convolution",), tol={"float32": (1e-4, 1e-5)}),
    OpInfo("nn.atrous_conv2d", tx.nn.atrous_conv2d, _f64(_atrous), _atrous_samples, F32,
           ops=("convolution",), tol={"float32": (1e-4, 1e-5)}),
    OpInfo("nn.atrous_conv2d_transpose", tx.nn.atrous_conv2d_transpose, _f64(_atrous_t),
           _atrous_t_samples, F32, ops=("convolution",), tol={"float32": (1e-4, 1e-5)}),
    OpInfo("nn.conv_transpose", tx.nn.conv_transpose, _f64(_conv_t), _conv_t_samples, F32,
           ops=("convolution",), tol={"float32": (1e-4, 1e-5)}),
    OpInfo("nn.depthwise_conv2d_backprop_input", tx.nn.depthwise_conv2d_backprop_input,
           _f64(_dw_input), _dw_input_samples, F32, ops=("convolution",),
           tol={"float32": (1e-4, 1e-5)}),
    OpInfo("nn.depthwise_conv2d_backprop_filter", tx.nn.depthwise_conv2d_backprop_filter,
           _f64(_dw_filter), _dw_filter_samples, F32, ops=("convolution",),
           tol={"float32": (1e-4, 1e-5)}),
    OpInfo("nn.dilation2d", tx.nn.dilation2d, _f64(_dilation), _morph_samples, F32,
           ops=("maximum", "slice")),
    OpInfo("nn.erosion2d", tx.nn.erosion2d, _f64(_erosion), _erosion_samples, F32,
           ops=("maximum", "reverse")),
    OpInfo("nn.max_pool_with_argmax", tx.nn.max_pool_with_argmax, _f64(_argmax_pool),
           _argmax_samples, F32, ops=("reduce_window", "select"),
           grad="the values' gradient is max_pool2d's (checked there); indices are integers"),
    OpInfo("nn.isotonic_regression", tx.nn.isotonic_regression, _f64(_isotonic),
           _isotonic_samples, F32, ops=("cumsum", "reduce_max", "reduce_min"),
           grad="kinks: the tie sample sits where blocks merge or split"),
]
