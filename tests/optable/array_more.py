"""Op table: the top-level array functions of issue 16 (roll, repeat, meshgrid, sequence_mask,
reverse_sequence, unravel_index, dynamic_stitch, searchsorted, histograms, space/batch moves,
extract_volume_patches, pad REFLECT/SYMMETRIC, norm clipping, tf.conv and the conv2d backprops).

References are numpy (np.roll, np.repeat, np.pad's reflect/symmetric, np.searchsorted, loops);
tf.conv's reference is a numpy convolution over sliding windows, the backprops' are
jax.vjp of jax.lax.conv_general_dilated (a test-only oracle).
"""
from __future__ import annotations

import jax
import numpy as np

import tfx_core as tx
from tests.optable import OpInfo, Sample, make_arg

F32 = (tx.float32,)
# the gradient of a pure rearrangement is its ops' (gather, transpose, pad, slice, conv), each
# checked in its own entry: finite differences here would only re-test those at a compile each
COMPOSITE = "composite of ops whose gradients their own entries check"
F32_I32 = (tx.float32, tx.int32)


def _wide(x):
    return x.astype(np.float64) if x.dtype.kind == "f" else x


# ---------------------------------------------------------------- rearrangements
def _roll_samples(rng, dtype):
    return [Sample((make_arg(rng, (3, 4), dtype), [1, -6], [0, 1]), {}),
            Sample((make_arg(rng, (2, 3, 2), dtype), np.array(-7, np.int32), 1), {})]


def _roll_ref(x, shift, axis):
    return np.roll(x, np.asarray(shift).tolist(), axis)


def _repeat_samples(rng, dtype):
    return [Sample((make_arg(rng, (3, 2), dtype), [2, 0, 1]), {"axis": 0}),
            Sample((make_arg(rng, (2, 3), dtype), 2), {})]


def _repeat_ref(x, repeats, axis=None):
    return np.repeat(x, repeats, axis)


def _meshgrid(x, y, z=None, indexing="xy"):
    return tuple(tx.meshgrid(*([x, y] if z is None else [x, y, z]), indexing=indexing))


def _meshgrid_ref(x, y, z=None, indexing="xy"):
    return tuple(np.meshgrid(*([x, y] if z is None else [x, y, z]), indexing=indexing))


def _meshgrid_samples(rng, dtype):
    a, b, c = (make_arg(rng, (n,), dtype) for n in (2, 3, 4))
    return [Sample((a, b, c), {}), Sample((a, b, c), {"indexing": "ij"})]


def _seq_mask_samples(rng, dtype):
    return [Sample((np.array([1, 4, 0], np.int32),), {"maxlen": 5, "dtype": tx.float32}),
            Sample((np.array([[2, 0], [3, 1]], np.int64),), {"maxlen": 3}),
            Sample(([2, 5, 1],), {})]  # maxlen from lengths known at trace time


def _seq_mask_ref(lengths, maxlen=None, dtype=tx.bool):
    n = np.asarray(lengths)
    m = int(n.max()) if maxlen is None else maxlen
    return (np.arange(m) < n[..., None]).astype(tx.as_dtype(dtype).np_dtype)


def _revseq_samples(rng, dtype):
    return [Sample((make_arg(rng, (3, 4, 2), dtype), np.array([2, 4, 0], np.int32)),
                   {"seq_axis": 1, "batch_axis": 0}),
            Sample((make_arg(rng, (5, 2), dtype), np.array([3, 5], np.int64)),
                   {"seq_axis": 0, "batch_axis": 1})]


def _revseq_ref(x, lens, seq_axis, batch_axis):
    out = np.array(x, copy=True)
    for b, n in enumerate(lens):
        idx = [slice(None)] * x.ndim
        idx[batch_axis] = b
        idx[seq_axis] = slice(0, n)
        src = list(idx)
        src[seq_axis] = slice(n - 1, None, -1) if n else slice(0, 0)
        out[tuple(idx)] = x[tuple(src)]
    return out


