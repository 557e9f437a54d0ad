"""Faster StableHLO for `convolution` on XLA:CPU (jaxlib 0.10.2), and the measured rule choosing it.

Why: XLA:CPU hands a 2-D f32 convolution with more than 16 input or output features to
YNNPACK, which runs it on ONE core (CPU time / wall 1.00), and for 3 input channels and 17-32
output features YNNPACK is also 2-15x slower per flop than with 36 or more. XLA's own Eigen
convolution and YNNPACK's dot both use every core. Two exact rewrites beat the plain
`stablehlo.convolution` for some shapes:

* ``im2col``: pad once; per spatial dim (last first) the KW (then KH) shifted slices
  concatenated on the channel axis, which XLA fuses into one loop kernel per level (a single
  9-way concatenate stays unfused: 2x slower); then one ``[N*OH*OW, KH*KW*C] x [KH*KW*C, K]``
  dot_general, which YNNPACK runs on every core. XLA:CPU builds the patches at about 3 ns per
  element, so this pays only for few input channels (32 channels: 4.4x slower).
* ``eigen``: the same convolution with one more row of padding, whose extra output row is
  sliced off. YNNPACK's matcher declines convolutions whose output is taller than their input
  (a workaround in XLA's ``IsConvolutionOpSupportedByYnn``), so XLA runs its multithreaded
  Eigen kernel. Costs one output copy (fused into a following loop kernel if there is one;
  in the CNN YNNPACK takes the bias, relu and mean, so it is a kernel of its own).
  A kernel taller than the input makes YNNPACK decline too, but XLA then runs those filter-
  gradient convs 18-30x slower, so filter gradients stay plain convolutions.

Rule (``choose`` under "auto"). Only f32, 2 spatial dims, a 3x3 kernel, stride 1, no dilation,
no groups, no negative padding, N*OH*OW >= 8192 (``MIN_POSITIONS``; below, a few µs saved
against 20-50 ms more compiling), on the jaxlib it was measured on; else a plain convolution:

1. ``im2col`` if C_in <= 3 and C_out <= 16 (XLA's own conv: 0.37-0.90x), or C_in == 3 and
   C_out <= 32 (YNNPACK's slow range: 0.09-0.52x). C_in 1-2 with C_out >= 24, and C_in 3 with
   C_out >= 36, are mixed (0.55-2.1x): YNNPACK is fast there.
2. ``eigen`` if C_in >= 16, C_out >= 24 and not both >= 96, and the output is as tall as the
   input (SAME): 0.53-0.94x over N 8-32, 16-32 px, C_in 16-128, C_out 24-128. It loses with
   few output features (C_out 3: 2-5x, C_out 16: 0.8-1.3x), few input features (C_in 4-8:
   1.2-2.4x), and when both are >= 96 (0.8-1.15x: YNNPACK threads those itself).

Measured with ``bench/conv_formulations.py`` (2-core AMD EPYC with AVX-512, shared with other
jobs; medians of 9 interleaved rounds; ms under jax's jit, then ratios to it; "extra row" is the jax
prototype of ``eigen``, with a taller kernel for the filter gradients):

| case (NHWC, 3x3 SAME, batch 32, 32x32)  | jax jit | jax im2col | extra row | tfx auto | TF  |
|-----------------------------------------|--------:|-----------:|----------:|---------:|----:|
| conv1 3 -> 32                           |  1.59   |  0.25      |  0.47     |  0.23    | 0.33 |
| conv2 32 -> 64                          |  4.99   |  4.60      |  0.69     |  0.66    | 0.61 |
| conv2 input gradient 64 -> 32           |  5.24   |  -         |  0.63     |  0.63    |  -  |
| conv2 filter gradient (stays plain)     |  9.54   |  -         | 30.4      |  1.02    |  -  |
| conv1 filter gradient (stays plain)     |  0.92   |  -         | 18.5      |  1.00    |  -  |
| CNN forward (conv1, relu, conv2, relu,  |  6.91   |  -         |  -        |  0.57    | 0.46 |
| mean, dense; biases)                    |         |            |           |          |     |

(TF: tf.function with oneDNN; tf.function(jit_compile=True) gives 0.53/0.68/0.59.) Batch
splitting (1.03-1.12x), Winograd F(2x2,3x3) (5-6x) and one dot per kernel offset (4.6-6.4x)
all lost. Caveat: ``eigen`` needs the second core. With one core busy elsewhere it is 1.2-1.4x
slower than YNNPACK (the CNN forward then breaks even: 1.00x), while ``im2col`` still wins.
First call (compile): CNN 42 ms plain, 85 ms with the rule (jax's jit: 49 ms); conv1 alone
10 -> 53 ms, conv2 alone 12 -> 43 ms. XLA:CPU spends 15-30 ms per loop kernel; im2col adds
three (pad, two concatenate levels), eigen one (the slice) unless it fuses.

Escape hatch: ``TFX_CONV_FORMULATION=direct|im2col|eigen|auto`` in the environment (read at
import), or ``set_mode(...)`` at run time. "auto" (the default) applies the rule, "direct"
always emits stablehlo.convolution, "im2col"/"eigen" force that rewrite wherever it is exact.
`ConcreteFunction` compile-cache keys include ``cache_tag()``, so a fresh tx.function after a
switch compiles anew; eager ops already compiled keep their executable.
"""
from __future__ import annotations

