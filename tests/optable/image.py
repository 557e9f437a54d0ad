"""Op table: tx.image (issue 16) against numpy references: geometry, color conversions and
adjustments, quality measures. TF's own outputs are checked in tests/ops/test_image_oracle.py."""
from __future__ import annotations

import colorsys

import numpy as np

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg

F32 = (tx.float32,)
F32_64 = (tx.float32, tx.float64)
# TF's adjust_* convert anything but float16/float32 to float32: their gradients have float32
# precision, so they are compared with TF's own in tests/ops/test_image_oracle.py instead
_BY_ORACLE = "float32 inside; gradient checked against TF 2.21 in test_image_oracle.py"
_TOL = {"float32": (1e-5, 1e-5)}


def _img(*shapes, low=0.0, high=1.0, extra=(), kw=None):
    def samples(rng, dt):
        return [Sample((make_arg(rng, s, dt, low, high), *extra), dict(kw or {})) for s in shapes]
    return samples


def _entry(name, fn, ref, samples, dtypes=F32, grad=None, tol=_TOL):
    return OpInfo(name, fn, ref, samples, dtypes, ops=(), tol=tol, grad=grad)


# ---------------------------------------------------------------- geometry
def _hw(x):
    return x.ndim - 3


def _crop(x, oh, ow, th, tw):
    h = _hw(x)
    idx = [slice(None)] * x.ndim
    idx[h], idx[h + 1] = slice(oh, oh + th), slice(ow, ow + tw)
    return x[tuple(idx)]


def _pad(x, oh, ow, th, tw):
    h = _hw(x)
    pads = [(0, 0)] * x.ndim
    pads[h] = (oh, th - oh - x.shape[h])
    pads[h + 1] = (ow, tw - ow - x.shape[h + 1])
    return np.pad(x, pads)