def _unravel_samples(rng, dtype):
    return [Sample((np.array([0, 5, 11, 7], np.int32), np.array([3, 4], np.int32)), {}),
            Sample((np.array(23, np.int64), np.array([2, 3, 4], np.int64)), {})]


def _unravel_ref(indices, dims):
    return np.stack(np.unravel_index(indices, tuple(dims))).astype(indices.dtype)


def _stitch(i0, i1, d0, d1):
    return tx.dynamic_stitch([i0, i1], [d0, d1])


def _stitch_ref(i0, i1, d0, d1):
    i0, i1 = np.asarray(i0), np.asarray(i1)
    n = int(max(i0.max(), i1.max())) + 1
    out = np.zeros((n, *d0.shape[i0.ndim:]), d0.dtype)
    for idx, d in ((i0, d0), (i1, d1)):
        for pos in np.ndindex(idx.shape):
            out[idx[pos]] = d[pos]
    return out


def _stitch_samples(rng, dtype):
    # indices as Python lists: they set the output size, so they are static in both modes
    return [Sample(([0, 2, 5], [[1, 2], [3, 4]], make_arg(rng, (3, 2), dtype),
                    make_arg(rng, (2, 2, 2), dtype)), {})]


def _bshape_ref(x, y):
    return np.array(np.broadcast_shapes(tuple(x), tuple(y)), x.dtype)


def _bshape_samples(rng, dtype):
    return [Sample((np.array([2, 1, 3], np.int32), np.array([4, 1], np.int32)), {}),
            Sample((np.array([1], np.int64), np.array([5, 6], np.int64)), {})]


def _pstack_samples(rng, dtype):
    return [Sample(([make_arg(rng, (2, 3), dtype), make_arg(rng, (2, 3), dtype)],), {})]


def _pstack(values):
    return tx.parallel_stack([tx.constant(v) for v in values])


def _scalar_mul_samples(rng, dtype):
    return [Sample((make_arg(rng, (), dtype), make_arg(rng, (2, 3), dtype)), {})]


# ---------------------------------------------------------------- search and histograms
def _ss_samples(rng, dtype):
    seq = np.sort(make_arg(rng, (2, 6), dtype, -5, 5), axis=-1)
    vals = make_arg(rng, (2, 4), dtype, -6, 6)
    vals[0, :2] = seq[0, 1], seq[0, 4]  # exact hits tell the sides apart
    return [Sample((seq, vals), {"side": "left"}),
            Sample((seq, vals), {"side": "right", "out_type": tx.int64})]


def _ss_ref(seq, vals, side="left", out_type=tx.int32):
    out = np.stack([np.searchsorted(s, v, side) for s, v in zip(seq, vals)])
    return out.astype(tx.as_dtype(out_type).np_dtype)


def _hist_samples(rng, dtype):
    v = make_arg(rng, (3, 5), dtype, -2, 12)
    return [Sample((v, np.array([0, 10], dtype.np_dtype)), {"nbins": 4}),
            Sample((v, np.array([-1, 9], dtype.np_dtype)), {"nbins": 7})]


def _hist_ref(values, value_range, nbins=100):
    lo, hi = (float(v) for v in value_range)
    w = values.reshape(-1).astype(np.float64)
    idx = np.minimum((np.maximum(w, lo) - lo) / ((hi - lo) / nbins), nbins - 1).astype(int)
    return np.bincount(idx, minlength=nbins).astype(np.int32)


def _bins_ref(values, value_range, nbins=100):
    lo, hi = value_range.astype(values.dtype)
    scaled = (values - lo) / (hi - lo)
    return np.clip(np.floor(values.dtype.type(nbins) * scaled), 0, nbins - 1).astype(np.int32)