import math
import os
import warnings

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.types import F32, TensorType
from . import helpers as H

MODES = ("auto", "direct", "im2col", "eigen")
MEASURED_JAXLIB = ("0.10.2",)  # the rule describes this XLA; on another jaxlib: plain conv
MIN_POSITIONS = 8192  # N*OH*OW: below, the savings are microseconds and compiling costs ms
IM2COL_MAX_C_IN = 3  # and C_out <= 16 (XLA's own conv), or C_in == 3 and C_out <= 32 (YNNPACK)
EIGEN_MIN_C_IN, EIGEN_MIN_C_OUT = 16, 24  # fewer features: Eigen loses (up to 5x at C_out 3)
EIGEN_MAX_BOTH = 96  # C_in and C_out both >= 96: YNNPACK is as fast (it threads those)


def _env_mode() -> str:
    m = os.environ.get("TFX_CONV_FORMULATION", "auto")
    if m not in MODES:
        warnings.warn(f"TFX_CONV_FORMULATION={m!r} is not one of {MODES}; using 'auto'",
                      stacklevel=2)
        return "auto"
    return m


_mode = _env_mode()


def set_mode(mode: str) -> str:
    """Choose the formulation for convolutions lowered from now on; returns the previous mode.

    "auto" applies the measured rule, "direct" always emits stablehlo.convolution, "im2col" and
    "eigen" force that formulation wherever it is valid (else direct).
    """
    global _mode
    if mode not in MODES:
        raise ValueError(f"conv formulation must be one of {MODES}, got {mode!r}")
    prev, _mode = _mode, mode
    return prev


def get_mode() -> str:
    return _mode


def cache_tag() -> str:
    """A suffix for compile-cache keys: empty under the default mode."""
    return "" if _mode == "auto" else f"\nconv_formulation {_mode}"


def _jaxlib_measured() -> bool:
    """The rule was measured on XLA:CPU of this jaxlib: elsewhere (another jaxlib, or a GPU/TPU
    default backend, where cuDNN & co. own convolutions) keep the plain convolution."""
    import jax.extend as jex
    from jaxlib import version

    return version.__version__ in MEASURED_JAXLIB and jex.backend.get_backend().platform == "cpu"


# ---------------------------------------------------------------- the rule
def _geometry(tl: TensorType, tr: TensorType, out: TensorType, dimension_numbers) -> tuple:
    """(batch, C_in, C_out, input spatial, kernel spatial, output spatial), canonical order."""
    ls, rs, os_ = dimension_numbers
    return (tl.shape[ls[0]], tl.shape[ls[1]], tr.shape[rs[0]],
            tuple(tl.shape[d] for d in ls[2:]), tuple(tr.shape[d] for d in rs[2:]),
            tuple(out.shape[d] for d in os_[2:]))


def _im2col_ok(tl, tr, out, a) -> bool:
    """im2col is exact for any window without lhs dilation, groups or negative padding."""
    return (all(d == 1 for d in a["lhs_dilation"]) and a["feature_group_count"] == 1
            and a["batch_group_count"] == 1 and all(lo >= 0 and hi >= 0 for lo, hi in a["padding"])
            and all(d for d in tl.shape + tr.shape + out.shape))


