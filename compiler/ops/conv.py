"""Windowed ops: `convolution` (general N-d, StableHLO's convolution) and `reduce_window`.

`convolution`'s layout is given by `dimension_numbers = (lhs_spec, rhs_spec, out_spec)`: each
spec lists dimension indices in the canonical order (batch, feature, *spatial) for lhs and out,
and (out feature, in feature, *spatial) for rhs. Padding is explicit ((low, high) per spatial
dim; negative values crop), as are window strides and lhs/rhs dilations.
"""
from __future__ import annotations

import itertools

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from .. import autodiff as A
from ..ir.types import F32, DType, TensorType
from ..lowering import conv_formulations as CF
from ..lowering import helpers as H
from ..registry import PURE, OpDef, OpTypeError, register
from .common import check_kind, same_dtype


# ---------------------------------------------------------------- shared window arithmetic
def window_out_size(n: int | None, k: int, stride: int, lo: int, hi: int, lhs_dil: int = 1,
                    rhs_dil: int = 1) -> int | None:
    """Positions of a (dilated) window of size k over a (dilated, padded) axis of size n."""
    if n is None:
        return None
    padded = (max(n - 1, 0) * lhs_dil + 1 if n else 0) + lo + hi
    span = (k - 1) * rhs_dil + 1 if k else 0
    return (padded - span) // stride + 1 if padded >= span else 0


def _int_tuple(v, n: int, what: str, t: TensorType, low: int | None = 1) -> tuple:
    if not isinstance(v, tuple) or len(v) != n or not all(
        isinstance(d, int) and not isinstance(d, bool) for d in v
    ):
        raise OpTypeError(f"{what}={v!r} must be a tuple of {n} ints for {t}")
    if low is not None and any(d < low for d in v):
        raise OpTypeError(f"{what}={v!r} must be >= {low} for {t}")
    return v


def _pairs(v, n: int, t: TensorType, low: int | None = None) -> tuple:
    if not isinstance(v, tuple) or len(v) != n or not all(
        isinstance(p, tuple) and len(p) == 2 for p in v
    ):
        raise OpTypeError(f"padding={v!r} must be {n} (low, high) pairs for {t}")
    for p in v:
        _int_tuple(p, 2, "padding", t, low)
    return v


def _perm(spec, rank: int, what: str) -> tuple:
    if not isinstance(spec, tuple) or sorted(spec) != list(range(rank)):
        raise OpTypeError(f"{what} dimension numbers {spec!r} are not a permutation of "
                          f"range({rank})")
    return spec


def _canon_order(spec: tuple) -> tuple:
    """The transpose permutation taking a canonical (batch, feature, *spatial) array to `spec`."""
    return tuple(int(i) for i in np.argsort(spec))