# ---------------------------------------------------------------- space / batch / patches
def _s2b_ref(x, block, pads):
    m = len(block)
    x = np.pad(x, [(0, 0), *map(tuple, pads)] + [(0, 0)] * (x.ndim - 1 - m))
    out = []
    for offs in np.ndindex(*block):  # the block offset is the batch dim's major part
        sl = [slice(None)] + [slice(o, None, b) for o, b in zip(offs, block)]
        out.append(x[tuple(sl)])
    return np.concatenate(out, 0)


def _s2b_samples(rng, dtype):
    return [Sample((make_arg(rng, (2, 4, 3, 2), dtype), [2, 3], [[0, 2], [1, 2]]), {}),
            Sample((make_arg(rng, (1, 6), dtype), [3], [[0, 0]]), {})]


def _b2s_ref(x, block, crops):
    m = len(block)
    nb = int(np.prod(block))
    n = x.shape[0] // nb
    full = [d * b for d, b in zip(x.shape[1:m + 1], block)]
    out = np.zeros((n, *full, *x.shape[m + 1:]), x.dtype)
    for k, offs in enumerate(np.ndindex(*block)):
        sl = [slice(None)] + [slice(o, None, b) for o, b in zip(offs, block)]
        out[tuple(sl)] = x[k * n:(k + 1) * n]
    crop = [slice(None)] + [slice(lo, d - hi) for (lo, hi), d in zip(crops, full)]
    return out[tuple(crop)]


def _b2s_samples(rng, dtype):
    return [Sample((make_arg(rng, (12, 2, 3, 1), dtype), [2, 3], [[1, 0], [2, 1]]), {}),
            Sample((make_arg(rng, (4, 3), dtype), [2], [[0, 1]]), {})]


