"""Host-side (numpy) interpolation weights for tf.image.resize, computed at trace time from the
static sizes: one [out, in] matrix per axis, reproducing TF's kernels (half-pixel bilinear,
Keys bicubic with its 1024-entry coefficient table, area averaging, and ScaleAndTranslate's
lanczos/gaussian/mitchellcubic/triangle/keyscubic spans, antialiased or not)."""
from __future__ import annotations

import math

import numpy as np

_TABLE = 1024  # TF's bicubic coefficient table size: the fraction is rounded to 1/1024


def bilinear(n_in: int, n_out: int) -> np.ndarray:
    """ResizeBilinear with half_pixel_centers."""
    scale = np.float32(n_in) / np.float32(n_out)
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        pos = float((np.float32(o) + np.float32(0.5)) * scale - np.float32(0.5))
        lo_f = math.floor(pos)
        lo, hi = max(lo_f, 0), min(math.ceil(pos), n_in - 1)
        frac = pos - lo_f
        w[o, lo] += 1 - frac
        w[o, hi] += frac
    return w


def nearest(n_in: int, n_out: int) -> np.ndarray:
    """ResizeNearestNeighbor with half_pixel_centers: the source index of each output."""
    scale = np.float32(n_in) / np.float32(n_out)
    pos = (np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale
    return np.clip(np.floor(pos).astype(np.int64), 0, n_in - 1)


def _keys_table(a: float) -> np.ndarray:
    x = np.arange(_TABLE + 1, dtype=np.float64) / _TABLE
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a
    return np.stack([near, far], -1).astype(np.float32)


def bicubic(n_in: int, n_out: int) -> np.ndarray:
    """ResizeBicubic with half_pixel_centers: Keys' cubic (a = -0.5) from the quantized table,
    taps outside the image dropped and the rest renormalized."""
    table = _keys_table(-0.5)
    scale = np.float32(n_in) / np.float32(n_out)
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        pos = (np.float32(o) + np.float32(0.5)) * scale - np.float32(0.5)
        base = math.floor(pos)
        off = int(np.rint(np.float32(pos - np.float32(base)) * np.float32(_TABLE)))
        taps = [(base - 1, table[off, 1]), (base, table[off, 0]),
                (base + 1, table[_TABLE - off, 0]), (base + 2, table[_TABLE - off, 1])]
        kept = [(i, float(c)) for i, c in taps if 0 <= i < n_in]
        total = sum(c for _, c in kept)
        for i, c in kept:
            w[o, i] += c / total if abs(total) > 0 else c
    return w


def area(n_in: int, n_out: int) -> np.ndarray:
    """ResizeArea: each output averages the input cells its [o, o + 1) * scale span covers."""
    scale = np.float32(n_in) / np.float32(n_out)
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        lo, hi = float(np.float32(o) * scale), float(np.float32(o + 1) * scale)
        for i in range(math.floor(lo), math.ceil(hi)):
            cover = min(i + 1, hi) - max(i, lo)
            w[o, min(i, n_in - 1)] += cover / float(scale)
    return w


def _lanczos(radius: float):
    def k(x: float) -> float:
        if x > radius:
            return 0.0
        if x <= 1e-3:
            return 1.0
        x *= math.pi
        return radius * math.sin(x) * math.sin(x / radius) / (x * x)
    return k, radius


def _gaussian():
    sigma = 0.5
    radius = 3.0 * sigma
    return (lambda x: 0.0 if x >= radius else math.exp(-x * x / (2 * sigma * sigma))), radius


def _triangle():
    return (lambda x: max(0.0, 1.0 - x)), 1.0


def _keys():
    def k(x: float) -> float:
        if x >= 2:
            return 0.0
        if x >= 1:
            return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
        return (1.5 * x - 2.5) * x * x + 1.0
    return k, 2.0


def _mitchell():
    def k(x: float) -> float:
        if x >= 2:
            return 0.0
        if x >= 1:
            return (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
        return ((7.0 / 6.0) * x - 2.0) * x * x + 8.0 / 9.0
    return k, 2.0


KERNELS = {"lanczos3": lambda: _lanczos(3.0), "lanczos5": lambda: _lanczos(5.0),
           "gaussian": _gaussian, "triangle": _triangle, "keyscubic": _keys,
           "mitchellcubic": _mitchell}


def scale_and_translate(n_in: int, n_out: int, kernel: str, antialias: bool) -> np.ndarray:
    """ScaleAndTranslate's spans (translation 0): the kernel centred on each output's sample
    point, widened by the downscale factor when antialiasing, weights normalized to sum 1."""
    fn, radius = KERNELS[kernel]()
    f32 = np.float32  # TF computes the spans in float32: boundary taps depend on its rounding
    inv = f32(1) / (f32(n_out) / f32(n_in))
    kscale = max(inv, f32(1)) if antialias else f32(1)
    one_over = f32(1) / kscale
    reach = f32(radius) * kscale
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        sample = (f32(o) + f32(0.5)) * inv
        if sample < 0 or sample > n_in:
            continue
        start = min(max(math.ceil(sample - reach - f32(0.5)), 0), n_in - 1)
        end = min(max(math.floor(sample + reach - f32(0.5)), 0), n_in - 1) + 1
        for i in range(start, end):
            w[o, i] = fn(float(abs((f32(i) + f32(0.5) - sample) * one_over)))
        total = w[o].sum()
        if abs(total) > 0:
            w[o] /= total
    return w