def _eigen_ok(tl, tr, out, a) -> bool:
    """Whether one more output row makes the output taller than the input, so XLA:CPU's
    YNNPACK matcher declines the conv (and runs XLA's Eigen conv): true for stride-1 SAME-like
    windows. (A kernel taller than the input also makes YNNPACK decline, but XLA then runs such
    filter-gradient convs 18-65x slower, so that variant is not used.)"""
    if tl.rank != 4 or a["batch_group_count"] != 1 or any(d != 1 for d in a["lhs_dilation"]):
        return False  # YNNPACK takes neither 1-/3-d, batch-grouped nor base-dilated convs
    if not all(d for d in tl.shape + tr.shape + out.shape):
        return False
    _, _, _, in_sp, _, out_sp = _geometry(tl, tr, out, a["dimension_numbers"])
    return out_sp[0] + 1 > in_sp[0]


def choose(tl: TensorType, tr: TensorType, out: TensorType, attrs: dict) -> str:
    """"direct", "im2col" or "eigen" for a convolution with these (pre-conversion) types."""
    if _mode == "direct" or not (tl.is_static and tr.is_static and out.is_static):
        return "direct"
    if _mode == "im2col":
        return "im2col" if _im2col_ok(tl, tr, out, attrs) else "direct"
    if _mode == "eigen":
        return "eigen" if _eigen_ok(tl, tr, out, attrs) else "direct"
    return _auto(tl, tr, out, attrs)


def _auto(tl, tr, out, a) -> str:
    if not (_jaxlib_measured() and tl.dtype is F32 and tr.dtype is F32 and tl.rank == 4
            and all(s == 1 for s in a["window_strides"]) and all(d == 1 for d in a["rhs_dilation"])
            and _im2col_ok(tl, tr, out, a)):
        return "direct"
    n, c, k, in_sp, k_sp, out_sp = _geometry(tl, tr, out, a["dimension_numbers"])
    if k_sp != (3, 3) or n * math.prod(out_sp) < MIN_POSITIONS:
        return "direct"
    forward = all(s > 3 for s in in_sp)  # the kernel smaller than the input: not a filter grad
    if forward and c <= IM2COL_MAX_C_IN and (k <= 16 or (c == 3 and k <= 32)):
        return "im2col"
    if (c >= EIGEN_MIN_C_IN and k >= EIGEN_MIN_C_OUT and min(c, k) < EIGEN_MAX_BOTH
            and _eigen_ok(tl, tr, out, a)):
        return "eigen"
    return "direct"


# ---------------------------------------------------------------- emitters
def emit(how: str, lhs: ir.Value, rhs: ir.Value, tl: TensorType, tr: TensorType,
         out: TensorType, attrs: dict) -> ir.Value:
    """The convolution as formulation `how` (types are the working, post-conversion ones)."""
    if how == "im2col":
        return _im2col(lhs, rhs, tl, tr, out, attrs)
    if how == "eigen":
        return _eigen(lhs, rhs, tl, tr, out, attrs)
    return convolution(lhs, rhs, out, **attrs)


def convolution(lhs: ir.Value, rhs: ir.Value, out: TensorType, *, window_strides, padding,
                lhs_dilation, rhs_dilation, dimension_numbers, feature_group_count,
                batch_group_count) -> ir.Value:
    """A plain stablehlo.convolution (f32 at HIGHEST precision)."""
    ls, rs, os_ = dimension_numbers
    dn = hlo.ConvDimensionNumbers.get(
        input_batch_dimension=ls[0], input_feature_dimension=ls[1],
        input_spatial_dimensions=list(ls[2:]),
        kernel_output_feature_dimension=rs[0], kernel_input_feature_dimension=rs[1],
        kernel_spatial_dimensions=list(rs[2:]),
        output_batch_dimension=os_[0], output_feature_dimension=os_[1],
        output_spatial_dimensions=list(os_[2:]),
    )
    pad = ir.DenseIntElementsAttr.get(
        np.asarray(padding, np.int64).reshape(len(padding), 2),
        type=ir.IntegerType.get_signless(64))
    return hlo.convolution(
        H.ir_type(out), lhs, rhs, dn, feature_group_count, batch_group_count,
        window_strides=list(window_strides), padding=pad, lhs_dilation=list(lhs_dilation),
        rhs_dilation=list(rhs_dilation), precision_config=_highest())


def _highest() -> ir.ArrayAttr:
    return ir.ArrayAttr.get([hlo.PrecisionAttr.get("HIGHEST")] * 2)