def _crop_or_pad(x, th, tw):
    h = _hw(x)
    H, W = x.shape[h], x.shape[h + 1]
    c = _crop(x, max((H - th) // 2, 0), max((W - tw) // 2, 0), min(th, H), min(tw, W))
    return _pad(c, max((th - H) // 2, 0), max((tw - W) // 2, 0), th, tw)


def _central(x, frac):
    h = _hw(x)
    H, W = x.shape[h], x.shape[h + 1]
    sh, sw = int((H - H * frac) / 2), int((W - W * frac) / 2)
    return _crop(x, sh, sw, H - 2 * sh, W - 2 * sw)


def _patches(x, sizes, strides, rates, padding):
    b, H, W, d = x.shape
    kh, kw = sizes[1], sizes[2]
    eh, ew = kh + (kh - 1) * (rates[1] - 1), kw + (kw - 1) * (rates[2] - 1)
    if padding == "SAME":
        oh, ow = -(-H // strides[1]), -(-W // strides[2])
        ph, pw = max((oh - 1) * strides[1] + eh - H, 0), max((ow - 1) * strides[2] + ew - W, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    else:
        oh, ow = (H - eh) // strides[1] + 1, (W - ew) // strides[2] + 1
    out = np.zeros((b, oh, ow, kh * kw * d), x.dtype)
    for i in range(oh):
        for j in range(ow):
            r, c = i * strides[1], j * strides[2]
            win = x[:, r:r + eh:rates[1], c:c + ew:rates[2], :]
            out[:, i, j] = win.reshape(b, -1)
    return out


GEOMETRY = [
    _entry("image.flip_left_right", tx.image.flip_left_right, lambda x: np.flip(x, -2),
           _img((3, 4, 2)), F32),
    _entry("image.flip_up_down", tx.image.flip_up_down, lambda x: np.flip(x, -3),
           _img((3, 4, 2)), F32),
    _entry("image.transpose", tx.image.transpose, lambda x: np.swapaxes(x, -3, -2),
           _img((3, 4, 2)), F32),
    _entry("image.rot90", tx.image.rot90,
           lambda x, k=1: np.rot90(x, k, axes=(_hw(x), _hw(x) + 1)),
           lambda rng, dt: [Sample((make_arg(rng, (3, 4, 2), dt),), {"k": k}) for k in (1, 2, -1)]
           + [Sample((make_arg(rng, (2, 3, 4, 1), dt),), {"k": 5})], F32),
    _entry("image.central_crop", tx.image.central_crop, _central,
           _img((7, 9, 2), extra=(0.6,)), F32),
    _entry("image.crop_to_bounding_box", tx.image.crop_to_bounding_box, _crop,
           _img((6, 7, 2), extra=(1, 2, 4, 3)), F32),
    _entry("image.pad_to_bounding_box", tx.image.pad_to_bounding_box, _pad,
           _img((3, 4, 2), extra=(2, 1, 6, 7)), F32),
    _entry("image.resize_with_crop_or_pad", tx.image.resize_with_crop_or_pad, _crop_or_pad,
           _img((5, 4, 2), extra=(3, 7)), F32),
    _entry("image.extract_patches", tx.image.extract_patches, _patches,
           lambda rng, dt: [Sample((make_arg(rng, (2, 6, 7, 2), dt), [1, 3, 2, 1], [1, 2, 3, 1],
                                    [1, 1, 1, 1], "VALID")),
                            Sample((make_arg(rng, (1, 7, 6, 3), dt), [1, 2, 3, 1], [1, 3, 2, 1],
                                    [1, 2, 1, 1], "SAME"))], F32),
]


# ---------------------------------------------------------------- color
_YIQ = np.array([[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617],
                 [0.114, -0.32134392, 0.31119955]])
_YIQ_INV = np.array([[1, 1, 1], [0.95598634, -0.27201283, -1.10674021],
                     [0.6208248, -0.64720424, 1.70423049]])
_YUV_INV = np.array([[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]])
_YUV = np.array([[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512],
                 [0.114, 0.43601035, -0.10001026]])


def _per_pixel(fn):
    def ref(x):
        flat = x.reshape(-1, 3).astype(np.float64)
        return np.array([fn(*p) for p in flat], np.float64).reshape(x.shape).astype(x.dtype)
    return ref


def _hue_ref(x, delta):
    def f(r, g, b):
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        return colorsys.hsv_to_rgb((h + delta) % 1.0, s, v)
    return _per_pixel(f)(x)


def _sat_ref(x, factor):
    def f(r, g, b):
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        return colorsys.hsv_to_rgb(h, min(max(s * factor, 0.0), 1.0), v)
    return _per_pixel(f)(x)


def _to_float(x):
    """TF's adjust_* work in float32 unless the image is float16/float32 already."""
    return x if x.dtype in (np.float16, np.float32) else x.astype(np.float32)


def _contrast(x, factor):
    f = _to_float(x)
    m = f.mean(axis=(-3, -2), keepdims=True)
    return ((f - m) * np.float32(factor) + m).astype(x.dtype)


def _gamma(x, gamma=1.0, gain=1.0):
    return (np.float32(gain) * _to_float(x) ** np.float32(gamma)).astype(x.dtype)


def _brightness(x, delta):
    return (_to_float(x) + np.float32(delta)).astype(x.dtype)


def _standardize(x):
    f = x.astype(np.float32)
    n = np.prod(f.shape[-3:])
    m = f.mean(axis=(-3, -2, -1), keepdims=True)
    s = f.std(axis=(-3, -2, -1), keepdims=True)
    return ((f - m) / np.maximum(s, 1 / np.sqrt(n))).astype(np.float32)


def _gray(x):
    return (x.astype(np.float32) @ np.array([0.2989, 0.5870, 0.1140], np.float32))[..., None]


def _u8_image(rng, dt):
    return [Sample((rng.integers(0, 256, (3, 4, 3)).astype(np.uint8),))]


def _convert(x, dtype, saturate=False):
    to = np.dtype(dtype.np_dtype)
    if x.dtype.kind == "f" and to.kind == "f":
        return x.astype(to)
    if x.dtype.kind == "f":
        scaled = (x * x.dtype.type(np.iinfo(to).max + 0.5)).astype(np.float64)
        if saturate:
            scaled = np.clip(scaled, np.iinfo(to).min, np.iinfo(to).max)
        return np.trunc(scaled).astype(np.int64).astype(to)
    if to.kind == "f":
        return (x.astype(to) * to.type(1.0 / np.iinfo(x.dtype).max)).astype(to)
    mi, mo = np.iinfo(x.dtype).max, np.iinfo(to).max
    if mi > mo:
        return (x.astype(np.int64) // ((mi + 1) // (mo + 1))).astype(to)
    return x.astype(to) * to.type((mo + 1) // (mi + 1))


def _convert_samples(rng, dt):
    u8 = rng.integers(0, 256, (6,)).astype(np.uint8)
    f = rng.uniform(-0.1, 1.1, (7,)).astype(np.float32)
    i32 = rng.integers(0, 2**31 - 1, (5,)).astype(np.int32)
    return [Sample((u8, tx.float32)), Sample((u8, tx.int16)), Sample((f, tx.uint8, True)),
            Sample((np.clip(f, 0, 0.99), tx.int32)), Sample((i32, tx.uint8)),
            Sample((f, tx.float64)), Sample((u8, tx.uint8))]


COLOR = [
    _entry("image.rgb_to_hsv", tx.image.rgb_to_hsv, _per_pixel(colorsys.rgb_to_hsv),
           _img((4, 5, 3)), F32_64),
    _entry("image.hsv_to_rgb", tx.image.hsv_to_rgb, _per_pixel(colorsys.hsv_to_rgb),
           _img((4, 5, 3)), F32, grad="kinks: the channel ramps are piecewise linear"),
    _entry("image.rgb_to_yiq", tx.image.rgb_to_yiq, lambda x: (x @ _YIQ).astype(x.dtype),
           _img((4, 3)), F32_64),
    _entry("image.yiq_to_rgb", tx.image.yiq_to_rgb,
           lambda x: (x @ _YIQ_INV).astype(x.dtype), _img((4, 3)), F32),
    _entry("image.rgb_to_yuv", tx.image.rgb_to_yuv, lambda x: (x @ _YUV).astype(x.dtype),
           _img((4, 3)), F32),
    _entry("image.yuv_to_rgb", tx.image.yuv_to_rgb,
           lambda x: (x @ _YUV_INV).astype(x.dtype), _img((4, 3)), F32),
    _entry("image.rgb_to_grayscale", tx.image.rgb_to_grayscale, _gray, _img((3, 4, 3))),
    _entry("image.grayscale_to_rgb", tx.image.grayscale_to_rgb,
           lambda x: np.repeat(x, 3, -1), _img((3, 4, 1)), F32),
    _entry("image.adjust_hue", tx.image.adjust_hue, _hue_ref,
           lambda rng, dt: [Sample((make_arg(rng, (3, 4, 3), dt, 0, 1), d)) for d in (0.3, -0.6)],
           grad=_BY_ORACLE),
    _entry("image.adjust_saturation", tx.image.adjust_saturation, _sat_ref,
           lambda rng, dt: [Sample((make_arg(rng, (3, 4, 3), dt, 0, 1), f)) for f in (0.4, 1.7)],
           grad=_BY_ORACLE),
    _entry("image.adjust_brightness", tx.image.adjust_brightness, _brightness,
           _img((3, 4, 3), extra=(0.2,)), grad=_BY_ORACLE),
    _entry("image.adjust_contrast", tx.image.adjust_contrast, _contrast,
           _img((3, 4, 3), extra=(1.6,)), grad=_BY_ORACLE),
    _entry("image.adjust_gamma", tx.image.adjust_gamma, _gamma,
           _img((3, 4, 3), low=0.1, extra=(2.2, 0.8)), grad=_BY_ORACLE),
    _entry("image.per_image_standardization", tx.image.per_image_standardization, _standardize,
           _img((3, 4, 3))),
    _entry("image.convert_image_dtype", tx.image.convert_image_dtype, _convert,
           _convert_samples, grad="integer inputs or outputs"),
    _entry("image.adjust_brightness_u8", tx.image.adjust_brightness,
           lambda x, d: np.clip(np.trunc((x / np.float32(255) + np.float32(d)) * 255.5), 0, 255)
           .astype(np.uint8), lambda rng, dt: [Sample(s.args + (0.1,)) for s in _u8_image(rng, dt)],
           grad="integer image"),
]


# ---------------------------------------------------------------- measures
def _tv(x):
    ax = None if x.ndim == 3 else (1, 2, 3)
    h = _hw(x)
    return (np.abs(np.diff(x, axis=h)).sum(axis=ax) + np.abs(np.diff(x, axis=h + 1))
            .sum(axis=ax)).astype(x.dtype)


def _grads(x):
    dy = np.zeros_like(x)
    dx = np.zeros_like(x)
    dy[:, :-1] = np.diff(x, axis=1)
    dx[:, :, :-1] = np.diff(x, axis=2)
    return dy, dx


def _sobel(x):
    p = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64)
    H, W = x.shape[1:3]
    out = np.zeros(x.shape + (2,), np.float64)
    for n, k in enumerate((ky, ky.T)):
        for i in range(3):
            for j in range(3):
                out[..., n] += k[i, j] * p[:, i:i + H, j:j + W, :]
    return out.astype(x.dtype)


def _psnr(a, b, max_val):
    mse = np.mean((a.astype(np.float64) - b) ** 2, axis=(-3, -2, -1))
    return (20 * np.log10(max_val) - 10 * np.log10(mse)).astype(np.float32)


def _window(size, sigma):
    c = np.arange(size) - (size - 1) / 2
    g = np.exp(-(c[:, None] ** 2 + c[None, :] ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filt(x, w):
    s = w.shape[0]
    H, W = x.shape[-3] - s + 1, x.shape[-2] - s + 1
    out = np.zeros(x.shape[:-3] + (H, W, x.shape[-1]))
    for i in range(s):
        for j in range(s):
            out += w[i, j] * x[..., i:i + H, j:j + W, :]
    return out


def _ssim_parts(a, b, max_val, size, sigma, k1=0.01, k2=0.03):
    w = _window(size, sigma)
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    ma, mb = _filt(a, w), _filt(b, w)
    lum = (2 * ma * mb + c1) / (ma ** 2 + mb ** 2 + c1)
    va, vb, cov = _filt(a * a, w) - ma ** 2, _filt(b * b, w) - mb ** 2, _filt(a * b, w) - ma * mb
    cs = (2 * cov + c2) / (va + vb + c2)
    return (lum * cs).mean(axis=(-3, -2)), cs.mean(axis=(-3, -2))


def _ssim(a, b, max_val, filter_size=11, filter_sigma=1.5):
    return _ssim_parts(a, b, max_val, filter_size, filter_sigma)[0].mean(-1).astype(np.float32)


def _msssim(a, b, max_val, power_factors, filter_size):
    a, b = a.astype(np.float64), b.astype(np.float64)
    terms = []
    for k in range(len(power_factors)):
        if k:
            def down(t):
                h, w = t.shape[-3:-1]
                t = np.pad(t, [(0, 0)] * (t.ndim - 3) + [(0, h % 2), (0, w % 2), (0, 0)],
                           mode="symmetric")
                h, w = t.shape[-3:-1]
                return t.reshape(*t.shape[:-3], h // 2, 2, w // 2, 2, t.shape[-1]).mean((-4, -2))
            a, b = down(a), down(b)
        s, cs = _ssim_parts(a, b, max_val, filter_size, 1.5)
        terms.append(np.maximum(cs, 0))
    terms[-1] = np.maximum(s, 0)
    out = np.prod([t ** p for t, p in zip(terms, power_factors)], axis=0)
    return out.mean(-1).astype(np.float32)


def _pair(shape, *extra, kw=None):
    def samples(rng, dt):
        a = make_arg(rng, shape, dt, 0, 1)
        return [Sample((a, np.clip(a + make_arg(rng, shape, dt, -0.2, 0.2), 0, 1).astype(a.dtype),
                        *extra), dict(kw or {}))]
    return samples


MEASURES = [
    _entry("image.total_variation", tx.image.total_variation, _tv,
           _img((4, 5, 2)), F32, grad="kinks: |x| at equal neighbours"),
    _entry("image.image_gradients", tx.image.image_gradients, _grads, _img((2, 3, 4, 2)), F32),
    _entry("image.sobel_edges", tx.image.sobel_edges, _sobel, _img((2, 5, 4, 2)), F32),
    _entry("image.psnr", tx.image.psnr, _psnr, _pair((2, 4, 5, 3), 1.0),
           tol={"float32": (1e-5, 1e-4)}, grad=_BY_ORACLE),
    _entry("image.ssim", tx.image.ssim, _ssim, _pair((2, 12, 13, 3), 1.0),
           tol={"float32": (1e-4, 1e-5)}, grad=_BY_ORACLE),
    _entry("image.ssim_small", tx.image.ssim, _ssim,
           _pair((9, 8, 1), 1.0, kw={"filter_size": 3, "filter_sigma": 0.8}),
           tol={"float32": (1e-4, 1e-5)}),
    _entry("image.ssim_multiscale", tx.image.ssim_multiscale, _msssim,
           _pair((1, 13, 11, 2), 1.0, kw={"power_factors": (0.3, 0.3, 0.4), "filter_size": 3}),
           tol={"float32": (1e-4, 1e-5)}, grad=_BY_ORACLE),
]

ENTRIES = [*GEOMETRY, *COLOR, *MEASURES]


# ---------------------------------------------------------------- resize and crops
def _jax_resize(method):
    """jax.image.resize (scale-and-translate kernels with half-pixel centres, like TF2's)."""
    def ref(x, size, antialias=False):
        import jax
        shape = (*x.shape[:-3], *size, x.shape[-1])
        with jax.enable_x64(True):
            out = jax.image.resize(x.astype(np.float64), shape, method, antialias=antialias)
        return np.asarray(out).astype(np.float32)
    return ref


def _nearest(x, size):
    h, w = x.shape[-3:-1]
    r = np.minimum(np.floor((np.arange(size[0]) + 0.5) * np.float32(h / size[0])), h - 1)
    c = np.minimum(np.floor((np.arange(size[1]) + 0.5) * np.float32(w / size[1])), w - 1)
    return np.take(np.take(x, r.astype(int), -3), c.astype(int), -2)


def _resize_samples(*kw):
    def samples(rng, dt):
        return [Sample((make_arg(rng, (1, 5, 7, 2), dt, 0, 1), [8, 4]), dict(kw[0])),
                Sample((make_arg(rng, (6, 5, 1), dt, 0, 1), [3, 9]), dict(kw[-1]))]
    return samples


def _crop_resize_ref(image, boxes, idx, size, method="bilinear", extrapolation_value=0.0):
    n, (ch, cw) = len(boxes), size
    h, w = image.shape[1:3]
    out = np.zeros((n, ch, cw, image.shape[3]), np.float64)
    for b, (y1, x1, y2, x2) in enumerate(boxes.astype(np.float64)):
        for i in range(ch):
            y = y1 * (h - 1) + i * (y2 - y1) * (h - 1) / (ch - 1) if ch > 1 else \
                0.5 * (y1 + y2) * (h - 1)
            for j in range(cw):
                x = x1 * (w - 1) + j * (x2 - x1) * (w - 1) / (cw - 1) if cw > 1 else \
                    0.5 * (x1 + x2) * (w - 1)
                if not (0 <= y <= h - 1 and 0 <= x <= w - 1):
                    out[b, i, j] = extrapolation_value
                elif method == "nearest":
                    out[b, i, j] = image[idx[b], int(np.floor(y + 0.5)), int(np.floor(x + 0.5))]
                else:
                    t, lft = int(np.floor(y)), int(np.floor(x))
                    bt, r = min(t + 1, h - 1), min(lft + 1, w - 1)
                    fy, fx = y - t, x - lft
                    img = image[idx[b]].astype(np.float64)
                    out[b, i, j] = ((img[t, lft] * (1 - fx) + img[t, r] * fx) * (1 - fy)
                                    + (img[bt, lft] * (1 - fx) + img[bt, r] * fx) * fy)
    return out.astype(np.float32)


def _crop_samples(rng, dt):
    img = make_arg(rng, (2, 5, 6, 2), dt, 0, 1)
    boxes = np.array([[0.1, 0.2, 0.7, 0.88], [0.9, 0.8, 0.15, 0.1], [-0.3, 0.2, 1.2, 0.55]],
                     np.float32)
    idx = np.array([1, 0, 1], np.int32)
    return [Sample((img, boxes, idx, [3, 4])),
            Sample((img, boxes, idx, [1, 2]), {"method": "nearest", "extrapolation_value": 0.5})]


def _glimpse_ref(x, size, offsets, centered=True, normalized=True, noise="uniform"):
    n, h, w, _ = x.shape
    out = np.zeros((n, *size, x.shape[3]), x.dtype)
    for b, (y, xo) in enumerate(offsets.astype(np.float32)):
        if normalized:
            y, xo = y * h, xo * w
            if centered:
                y, xo = y / 2 + (h - size[0]) / 2, xo / 2 + (w - size[1]) / 2
        elif centered:
            y, xo = y + h / 2, xo + w / 2
        t, lft = int(y), int(xo)
        for i in range(size[0]):
            for j in range(size[1]):
                if 0 <= t + i < h and 0 <= lft + j < w:
                    out[b, i, j] = x[b, t + i, lft + j]
    return out


def _glimpse_samples(rng, dt):
    img = make_arg(rng, (2, 6, 7, 1), dt, 0, 1)
    off = np.array([[0.2, -0.4], [0.9, 0.5]], np.float32)
    return [Sample((img, [3, 4], off), {"noise": "zero"}),
            Sample((img, [2, 3], off * 4), {"normalized": False, "noise": "zero"}),
            Sample((img, [4, 2], off * 3), {"normalized": False, "centered": False,
                                            "noise": "zero"})]


RESIZE = [
    _entry("image.resize_bilinear", tx.image.resize, _jax_resize("linear"),
           _resize_samples({}), tol={"float32": (1e-5, 1e-5)}),
    _entry("image.resize_bilinear_aa", lambda x, s: tx.image.resize(x, s, antialias=True),
           lambda x, s: _jax_resize("linear")(x, s, antialias=True),
           lambda rng, dt: [Sample((make_arg(rng, (9, 11, 1), dt), [4, 5]))],
           tol={"float32": (1e-5, 1e-5)}),
    _entry("image.resize_bicubic_aa", lambda x, s: tx.image.resize(x, s, "bicubic", antialias=True),
           lambda x, s: _jax_resize("cubic")(x, s, antialias=True),
           lambda rng, dt: [Sample((make_arg(rng, (9, 11, 1), dt), [4, 15]))],
           tol={"float32": (1e-5, 1e-5)}),
    _entry("image.resize_lanczos3", lambda x, s: tx.image.resize(x, s, "lanczos3"),
           _jax_resize("lanczos3"), _resize_samples({}), tol={"float32": (1e-5, 1e-5)}),
    _entry("image.resize_nearest", lambda x, s: tx.image.resize(x, s, "nearest"), _nearest,
           _resize_samples({})),
    _entry("image.crop_and_resize", tx.image.crop_and_resize, _crop_resize_ref, _crop_samples,
           tol={"float32": (1e-5, 1e-5)}, grad="kinks: box corners"),
    _entry("image.extract_glimpse", tx.image.extract_glimpse, _glimpse_ref, _glimpse_samples,
           grad="kinks: the window moves in whole pixels"),
]

ENTRIES += RESIZE


# ---------------------------------------------------------------- non-max suppression
def _np_iou(a, b):
    a0, a1 = np.minimum(a[:2], a[2:]), np.maximum(a[:2], a[2:])
    b0, b1 = np.minimum(b[:2], b[2:]), np.maximum(b[:2], b[2:])
    area_a, area_b = np.prod(a1 - a0), np.prod(b1 - b0)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter = np.prod(np.maximum(np.minimum(a1, b1) - np.maximum(a0, b0), 0))
    return inter / (area_a + area_b - inter)


def np_nms(boxes, scores, k, thr, sthr=-np.inf, sigma=0.0):
    """Greedy NMS, Soft-NMS when sigma > 0: (indices, scores) in pick order."""
    cur = scores.astype(np.float64).copy()
    alive = cur > sthr
    picks, picked_scores = [], []
    while len(picks) < k and alive.any():
        i = int(np.argmax(np.where(alive, cur, -np.inf)))
        picks.append(i)
        picked_scores.append(cur[i])
        alive[i] = False
        for j in np.flatnonzero(alive):
            o = _np_iou(boxes[i], boxes[j])
            cur[j] = 0.0 if o > thr else cur[j] * (np.exp(-0.5 * o * o / sigma) if sigma else 1)
            alive[j] = o <= thr and cur[j] > sthr
    return np.array(picks, np.int32), np.array(picked_scores, np.float32)


def _np_padded(boxes, scores, k, thr, sthr=-np.inf, pad_to_max_output_size=True):
    picks, _ = np_nms(boxes, scores, k, thr, sthr)
    return np.pad(picks, (0, k - len(picks))), np.int32(len(picks))


def _np_combined(boxes, scores, per_class, total, thr, sthr=-np.inf):
    batch, _, q, _ = boxes.shape
    out = (np.zeros((batch, total, 4), np.float32), np.zeros((batch, total), np.float32),
           np.zeros((batch, total), np.float32), np.zeros((batch,), np.int32))
    for b in range(batch):
        cands = []
        for c in range(scores.shape[2]):
            bx = boxes[b, :, 0 if q == 1 else c]
            picks, sc = np_nms(bx, scores[b, :, c], per_class, thr, sthr)
            cands += [(s, bx[i], c) for i, s in zip(picks, sc)]
        cands.sort(key=lambda t: -t[0])
        for j, (s, bx, c) in enumerate(cands[:total]):
            out[0][b, j], out[1][b, j], out[2][b, j] = np.clip(bx, 0, 1), s, c
        out[3][b] = min(len(cands), total)
    return out


def _nms_boxes(rng, n, lead=()):
    c = rng.uniform(0, 0.7, (*lead, n, 2))
    return np.concatenate([c, c + rng.uniform(0.1, 0.4, (*lead, n, 2))], -1).astype(np.float32)


def _nms_scores(rng, shape):
    return (rng.permutation(int(np.prod(shape))).reshape(shape) / np.prod(shape)).astype(
        np.float32)


NMS = [
    _entry("image.non_max_suppression_padded", tx.image.non_max_suppression_padded, _np_padded,
           lambda rng, dt: [Sample((_nms_boxes(rng, 10), _nms_scores(rng, (10,)), 7, 0.3),
                                   {"pad_to_max_output_size": True}),
                            Sample((_nms_boxes(rng, 8), _nms_scores(rng, (8,)), 4, 0.5, 0.3),
                                   {"pad_to_max_output_size": True})],
           grad="integer outputs"),
    _entry("image.combined_non_max_suppression", tx.image.combined_non_max_suppression,
           _np_combined,
           lambda rng, dt: [Sample((_nms_boxes(rng, 6, (2,))[:, :, None], rng.uniform(
               0, 1, (2, 6, 3)).astype(np.float32), 3, 5, 0.4, 0.2))],
           grad="selection"),
]

ENTRIES += NMS
