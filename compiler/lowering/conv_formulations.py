"""Faster StableHLO for `convolution` on XLA:CPU (jaxlib 0.10.2), and the measured rule choosing it.

XLA:CPU runs a 2-D f32 convolution with more than 16 input or output features on YNNPACK, on
one core, and a filter gradient (a convolution whose window is the whole dY) slower still.
Three exact rewrites use every core:

* ``im2col``: pad once; per spatial dim (last first) the shifted slices concatenated on the
  channel axis (XLA fuses each level into one loop kernel), then one
  ``[N*OH*OW, KH*KW*C] x [KH*KW*C, K]`` dot_general. Pays only for few input channels; for a
  1x1 kernel it is just that dot (a strided slice first for stride 2).
* ``eigen``: the same convolution with one more row of padding, its extra output row sliced
  off: YNNPACK declines a convolution whose output is taller than its input, so XLA runs its
  multithreaded Eigen kernel. Filter gradients stay plain convolutions (much slower there).
* ``im2col_t``: the patches over the (small) OUTPUT window, contracted with the kernel over its
  (large) window: for a filter gradient, patches ``[N*OH*OW, KH*KW*C]^T x dY [N*OH*OW, K]``.

Rule (``choose`` under "auto"), on XLA:CPU of a jaxlib in MEASURED_JAXLIB only, f32 or bf16
(which runs in f32), 2 spatial dims, no groups, no lhs dilation (but see 1x1), no negative
low padding:

* a filter gradient (the window wider than the output) of a 1x1 conv, N*OH*OW >=
  DW_DOT_MIN_POSITIONS: ``im2col_t``; other filter gradients stay plain;
* else (stride <= 2, no rhs dilation, N*OH*OW >= MIN_POSITIONS): a 1x1 kernel: ``im2col``
  (also over an lhs-dilated input at stride 1: a strided 1x1 conv's input gradient); a
  3x3 kernel with C_in <= 3 and C_out <= 16, or C_in == 3 and C_out <= 32: ``im2col``; f32,
  stride 1, N*OH*OW >= EIGEN_MIN_POSITIONS, C_in >= 16, C_out >= 24, not both >= 96 and the
  output as tall as the input (SAME): ``eigen``; anything else stays a plain convolution.

Why, and the measurements behind every threshold: bench/README.md, "conv_formulations.py"
(``bench/conv_formulations.py`` reproduces them).

The formulation is the caller's `LoweringOptions.conv_formulation` ("auto" applies the rule,
"direct" always emits stablehlo.convolution, "im2col"/"eigen"/"im2col_t" force that rewrite
wherever it is exact); users switch it with tx.config.set_conv_formulation or
``TFX_CONV_FORMULATION``.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from ..ir.graph import Graph
from ..ir.types import BF16, F32, TensorType
from . import helpers as H
from .options import LoweringOptions

MEASURED_JAXLIB = ("0.10.2",)  # the rule describes this XLA; on another jaxlib: plain conv
AUTO_DTYPES = (F32, BF16)  # bf16 convs run in f32 (compiler/ops/conv.py): the same kernels
# N*OH*OW below which a rewrite is not used: the smallest size measured to win (1x1: 0.70x,
# C_in 3: 0.51-0.88x at 2048). Tiered compilation (runtime/tiered.py) compiles the rewrite in
# the background, so its extra compile time (15-30 ms a loop kernel) no longer sets this.
MIN_POSITIONS = 2048
EIGEN_MIN_POSITIONS = 8192  # eigen was measured from here on (2048: 1.8-2.5x slower)
DW_DOT_MIN_POSITIONS = 3072  # 1x1 filter gradients: bf16 at 2048 lost (1.16x), 3136 won
IM2COL_MAX_C_IN = 3  # and C_out <= 16 (XLA's own conv), or C_in == 3 and C_out <= 32 (YNNPACK)
EIGEN_MIN_C_IN, EIGEN_MIN_C_OUT = 16, 24  # fewer features: Eigen loses (up to 5x at C_out 3)
EIGEN_MAX_BOTH = 96  # C_in and C_out both >= 96: YNNPACK is as fast (it threads those)


def _measured(options: LoweringOptions) -> bool:
    """The rule was measured on XLA:CPU of this jaxlib: elsewhere (another jaxlib, or a GPU/TPU,
    where cuDNN & co. own convolutions) keep the plain convolution."""
    from jaxlib import version

    return options.platform == "cpu" and version.__version__ in MEASURED_JAXLIB


# ---------------------------------------------------------------- the rule
def _geometry(tl: TensorType, tr: TensorType, out: TensorType, dimension_numbers) -> tuple:
    """(batch, C_in, C_out, input spatial, kernel spatial, output spatial), canonical order."""
    ls, rs, os_ = dimension_numbers
    return (tl.shape[ls[0]], tl.shape[ls[1]], tr.shape[rs[0]],
            tuple(tl.shape[d] for d in ls[2:]), tuple(tr.shape[d] for d in rs[2:]),
            tuple(out.shape[d] for d in os_[2:]))


def _im2col_ok(tl, tr, out, a) -> bool:
    """im2col is exact for any window without lhs dilation, groups or negative padding; and
    for a 1x1 kernel at stride 1 with any lhs dilation and padding (the input gradient of a
    strided 1x1 conv: a dot, then interior padding)."""
    if not (a["feature_group_count"] == 1 and a["batch_group_count"] == 1
            and all(d for d in tl.shape + tr.shape + out.shape)):
        return False
    if _scattered_dot(tr, a):
        return True
    return (all(d == 1 for d in a["lhs_dilation"])
            and all(lo >= 0 and hi >= 0 for lo, hi in a["padding"]))


def _scattered_dot(tr, a) -> bool:
    """A 1x1 kernel at stride 1 over a dilated lhs: each output is a dot of one input point
    or zero."""
    rs = a["dimension_numbers"][1]
    return (any(d != 1 for d in a["lhs_dilation"]) and all(s == 1 for s in a["window_strides"])
            and all(tr.shape[d] == 1 for d in rs[2:]))


def _im2col_t_ok(tl, tr, out, a) -> bool:
    """im2col_t reads only the windows it needs: a cropping (negative) high padding is fine,
    as in the filter gradient of a stride-2 1x1 conv over an even input."""
    return all(d == 1 for d in a["lhs_dilation"]) and _im2col_ok(
        tl, tr, out, {**a, "padding": tuple((lo, max(hi, 0)) for lo, hi in a["padding"])})


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


def choose(options: LoweringOptions, tl: TensorType, tr: TensorType, out: TensorType,
           attrs: dict) -> str:
    """"direct", "im2col" or "eigen" for a convolution with these (pre-conversion) types."""
    mode = options.conv_formulation
    if mode == "direct" or not (tl.is_static and tr.is_static and out.is_static):
        return "direct"
    if mode == "im2col":
        return "im2col" if _im2col_ok(tl, tr, out, attrs) else "direct"
    if mode == "eigen":
        return "eigen" if _eigen_ok(tl, tr, out, attrs) else "direct"
    if mode == "im2col_t":
        return "im2col_t" if _im2col_t_ok(tl, tr, out, attrs) else "direct"
    return _auto(options, tl, tr, out, attrs)


def _auto(options: LoweringOptions, tl, tr, out, a) -> str:
    if not (_measured(options) and tl.dtype in AUTO_DTYPES and tr.dtype is tl.dtype
            and tl.rank == 4):
        return "direct"
    n, c, k, in_sp, k_sp, out_sp = _geometry(tl, tr, out, a["dimension_numbers"])
    strides = a["window_strides"]
    if all(w > o for w, o in zip(k_sp, out_sp)):
        # a window wider than the output: a filter gradient (`_conv_vjp`: the input with batch
        # and features swapped, so c is the forward batch, and dY as the kernel). Of a 1x1
        # conv XLA runs it 2-9x slower than im2col_t's one dot; of a 3x3 conv im2col_t is
        # mixed (0.63-1.9x, no size or channel pattern), so those stay plain.
        if (out_sp == (1, 1) and all(s == 1 for s in strides) and _im2col_t_ok(tl, tr, out, a)
                and c * math.prod(k_sp) >= DW_DOT_MIN_POSITIONS):
            return "im2col_t"
        return "direct"
    if (any(s > 2 for s in strides) or any(d != 1 for d in a["rhs_dilation"])
            or not _im2col_ok(tl, tr, out, a) or n * math.prod(out_sp) < MIN_POSITIONS):
        return "direct"
    if k_sp == (1, 1):
        return "im2col"  # a 1x1 conv or its input gradient as one dot: 0.43-0.99x
    if k_sp != (3, 3):
        return "direct"
    if c <= IM2COL_MAX_C_IN and (k <= 16 or (c == 3 and k <= 32)):
        return "im2col"  # strides 1 and 2, f32 and bf16: 0.42-0.88x
    if (tl.dtype is F32 and all(s == 1 for s in strides)
            and n * math.prod(out_sp) >= EIGEN_MIN_POSITIONS and c >= EIGEN_MIN_C_IN
            and k >= EIGEN_MIN_C_OUT and min(c, k) < EIGEN_MAX_BOTH
            and _eigen_ok(tl, tr, out, a)):
        return "direct" if options.eigen_by_option else "eigen"
    return "direct"


def rewrites_in(graph: Graph, options: LoweringOptions) -> int:
    """How many convolutions of `graph` (nested regions included) lower to a rewrite, not to a
    plain convolution, under `options`. Each rewrite adds loop kernels that XLA:CPU compiles
    for 15-30 ms: tiered compilation (runtime/tiered.py) compiles such a program plain first."""
    if options.conv_formulation == "direct":
        return 0
    count = 0
    for op in graph.ops:
        for _, v in op.attrs:
            count += sum(rewrites_in(g, options) for g in _regions(v))
        if op.name == "convolution":
            tl, tr = (v.type for v in op.inputs)
            if choose(options, tl, tr, op.outputs[0].type, op.attr_dict) != "direct":
                count += 1
    return count


# XLA:CPU's library fusions but YNNPACK's convolutions: every conv of the program runs on XLA's
# multithreaded Eigen kernel instead of YNNPACK's single-threaded one.
_YNN_NO_CONVS = ",".join(f"LIBRARY_FUSION_TYPE_{t}" for t in ("DOT", "ELTWISE", "REDUCE",
                                                                 "INDIVIDUAL_DOT"))
EIGEN_DW_MIN_POSITIONS = 8192  # forward N*OH*OW of the 3x3 filter gradient that asks for it


def xla_options(graph: Graph, options: LoweringOptions) -> dict[str, str]:
    """XLA compile options the whole program should be compiled with ({} almost always).

    A 3x3 stride-1 filter gradient of >= EIGEN_DW_MIN_POSITIONS positions runs 1.7-5x faster on
    XLA's Eigen conv than on YNNPACK (0.18-0.46x; the conv per-shape rewrites can't reach it:
    im2col_t lost there), and the program's other convs lose little or win there (forward
    0.56-0.89x, input gradient 0.52-1.03x): measured in bench/README.md, "conv_formulations.py".
    A compile option covers the whole program, so it is decided per program."""
    if options.conv_formulation != "auto" or not _measured(options):
        return {}
    if options.eigen_by_option and eigen_convs(graph, options):
        return {"xla_cpu_experimental_ynn_fusion_type": _YNN_NO_CONVS}
    for op in _convolutions(graph):
        tl, tr = (v.type for v in op.inputs)
        out, a = op.outputs[0].type, op.attr_dict
        if not (tl.is_static and tr.is_static and tl.rank == 4 and tl.dtype in AUTO_DTYPES):
            continue
        _, c, _, _, k_sp, out_sp = _geometry(tl, tr, out, a["dimension_numbers"])
        if (out_sp == (3, 3) and all(w > o for w, o in zip(k_sp, out_sp))
                and all(d == 1 for d in a["rhs_dilation"]) and a["feature_group_count"] == 1
                and a["batch_group_count"] == 1 and c * math.prod(k_sp) >= EIGEN_DW_MIN_POSITIONS):
            return {"xla_cpu_experimental_ynn_fusion_type": _YNN_NO_CONVS}
    return {}


def eigen_convs(graph: Graph, options: LoweringOptions) -> int:
    """How many convolutions of `graph` the rule gives the `eigen` rewrite (under `options`
    without eigen_by_option); 0 when some convolution stays plain (YNNPACK's, which the
    program-wide option would take from it) or the formulation is not "auto".

    Such a program has an alternative: plain convolutions, YNNPACK's convolution type off.
    Which wins depends on what XLA's YNNPACK fusions then take (measured: a ResNet block 14.0
    against eigen's 15.0 ms, it runs as one YNNPACK graph; the CNN of bench/models.py 11.2
    against 7.8): tiered compilation times both (runtime/tiered.py)."""
    if options.conv_formulation != "auto":
        return 0
    plain = dataclasses.replace(options, eigen_by_option=False)
    how = [choose(plain, op.inputs[0].type, op.inputs[1].type, op.outputs[0].type,
                  op.attr_dict) for op in _convolutions(graph)]
    return 0 if "direct" in how else how.count("eigen")


def _convolutions(graph: Graph):
    for op in graph.ops:
        for _, v in op.attrs:
            for g in _regions(v):
                yield from _convolutions(g)
        if op.name == "convolution":
            yield op


def _regions(v) -> list[Graph]:
    if isinstance(v, Graph):
        return [v]
    return [g for b in v for g in _regions(b)] if isinstance(v, tuple) else []


# ---------------------------------------------------------------- emitters
def emit(how: str, lhs: ir.Value, rhs: ir.Value, tl: TensorType, tr: TensorType,
         out: TensorType, attrs: dict) -> ir.Value:
    """The convolution as formulation `how` (types are the working, post-conversion ones)."""
    if how == "im2col":
        return _im2col(lhs, rhs, tl, tr, out, attrs)
    if how == "im2col_t":
        return _im2col_t(lhs, rhs, tl, tr, out, attrs)
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


def _shifted_levels(x: ir.Value, tx: TensorType, shifts: tuple, shift_step: tuple,
                    take: tuple, take_step: tuple) -> tuple[ir.Value, TensorType]:
    """Patches of `x` [N, *S, C], one spatial dim at a time (last first): `shifts[i]` slices
    starting every `shift_step[i]`, each `take[i]` elements every `take_step[i]`, concatenated
    on the channel axis (im2col: shifts = the window, take = the output; im2col_t: the other
    way round). XLA:CPU fuses each level (slices + one concatenate) into one loop kernel."""
    ns = len(shifts)
    for i in reversed(range(ns)):
        steps = [1] * (ns + 2)
        steps[1 + i] = take_step[i]
        cols = []
        for p in range(shifts[i]):
            start = [0] * (ns + 2)
            start[1 + i] = p * shift_step[i]
            limit = list(tx.shape)
            limit[1 + i] = start[1 + i] + (take[i] - 1) * take_step[i] + 1
            cols.append(hlo.slice(x, start, limit, steps))
        x = cols[0] if len(cols) == 1 else hlo.concatenate(cols, ns + 1)
        shape = list(tx.shape)
        shape[1 + i] = take[i]
        tx = tx.with_shape((*shape[:-1], shape[-1] * len(cols)))
    return x, tx


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
    if _scattered_dot(tr, a):  # the dot of the undilated lhs, then the dilation and padding
        plain = {**a, "lhs_dilation": (1,) * ns, "padding": ((0, 0),) * ns}
        small = list(out.shape)
        for i in range(ns):
            small[os_[2 + i]] = tl.shape[ls[2 + i]]
        y = _im2col(lhs, rhs, tl, tr, out.with_shape(tuple(small)), plain)
        low, high, interior = [0] * out.rank, [0] * out.rank, [0] * out.rank
        for i, ((lo, hi), d) in enumerate(zip(a["padding"], a["lhs_dilation"])):
            low[os_[2 + i]], high[os_[2 + i]], interior[os_[2 + i]] = lo, hi, d - 1
        return hlo.pad(y, H.splat(0, TensorType(out.dtype, ())), low, high, interior)
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
    # channel order (k_0, ..., k_last, c): the kernel's reshape
    patches, pt = _shifted_levels(x, tx, k_sp, dil, out_sp, strides)
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


def _im2col_t(lhs, rhs, tl, tr, out, a) -> ir.Value:
    """Patches over the (small) OUTPUT window, contracted with the kernel over its input
    features and (large) window: one ``[I*Q, P*B]^T x [I*Q, O]`` dot_general.

    That is a filter gradient's natural shape: its "kernel" is the output cotangent (Q = the
    forward's N*OH*OW positions, I = the forward batch), its output the forward's small kernel
    (P = KH*KW). out[b, o, p] = sum over i, q of lhs[b, i, p*stride + q*rhs_dilation] *
    rhs[o, i, q]: the im2col patch construction with the window and output roles swapped
    (slices of the kernel's extent stepping by the rhs dilation, one per output position,
    offset by the stride), concatenated on the lhs batch axis, last spatial dim first.
    """
    ls, rs, os_ = a["dimension_numbers"]
    ns = len(ls) - 2
    strides, dil = a["window_strides"], a["rhs_dilation"]
    x, tx = _transpose(lhs, tl, (ls[1], *ls[2:], ls[0]))  # [I, *S, B]
    b = tx.shape[-1]
    low = [0, *(lo for lo, _ in a["padding"]), 0]
    high = [0, *(max(hi, 0) for _, hi in a["padding"]), 0]  # no slice reads past a crop
    if any(low) or any(high):
        x = hlo.pad(x, H.splat(0, TensorType(tx.dtype, ())), low, high, [0] * (ns + 2))
        tx = tx.with_shape(tuple(d + lo + hi for d, lo, hi in zip(tx.shape, low, high)))
    k_sp = tuple(tr.shape[d] for d in rs[2:])
    out_sp = tuple(out.shape[d] for d in os_[2:])
    x, tx = _shifted_levels(x, tx, out_sp, strides, k_sp, dil)  # "channels" (p_0, ..., b)
    depth, positions, o = tr.shape[rs[1]] * math.prod(k_sp), math.prod(out_sp), tr.shape[rs[0]]
    p2, _ = _reshape(x, tx, (depth, positions * b))
    w, tw = _transpose(rhs, tr, (rs[1], *rs[2:], rs[0]))  # [I, *Q, O]
    w2, _ = _reshape(w, tw, (depth, o))
    dn = hlo.DotDimensionNumbers.get(
        lhs_batching_dimensions=[], rhs_batching_dimensions=[],
        lhs_contracting_dimensions=[0], rhs_contracting_dimensions=[0])
    yt = TensorType(tx.dtype, (positions * b, o))
    y = hlo.dot_general(H.ir_type(yt), p2, w2, dn, precision_config=_highest())
    y, yt = _reshape(y, yt, (*out_sp, b, o))  # [*P, B, O]
    perm = [0] * (ns + 2)
    perm[os_[0]], perm[os_[1]] = ns, ns + 1
    for i in range(ns):
        perm[os_[2 + i]] = i
    return _transpose(y, yt, tuple(perm))[0]