# ---------------------------------------------------------------- convolution
def _conv_infer(lhs: TensorType, rhs: TensorType, *, window_strides: tuple, padding: tuple,
                lhs_dilation: tuple, rhs_dilation: tuple, dimension_numbers: tuple,
                feature_group_count: int, batch_group_count: int) -> TensorType:
    dt = same_dtype(lhs, rhs)
    check_kind(lhs, "f")
    if lhs.rank != rhs.rank or lhs.rank < 2:
        raise OpTypeError(f"lhs and rhs must have the same rank >= 2, got {lhs} and {rhs}")
    n = lhs.rank - 2
    if not isinstance(dimension_numbers, tuple) or len(dimension_numbers) != 3:
        raise OpTypeError(f"dimension_numbers must be (lhs_spec, rhs_spec, out_spec), got "
                          f"{dimension_numbers!r}")
    ls, rs, os_ = (_perm(s, lhs.rank, w) for s, w in zip(dimension_numbers, ("lhs", "rhs", "out")))
    _int_tuple(window_strides, n, "window_strides", lhs)
    _int_tuple(lhs_dilation, n, "lhs_dilation", lhs)
    _int_tuple(rhs_dilation, n, "rhs_dilation", lhs)
    _pairs(padding, n, lhs)
    g, b = feature_group_count, batch_group_count
    for what, v in (("feature_group_count", g), ("batch_group_count", b)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise OpTypeError(f"{what}={v!r} must be a positive int")
    if g > 1 and b > 1:
        raise OpTypeError(f"feature_group_count={g} and batch_group_count={b}: one must be 1")
    batch, c_in = lhs.shape[ls[0]], lhs.shape[ls[1]]
    c_out, k_in = rhs.shape[rs[0]], rhs.shape[rs[1]]
    if c_in is not None and k_in is not None and c_in != k_in * g:
        raise OpTypeError(f"lhs has {c_in} input features (dim {ls[1]}), but rhs has {k_in} "
                          f"(dim {rs[1]}) x feature_group_count {g}: {lhs} and {rhs}")
    if c_out is not None and c_out % (g * b):
        raise OpTypeError(f"rhs output features {c_out} (dim {rs[0]}) are not divisible by the "
                          f"group count {g * b}: {rhs}")
    if batch is not None and batch % b:
        raise OpTypeError(f"lhs batch {batch} is not divisible by batch_group_count {b}: {lhs}")
    ks = [rhs.shape[d] for d in rs[2:]]
    if any(k is None for k in ks):
        raise OpTypeError(f"rhs spatial dims must be known, got {rhs}")
    out = [None] * lhs.rank
    out[os_[0]] = None if batch is None else batch // b
    out[os_[1]] = c_out
    for i in range(n):
        (lo, hi), s = padding[i], window_strides[i]
        out[os_[2 + i]] = window_out_size(lhs.shape[ls[2 + i]], ks[i], s, lo, hi,
                                          lhs_dilation[i], rhs_dilation[i])
    return TensorType(dt, tuple(out))


def _conv_lower(ctx, lhs, rhs, **attrs):
    (tl, tr), out = ctx.types_in, ctx.type_out
    work = F32 if tl.dtype.bits < 32 else tl.dtype  # f16/bf16 accumulate in f32, round once
    lhs = H.convert(lhs, tl, tl.with_dtype(work))
    rhs = H.convert(rhs, tr, tr.with_dtype(work))
    # plain stablehlo.convolution, or a formulation measured faster on XLA:CPU for this shape
    how = CF.choose(ctx.options, tl, tr, out, attrs)
    r = CF.emit(how, lhs, rhs, tl.with_dtype(work), tr.with_dtype(work), out.with_dtype(work),
                attrs)
    return H.convert(r, out.with_dtype(work), out)


def _dilate_pad(x: np.ndarray, axes_from: int, dil: tuple, padding: tuple, value=0) -> np.ndarray:
    """Insert dil-1 `value`s between elements, then pad (negative pads crop), on the axes from
    `axes_from` on."""
    for i, (d, (lo, hi)) in enumerate(zip(dil, padding)):
        ax = axes_from + i
        n = x.shape[ax]
        shape = list(x.shape)
        shape[ax] = (n - 1) * d + 1 if n else 0
        y = np.full(shape, value, x.dtype)
        idx = [slice(None)] * x.ndim
        idx[ax] = slice(None, None, d)
        y[tuple(idx)] = x
        width = [(0, 0)] * x.ndim
        width[ax] = (max(lo, 0), max(hi, 0))
        y = np.pad(y, width, constant_values=value)
        idx[ax] = slice(max(-lo, 0), y.shape[ax] - max(-hi, 0))
        x = y[tuple(idx)]
    return x


def _conv_reference(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                    dimension_numbers, feature_group_count, batch_group_count):
    """Direct summation over kernel offsets, in float64, in canonical (N, C, *spatial) layout."""
    dt = lhs.dtype
    ls, rs, os_ = dimension_numbers
    x = np.transpose(lhs, ls).astype(np.float64)  # [N, C, *S]
    w = np.transpose(rhs, rs).astype(np.float64)  # [O, I, *K]
    x = _dilate_pad(x, 2, lhs_dilation, padding)
    n_sp = [window_out_size(a, k, s, 0, 0, 1, d) for a, k, s, d in
            zip(x.shape[2:], w.shape[2:], window_strides, rhs_dilation)]
    g, b = feature_group_count, batch_group_count
    n, o = x.shape[0] // b, w.shape[0]
    out = np.zeros((n, o, *n_sp))
    for k in itertools.product(*(range(s) for s in w.shape[2:])):
        win = tuple(slice(ki * d, ki * d + (m - 1) * s + 1, s) if m else slice(0, 0)
                    for ki, d, m, s in zip(k, rhs_dilation, n_sp, window_strides))
        xs = x[(slice(None), slice(None), *win)]  # [N, C, *out spatial]
        wk = w[(slice(None), slice(None), *k)]  # [O, I]
        if b > 1:  # batch group j meets output-feature group j
            xs = xs.reshape(b, n, *xs.shape[1:])
            wk = wk.reshape(b, o // b, wk.shape[1])
            out += np.einsum("bnc...,boc->nbo...", xs, wk).reshape(out.shape)
        else:  # feature group j of the input meets output-feature group j
            xs = xs.reshape(n, g, xs.shape[1] // g, *xs.shape[2:])
            wk = wk.reshape(g, o // g, wk.shape[1])
            out += np.einsum("ngc...,goc->ngo...", xs, wk).reshape(out.shape)
    return np.transpose(out, _canon_order(os_)).astype(dt)


def _regroup_kernel(rhs, tr: TensorType, rs: tuple, groups: int):
    """rhs [O = G*Og, I, *K] (layout rs) -> canonical [G*I, Og, *K]: group j's in/out swapped."""
    dims = A.static_dims(tr, "a grouped convolution")
    o, i = dims[rs[0]], dims[rs[1]]
    ks = tuple(dims[d] for d in rs[2:])
    w = A.op("transpose", rhs, perm=rs)
    w = A.op("reshape", w, shape=(groups, o // groups, i, *ks))
    w = A.op("transpose", w, perm=(0, 2, 1, *range(3, 3 + len(ks))))
    return A.op("reshape", w, shape=(groups * i, o // groups, *ks))


def conv_transpose_lhs(g, rhs, tr: TensorType, *, lhs_spatial: tuple, out_spatial: tuple,
                       window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                       feature_group_count=1, batch_group_count=1, lhs_batch: int | None = None):
    """The cotangent of a convolution's lhs given the output cotangent `g`: a convolution of g
    (dilated by the strides) with the spatially flipped kernel. Also conv2d_transpose."""
    ls, rs, os_ = dimension_numbers
    n = len(lhs_spatial)
    ks = [tr.shape[d] for d in rs[2:]]
    pads = []
    for i in range(n):
        span = (ks[i] - 1) * rhs_dilation[i] + 1
        dg = (out_spatial[i] - 1) * window_strides[i] + 1
        pl = span - 1 - padding[i][0]
        pads.append((pl, (lhs_spatial[i] - 1) * lhs_dilation[i] + span - pl - dg))
    attrs = dict(window_strides=tuple(lhs_dilation), padding=tuple(pads),
                 lhs_dilation=tuple(window_strides), rhs_dilation=tuple(rhs_dilation))
    flipped = A.op("reverse", rhs, axes=tuple(rs[2:])) if n else rhs
    groups = max(feature_group_count, batch_group_count)
    if groups == 1:  # swap the kernel's feature roles in the dimension numbers, no data moved
        dn = (os_, (rs[1], rs[0], *rs[2:]), ls)
        return A.op("convolution", g, flipped, dimension_numbers=dn, feature_group_count=1,
                    batch_group_count=1, **attrs)
    canon = tuple(range(n + 2))
    w = _regroup_kernel(flipped, tr, rs, groups)
    if feature_group_count > 1:
        return A.op("convolution", g, w, dimension_numbers=(os_, canon, ls),
                    feature_group_count=groups, batch_group_count=1, **attrs)
    # batch groups: group j's results are lhs batch block j; they come out as feature blocks
    r = A.op("convolution", g, w, dimension_numbers=(os_, canon, canon),
             feature_group_count=groups, batch_group_count=1, **attrs)  # [Nb, B*C, *S]
    c = tr.shape[rs[1]]
    r = A.op("reshape", r, shape=(-1, groups, c, *lhs_spatial))
    r = A.op("transpose", r, perm=(1, 0, *range(2, n + 3)))
    r = A.op("reshape", r, shape=(-1 if lhs_batch is None else lhs_batch, c, *lhs_spatial))
    return A.op("transpose", r, perm=_canon_order(ls))


def _conv_vjp(ctx, g, *, window_strides, padding, lhs_dilation, rhs_dilation,
              dimension_numbers, feature_group_count, batch_group_count):
    lhs, rhs = ctx.inputs
    tl, tr = ctx.types_in
    out = ctx.types_out[0]
    ls, rs, os_ = dimension_numbers
    n = tl.rank - 2
    lhs_sp = tuple(tl.shape[d] for d in ls[2:])
    out_sp = tuple(out.shape[d] for d in os_[2:])
    ks = tuple(tr.shape[d] for d in rs[2:])
    if any(d is None for d in lhs_sp + out_sp):
        raise A.GradientError(f"the gradient of a convolution needs static spatial dims, got "
                              f"{tl} -> {out}")
    empty = 0 in lhs_sp + out_sp + ks or not all(d for d in out.shape if d is not None)
    dl = dr = None
    if ctx.needs[0]:
        dl = A.zeros_like(tl, lhs) if empty else conv_transpose_lhs(
            g, rhs, tr, lhs_spatial=lhs_sp, out_spatial=out_sp, window_strides=window_strides,
            padding=padding, lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
            dimension_numbers=dimension_numbers, feature_group_count=feature_group_count,
            batch_group_count=batch_group_count, lhs_batch=tl.shape[ls[0]])
    if ctx.needs[1]:
        if empty:
            dr = A.zeros_like(tr, rhs)
        else:
            # d rhs[o, i, k] = sum over batch and output positions of g[., o, p] * lhs[., i, p s
            # + k rd]: a convolution of lhs (batch and feature swapped) with g as the kernel.
            pads = []
            for i in range(n):
                dilated = (lhs_sp[i] - 1) * lhs_dilation[i] + 1
                needed = (ks[i] - 1) * rhs_dilation[i] + (out_sp[i] - 1) * window_strides[i] + 1
                lo = padding[i][0]
                pads.append((lo, needed - dilated - lo))
            dn = ((ls[1], ls[0], *ls[2:]), (os_[1], os_[0], *os_[2:]), (rs[1], rs[0], *rs[2:]))
            dr = A.op("convolution", lhs, g, window_strides=tuple(rhs_dilation),
                      padding=tuple(pads), lhs_dilation=tuple(lhs_dilation),
                      rhs_dilation=tuple(window_strides), dimension_numbers=dn,
                      feature_group_count=batch_group_count,
                      batch_group_count=feature_group_count)
    return dl, dr


convolution_op = register(
    OpDef("convolution", _conv_infer, _conv_lower, _conv_reference, _conv_vjp, frozenset({PURE}))
)


# ---------------------------------------------------------------- reduce_window
_COMPUTATIONS = ("max", "sum")


def _init_value(computation: str, dtype: DType):
    if computation == "sum":
        return 0
    return -np.inf if dtype.is_floating else np.iinfo(dtype.np_dtype).min


def _rw_infer(x: TensorType, *, computation: str, window_dimensions: tuple,
              window_strides: tuple, padding: tuple, window_dilations: tuple) -> TensorType:
    check_kind(x, "fiu")
    if computation not in _COMPUTATIONS:
        raise OpTypeError(f"computation must be one of {_COMPUTATIONS}, got {computation!r}")
    r = x.rank
    _int_tuple(window_dimensions, r, "window_dimensions", x)
    _int_tuple(window_strides, r, "window_strides", x)
    _int_tuple(window_dilations, r, "window_dilations", x)
    _pairs(padding, r, x, 0)
    return x.with_shape(
        window_out_size(d, k, s, lo, hi, 1, dil) for d, k, s, (lo, hi), dil in
        zip(x.shape, window_dimensions, window_strides, padding, window_dilations)
    )


def _rw_lower(ctx, x, *, computation, window_dimensions, window_strides, padding,
              window_dilations):
    (tin,), out = ctx.types_in, ctx.type_out
    work = F32 if computation == "sum" and tin.dtype.is_floating and tin.dtype.bits < 32 \
        else tin.dtype
    x = H.convert(x, tin, tin.with_dtype(work))
    scalar = TensorType(work, ())
    init = H.splat(_init_value(computation, work), scalar)
    pad = ir.DenseIntElementsAttr.get(
        np.asarray(padding, np.int64).reshape(len(padding), 2),
        type=ir.IntegerType.get_signless(64))
    op = hlo.ReduceWindowOp(
        [H.ir_type(out.with_dtype(work))], [x], [init], list(window_dimensions),
        window_strides=list(window_strides), window_dilations=list(window_dilations),
        padding=pad)
    block = op.regions[0].blocks.append(H.ir_type(scalar), H.ir_type(scalar))
    fn = hlo.maximum if computation == "max" else hlo.add
    with ir.InsertionPoint(block):
        hlo.return_([fn(*block.arguments)])
    return H.convert(op.results[0], out.with_dtype(work), out)


def _rw_reference(x, *, computation, window_dimensions, window_strides, padding,
                  window_dilations):
    """Fold over window offsets: for each one, the strided slice of the padded input."""
    dt = x.dtype
    work = x.astype(np.float64) if dt.kind == "f" else x
    init = _init_value(computation, DType.from_numpy(dt))
    xp = _dilate_pad(work, 0, (1,) * x.ndim, padding, init)
    out_shape = [window_out_size(d, k, s, 0, 0, 1, dil) for d, k, s, dil in
                 zip(xp.shape, window_dimensions, window_strides, window_dilations)]
    acc = np.full(out_shape, init, work.dtype)
    for k in itertools.product(*(range(w) for w in window_dimensions)):
        win = tuple(slice(ki * d, ki * d + (m - 1) * s + 1, s) if m else slice(0, 0)
                    for ki, d, m, s in zip(k, window_dilations, out_shape, window_strides))
        v = xp[win]
        if computation == "sum":
            acc = acc + v
        else:  # a zero max is +0.0 when any +0.0 is in the window, as XLA orders signed zeros
            acc = np.where((acc == 0) & (v == 0), acc + v, np.maximum(acc, v))
    return np.asarray(acc).astype(dt)


def _rw_vjp(ctx, g, *, computation, window_dimensions, window_strides, padding,
            window_dilations):
    x = ctx.inputs[0]
    t, out = ctx.types_in[0], ctx.types_out[0]
    # Axes the window does not touch (size 1, stride 1, no padding: batch, channels) may have
    # unknown sizes; the windowed ones must be static.
    still = [w == s == d == 1 and p == (0, 0) for w, s, d, p in
             zip(window_dimensions, window_strides, window_dilations, padding)]
    if any(not st and (n is None or m is None) for st, n, m in zip(still, t.shape, out.shape)):
        raise A.GradientError(f"the gradient of reduce_window needs static sizes on the "
                              f"windowed axes, got {t} -> {out}")
    if 0 in t.shape or 0 in out.shape:
        return (A.zeros_like(t, x),)
    zero = A.const(0, t.dtype)
    interior = tuple(s - 1 for s in window_strides)
    if computation == "sum":
        # dx[i] = sum over window offsets k of g[(i + lo - k d) / s]: a stride-1 window sum of g
        # dilated by the strides and padded by the window span (minus the forward padding).
        low, high = [], []
        for st, n, w, s, (lo, _), d, m in zip(still, t.shape, window_dimensions,
                                              window_strides, padding, window_dilations,
                                              out.shape):
            span = (w - 1) * d + 1
            pl = 0 if st else span - 1 - lo
            low.append(pl)
            high.append(0 if st else n + span - 1 - pl - ((m - 1) * s + 1))
        gp = A.op("pad", g, zero, low=tuple(low), high=tuple(high), interior=interior)
        return (A.op("reduce_window", gp, computation="sum",
                     window_dimensions=window_dimensions, window_strides=(1,) * t.rank,
                     padding=((0, 0),) * t.rank, window_dilations=window_dilations),)
    # max: each window sends its cotangent to its FIRST maximum in row-major window order (as
    # TF's MaxPoolGrad). One strided slice per window offset; taken marks windows already served.
    xp = A.op("pad", x, A.const(_init_value("max", t.dtype), t.dtype),
              low=tuple(lo for lo, _ in padding), high=tuple(hi for _, hi in padding),
              interior=(0,) * t.rank)
    y = ctx.outputs[0]
    taken = dx = None
    for k in itertools.product(*(range(w) for w in window_dimensions)):
        begin = tuple(ki * d for ki, d in zip(k, window_dilations))
        end = tuple(None if st else b + (m - 1) * s + 1
                    for st, b, m, s in zip(still, begin, out.shape, window_strides))
        xs = A.op("slice", xp, begin=begin, end=end, strides=tuple(window_strides))
        hit = A.compare(xs, y, "EQ")
        first = hit if taken is None else A.op("and", hit, A.op("not", taken))
        taken = hit if taken is None else A.op("or", taken, hit)
        low = tuple(b - lo for b, (lo, _) in zip(begin, padding))
        high = tuple(0 if st else n - lw - (e - b)
                     for st, n, lw, b, e in zip(still, t.shape, low, begin, end))
        part = A.op("pad", A.select(first, g, zero), zero, low=low, high=high, interior=interior)
        dx = part if dx is None else A.add(dx, part)
    return (dx,)


reduce_window_op = register(
    OpDef("reduce_window", _rw_infer, _rw_lower, _rw_reference, _rw_vjp, frozenset({PURE}))
)