def _transpose(x: ir.Value, t: TensorType, perm: tuple) -> tuple[ir.Value, TensorType]:
    if perm == tuple(range(len(perm))):
        return x, t
    return hlo.transpose(x, list(perm)), t.with_shape(tuple(t.shape[p] for p in perm))


def _reshape(x: ir.Value, t: TensorType, shape: tuple) -> tuple[ir.Value, TensorType]:
    t2 = t.with_shape(tuple(shape))
    return (x if t2.shape == t.shape else hlo.reshape(H.ir_type(t2), x)), t2


def _im2col(lhs, rhs, tl, tr, out, a) -> ir.Value:
    """Patches [N*OH*OW, KH*KW*C] times the kernel as [KH*KW*C, K]: one dot_general.

    The patches are built one spatial dim at a time, last first: the KW slices along W
    concatenated on the channel axis, then the KH slices of that along H. XLA:CPU fuses each
    level (slices + concatenate of at most 8 pieces) into one loop kernel, where one
    concatenate of all KH*KW slices would stay unfused (2x slower, and one more kernel to
    compile per slice).
    """
    ls, rs, os_ = a["dimension_numbers"]
    ns = len(ls) - 2
    strides, dil = a["window_strides"], a["rhs_dilation"]
    x, tx = _transpose(lhs, tl, (ls[0], *ls[2:], ls[1]))  # [N, *S, C]
    n = tx.shape[0]
    low = [0, *(lo for lo, _ in a["padding"]), 0]
    high = [0, *(hi for _, hi in a["padding"]), 0]
    if any(low) or any(high):
        x = hlo.pad(x, H.splat(0, TensorType(tx.dtype, ())), low, high, [0] * (ns + 2))
        tx = tx.with_shape(tuple(d + lo + hi for d, lo, hi in zip(tx.shape, low, high)))
    k_sp = tuple(tr.shape[d] for d in rs[2:])
    out_sp = tuple(out.shape[d] for d in os_[2:])
    for i in reversed(range(ns)):  # channel order (k_0, ..., k_last, c): the kernel's reshape
        shape = list(tx.shape)
        shape[1 + i] = out_sp[i]
        steps = [1] * (ns + 2)
        steps[1 + i] = strides[i]
        cols = []
        for o in range(k_sp[i]):
            start = [0] * (ns + 2)
            start[1 + i] = o * dil[i]
            limit = list(tx.shape)
            limit[1 + i] = start[1 + i] + (out_sp[i] - 1) * strides[i] + 1
            cols.append(hlo.slice(x, start, limit, steps))
        x = cols[0] if len(cols) == 1 else hlo.concatenate(cols, ns + 1)
        tx = tx.with_shape((*shape[:-1], shape[-1] * len(cols)))
    patches, pt = x, tx
    depth, m, k = pt.shape[-1], n * math.prod(out_sp), tr.shape[rs[0]]
    p2, _ = _reshape(patches, pt, (m, depth))
    w, tw = _transpose(rhs, tr, (*rs[2:], rs[1], rs[0]))  # [*K, I, O]
    w2, _ = _reshape(w, tw, (depth, k))
    dn = hlo.DotDimensionNumbers.get(
        lhs_batching_dimensions=[], rhs_batching_dimensions=[],
        lhs_contracting_dimensions=[1], rhs_contracting_dimensions=[0])
    yt = TensorType(tx.dtype, (m, k))
    y = hlo.dot_general(H.ir_type(yt), p2, w2, dn, precision_config=_highest())
    y, yt = _reshape(y, yt, (n, *out_sp, k))  # [N, *S, K]
    perm = [0] * (ns + 2)
    perm[os_[0]], perm[os_[1]] = 0, ns + 1
    for i in range(ns):
        perm[os_[2 + i]] = 1 + i
    return _transpose(y, yt, tuple(perm))[0]


def _eigen(lhs, rhs, tl, tr, out, a) -> ir.Value:
    """The same convolution with one more output row (one more row of padding; the window
    stride further), sliced off: YNNPACK declines it, XLA's multithreaded Eigen conv runs it."""
    os_ = a["dimension_numbers"][2]
    (lo, hi), rest = a["padding"][0], tuple(a["padding"][1:])
    big = list(out.shape)
    big[os_[2]] += 1
    y = convolution(lhs, rhs, out.with_shape(tuple(big)),
                    **{**a, "padding": ((lo, hi + a["window_strides"][0]), *rest)})
    return hlo.slice(y, [0] * out.rank, list(out.shape), [1] * out.rank)