def _patches_ref(x, ksizes, strides, padding):
    k, s = ksizes[1:4], strides[1:4]
    if padding == "SAME":
        outs = [-(-n // st) for n, st in zip(x.shape[1:4], s)]
        tot = [max((o - 1) * st + kk - n, 0) for o, st, kk, n in zip(outs, s, k, x.shape[1:4])]
        x = np.pad(x, [(0, 0)] + [(t // 2, t - t // 2) for t in tot] + [(0, 0)])
    else:
        outs = [(n - kk) // st + 1 for n, kk, st in zip(x.shape[1:4], k, s)]
    out = np.zeros((x.shape[0], *outs, int(np.prod(k)) * x.shape[4]), x.dtype)
    for p, r, c in np.ndindex(*outs):
        win = x[:, p * s[0]:p * s[0] + k[0], r * s[1]:r * s[1] + k[1], c * s[2]:c * s[2] + k[2]]
        out[:, p, r, c] = win.reshape(x.shape[0], -1)
    return out


def _patches_samples(rng, dtype):
    x = make_arg(rng, (1, 2, 3, 5, 2), dtype)
    return [Sample((x,), {"ksizes": [1, 1, 2, 2, 1], "strides": [1, 1, 2, 2, 1],
                          "padding": p}) for p in ("VALID", "SAME")]


def _pad_ref(x, paddings, mode="CONSTANT", constant_values=0):
    return np.pad(x, paddings, mode.lower())


def _pad_samples(rng, dtype):
    x = make_arg(rng, (3, 4), dtype)
    return [Sample((x, [[2, 1], [3, 0]]), {"mode": "REFLECT"}),
            Sample((x, [[3, 3], [1, 4]]), {"mode": "SYMMETRIC", "constant_values": 7})]


# ---------------------------------------------------------------- clipping
def _clip_norm_ref(t, clip_norm, axes=None):
    w = _wide(t)
    n = np.sqrt(np.sum(w * w, axis=None if axes is None else tuple(axes), keepdims=True))
    return (w * clip_norm / np.maximum(n, clip_norm)).astype(t.dtype)


def _clip_norm_samples(rng, dtype):
    x = make_arg(rng, (3, 4), dtype)
    x[1] = 0
    return [Sample((x, 1.5), {}), Sample((x, 1.0), {"axes": [1]})]


def _global(a, b, clip_norm):
    out, norm = tx.clip_by_global_norm([a, None, b], clip_norm)
    return out[0], out[2], norm


def _global_ref(a, b, clip_norm):
    norm = np.sqrt(np.sum(_wide(a) ** 2) + np.sum(_wide(b) ** 2))
    scale = clip_norm / max(norm, clip_norm)
    return (a * scale).astype(a.dtype), (b * scale).astype(b.dtype), np.asarray(norm, a.dtype)


def _global_samples(rng, dtype):
    return [Sample((make_arg(rng, (2, 3), dtype), make_arg(rng, (4,), dtype), 2.0), {}),
            Sample((make_arg(rng, (2, 3), dtype), make_arg(rng, (4,), dtype), 50.0), {})]


# ---------------------------------------------------------------- convolutions
_DN = {3: ("NWC", "WIO", "NWC"), 4: ("NHWC", "HWIO", "NHWC"), 5: ("NDHWC", "DHWIO", "NDHWC")}


def _jconv(x, w, strides, padding, groups=1):
    pad = padding if isinstance(padding, str) else [tuple(p) for p in padding]
    return jax.lax.conv_general_dilated(  # float32: jax runs without x64 here
        x, w, strides, pad,
        dimension_numbers=_DN[x.ndim], feature_group_count=groups)


def _np_conv(x, w, strides, pads, groups):
    """Channels-last N-d convolution in float64 over sliding windows, with feature groups."""
    n = x.ndim - 2
    xp = np.pad(_wide(x), [(0, 0), *pads, (0, 0)])
    k = w.shape[:n]
    win = np.lib.stride_tricks.sliding_window_view(xp, k, axis=tuple(range(1, n + 1)))
    win = win[(slice(None), *(slice(None, None, s) for s in strides))]  # [B, *out, C, *k]
    cin, cout = w.shape[n], w.shape[n + 1]
    outs = []
    for g in range(groups):
        part = win[..., g * cin:(g + 1) * cin, *(slice(None),) * n]
        wg = _wide(w)[..., g * (cout // groups):(g + 1) * (cout // groups)]
        # move the window axes before the channel axis to match w's [*k, cin, cout] order
        part = np.moveaxis(part, n + 1, -1)
        outs.append(np.tensordot(part, wg, axes=n + 1))
    return np.concatenate(outs, -1)


def _conv_ref(x, w, strides, padding, explicit_paddings=(), groups=1):
    n = x.ndim - 2
    if padding == "EXPLICIT":
        pads = [tuple(p) for p in np.asarray(explicit_paddings).reshape(-1, 2)[1:-1]]
    elif padding == "SAME":
        pads = []
        for d, kk, s in zip(x.shape[1:-1], w.shape[:n], strides[1:-1]):
            tot = max((-(-d // s) - 1) * s + kk - d, 0)
            pads.append((tot // 2, tot - tot // 2))
    else:
        pads = [(0, 0)] * n
    return _np_conv(x, w, strides[1:-1], pads, groups).astype(x.dtype)


def _conv_samples(rng, dtype):
    return [
        Sample((make_arg(rng, (2, 6, 5, 4), dtype), make_arg(rng, (3, 2, 4, 3), dtype),
                [1, 2, 1, 1], "SAME"), {}),
        Sample((make_arg(rng, (1, 7, 4), dtype), make_arg(rng, (3, 2, 6), dtype),
                [1, 1, 1], "EXPLICIT"), {"explicit_paddings": [0, 0, 2, 1, 0, 0], "groups": 2}),
    ]


def _bp_ref(which):
    def ref(x, w, dy, strides, padding):
        _, vjp = jax.vjp(lambda a, b: _jconv(a, b, strides[1:3], padding), x, w)
        dx, dw = vjp(dy)
        return np.asarray(dw if which == "filter" else dx).astype(x.dtype)

    return ref


def _bp_samples(rng, dtype):
    x, w = make_arg(rng, (2, 5, 6, 3), dtype), make_arg(rng, (3, 2, 3, 4), dtype)
    return [Sample((x, w, make_arg(rng, (2, 3, 6, 4), dtype), [1, 2, 1, 1], "SAME"), {}),
            Sample((x, w, make_arg(rng, (2, 3, 5, 4), dtype), [1, 1, 1, 1], "VALID"), {})]


ENTRIES = [
    OpInfo("roll", tx.roll, _roll_ref, _roll_samples, F32, ops=("gather",)),
    OpInfo("repeat", tx.repeat, _repeat_ref, _repeat_samples, F32, ops=("gather",),
           grad=COMPOSITE),
    OpInfo("meshgrid", _meshgrid, _meshgrid_ref, _meshgrid_samples, F32,
           ops=("broadcast_to",), grad=COMPOSITE),
    OpInfo("sequence_mask", tx.sequence_mask, _seq_mask_ref, _seq_mask_samples, (tx.int32,),
           ops=("compare",)),
    OpInfo("reverse_sequence", tx.reverse_sequence, _revseq_ref, _revseq_samples, F32,
           ops=("gather",), grad=COMPOSITE),
    OpInfo("unravel_index", tx.unravel_index, _unravel_ref, _unravel_samples, (tx.int32,),
           ops=("remainder",)),
    OpInfo("dynamic_stitch", _stitch, _stitch_ref, _stitch_samples, F32, ops=("gather",),
           grad=COMPOSITE),
    OpInfo("broadcast_dynamic_shape", tx.broadcast_dynamic_shape, _bshape_ref,
           _bshape_samples, (tx.int32,), ops=("select",)),
    OpInfo("parallel_stack", _pstack, lambda values: np.stack(values), _pstack_samples, F32,
           ops=("concatenate",), grad=COMPOSITE),
    OpInfo("scalar_mul", tx.scalar_mul, lambda s, x: s * x, _scalar_mul_samples, F32,
           ops=("multiply",), grad=COMPOSITE),
    OpInfo("searchsorted", tx.searchsorted, _ss_ref, _ss_samples, F32_I32,
           grad="integer output"),
    OpInfo("histogram_fixed_width", tx.histogram_fixed_width, _hist_ref, _hist_samples,
           F32_I32, grad="integer output"),
    OpInfo("histogram_fixed_width_bins", tx.histogram_fixed_width_bins, _bins_ref,
           _hist_samples, F32, grad="integer output"),
    OpInfo("space_to_batch_nd", tx.space_to_batch_nd, _s2b_ref, _s2b_samples, F32,
           ops=("pad", "transpose"), grad=COMPOSITE),
    OpInfo("batch_to_space", tx.batch_to_space, _b2s_ref, _b2s_samples, F32,
           ops=("transpose", "slice"), grad=COMPOSITE),
    OpInfo("extract_volume_patches", tx.extract_volume_patches, _patches_ref, _patches_samples,
           F32, ops=("slice", "concatenate"), grad=COMPOSITE),
    OpInfo("pad_mirror", tx.pad, _pad_ref, _pad_samples, F32, ops=("gather",),
           grad=COMPOSITE),
    OpInfo("clip_by_norm", tx.clip_by_norm, _clip_norm_ref, _clip_norm_samples, F32,
           grad="kinks: the norm is clipped at clip_norm"),
    OpInfo("clip_by_global_norm", _global, _global_ref, _global_samples, F32, ops=("sqrt",)),
    OpInfo("conv", tx.conv, _conv_ref, _conv_samples, F32, ops=("convolution",),
           tol={"float32": (1e-4, 1e-4)}, grad=COMPOSITE),
    OpInfo("conv2d_backprop_filter_v2", tx.conv2d_backprop_filter_v2, _bp_ref("filter"),
           _bp_samples, F32, tol={"float32": (1e-4, 1e-4)}, grad="a gradient already"),
    OpInfo("conv2d_backprop_input_v2", tx.conv2d_backprop_input_v2, _bp_ref("input"),
           _bp_samples, F32, tol={"float32": (1e-4, 1e-4)}, grad="a gradient already"),
]
