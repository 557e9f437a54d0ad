"""Indexing ops: `gather` and `scatter`, StableHLO's, with general dimension numbers.

Out-of-bounds indices follow XLA: gather clamps each start index so the whole slice is in
bounds; scatter skips an update window that is not entirely in bounds. The numpy references do
the same (they also drive constant folding), and the public functions check indices on the host
in eager mode, so only compiled code ever sees these semantics.
"""
from __future__ import annotations

import numpy as np
from jaxlib.mlir import ir
from jaxlib.mlir.dialects import stablehlo as hlo

from .. import autodiff as A
from ..ir.graph import ConstArray
from ..ir.types import TensorType, dims_compatible
from ..lowering import helpers as H
from ..registry import PURE, OpDef, OpTypeError, register
from .common import check_kind, same_dtype

SCATTER_MODES = ("update", "add", "max", "min")


# ---------------------------------------------------------------- attribute checks
def _dims(v, what: str, bound: int, t: TensorType, sort: bool = False) -> tuple:
    """A tuple of distinct ints in [0, bound) (sorted if asked)."""
    if not isinstance(v, tuple) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < bound for d in v
    ):
        raise OpTypeError(f"{what}={v!r} must be a tuple of ints in [0, {bound}) ({t})")
    if len(set(v)) != len(v) or (sort and list(v) != sorted(v)):
        raise OpTypeError(f"{what}={v!r} must be distinct{' and sorted' if sort else ''} ({t})")
    return v


def _index_vector(idx: TensorType, ivd, n_map: int, what: str) -> tuple:
    """Checks index_vector_dim; returns the batch (non index-vector) dims of `idx`."""
    check_kind(idx, "iu", "indices: ")
    if not isinstance(ivd, int) or isinstance(ivd, bool) or not 0 <= ivd <= idx.rank:
        raise OpTypeError(f"index_vector_dim={ivd!r} out of range for indices {idx}")
    k = idx.shape[ivd] if ivd < idx.rank else 1
    if k is not None and k != n_map:
        raise OpTypeError(f"indices {idx} hold index vectors of size {k} (dim {ivd}) but "
                          f"{what} has {n_map} entries")
    return tuple(d for i, d in enumerate(idx.shape) if i != ivd)


def _batching(x: TensorType, xdims: tuple, idx: TensorType, idims: tuple, ivd: int,
              names: tuple[str, str]) -> None:
    _dims(idims, names[1], idx.rank, idx)
    if ivd in idims or len(xdims) != len(idims):
        raise OpTypeError(f"{names[0]}={xdims} and {names[1]}={idims} must pair up, without "
                          f"index_vector_dim {ivd} (operand {x}, indices {idx})")
    for a, b in zip(xdims, idims):
        if not dims_compatible(x.shape[a], idx.shape[b]):
            raise OpTypeError(f"batching dims differ: operand {x} dim {a} vs indices {idx} "
                              f"dim {b}")


def _place(rank: int, placed: tuple, placed_sizes: list, rest: list) -> tuple:
    """A shape of `rank` dims: `placed_sizes` at the positions `placed`, `rest` elsewhere."""
    it_p, it_r = iter(placed_sizes), iter(rest)
    return tuple(next(it_p) if i in placed else next(it_r) for i in range(rank))


def _window_dims(rank: int, *skip: tuple) -> list[int]:
    return [d for d in range(rank) if not any(d in s for s in skip)]


# ---------------------------------------------------------------- gather
def _gather_infer(x: TensorType, idx: TensorType, *, offset_dims: tuple,
                  collapsed_slice_dims: tuple, operand_batching_dims: tuple,
                  start_indices_batching_dims: tuple, start_index_map: tuple,
                  index_vector_dim: int, slice_sizes: tuple) -> TensorType:
    batch = _index_vector(idx, index_vector_dim, len(start_index_map), "start_index_map")
    if not isinstance(slice_sizes, tuple) or len(slice_sizes) != x.rank:
        raise OpTypeError(f"slice_sizes={slice_sizes!r} must have {x.rank} entries for {x}")
    sizes = []
    for d, (s, n) in enumerate(zip(slice_sizes, x.shape)):
        if s is None:  # NOTE: None is "the whole dim", so unknown dims need no size here
            sizes.append(n)
        elif not isinstance(s, int) or isinstance(s, bool) or s < 0 or (n is not None and s > n):
            raise OpTypeError(f"slice_sizes[{d}]={s!r} must be an int in [0, {n}] for {x}")
        else:
            sizes.append(s)
    _dims(collapsed_slice_dims, "collapsed_slice_dims", x.rank, x, sort=True)
    _dims(operand_batching_dims, "operand_batching_dims", x.rank, x, sort=True)
    if set(collapsed_slice_dims) & set(operand_batching_dims):
        raise OpTypeError(f"collapsed_slice_dims={collapsed_slice_dims} and operand_batching_"
                          f"dims={operand_batching_dims} overlap ({x})")
    for d in collapsed_slice_dims + operand_batching_dims:
        if slice_sizes[d] not in (0, 1):
            raise OpTypeError(f"slice_sizes[{d}]={slice_sizes[d]!r} must be 0 or 1: dim {d} is "
                              f"collapsed or batching ({x})")
    _dims(start_index_map, "start_index_map", x.rank, x)
    if set(start_index_map) & set(operand_batching_dims):
        raise OpTypeError(f"start_index_map={start_index_map} names batching dims ({x})")
    _batching(x, operand_batching_dims, idx, start_indices_batching_dims, index_vector_dim,
              ("operand_batching_dims", "start_indices_batching_dims"))
    window = _window_dims(x.rank, collapsed_slice_dims, operand_batching_dims)
    rank = len(batch) + len(window)
    _dims(offset_dims, "offset_dims", rank, x, sort=True)
    if len(offset_dims) != len(window):
        raise OpTypeError(f"offset_dims={offset_dims} must name the {len(window)} uncollapsed "
                          f"dims of {x}")
    return x.with_shape(_place(rank, offset_dims, [sizes[d] for d in window], list(batch)))


def _slice_sizes(x_shape: tuple, slice_sizes: tuple) -> list[int]:
    return [n if s is None else s for s, n in zip(slice_sizes, x_shape)]


def _gather_lower(ctx, x, idx, *, offset_dims, collapsed_slice_dims, operand_batching_dims,
                  start_indices_batching_dims, start_index_map, index_vector_dim, slice_sizes):
    dn = hlo.GatherDimensionNumbers.get(
        offset_dims=list(offset_dims), collapsed_slice_dims=list(collapsed_slice_dims),
        operand_batching_dims=list(operand_batching_dims),
        start_indices_batching_dims=list(start_indices_batching_dims),
        start_index_map=list(start_index_map), index_vector_dim=index_vector_dim,
    )
    sizes = _slice_sizes(ctx.types_in[0].shape, slice_sizes)
    return hlo.gather(x, idx, dn, sizes, indices_are_sorted=False,
                      results=[H.ir_type(ctx.type_out)])


def _index_vectors(idx: np.ndarray, ivd: int) -> np.ndarray:
    """Indices as int64 [batch..., K], the index vector last."""
    idx = idx[..., None] if ivd == idx.ndim else np.moveaxis(idx, ivd, -1)
    return idx.astype(np.int64)


def _operand_indices(x_shape: tuple, iv: np.ndarray, ivd: int, start_map: tuple,
                     xbatch: tuple, ibatch: tuple, window: list, wsizes: list, clamp: bool):
    """Per operand dim, the operand index of each (batch..., window...) element; and which
    batch positions have their whole window in bounds."""
    bshape = iv.shape[:-1]
    nb, nw = len(bshape), len(window)
    ok = np.ones(bshape, bool)
    comps = []
    for d, n in enumerate(x_shape):
        w = wsizes[window.index(d)] if d in window else 1
        comp = np.zeros(bshape, np.int64)
        if d in start_map:
            comp = iv[..., start_map.index(d)]
            ok &= (comp >= 0) & (comp <= n - w)
            if clamp:
                comp = np.clip(comp, 0, max(n - w, 0))
        if d in xbatch:
            b = ibatch[xbatch.index(d)]
            b -= b > ivd  # the index vector dim was moved to the end
            comp = comp + np.arange(bshape[b]).reshape([-1 if i == b else 1 for i in range(nb)])
        comp = np.broadcast_to(comp, bshape).reshape(bshape + (1,) * nw)
        if d in window:
            j = window.index(d)
            comp = comp + np.arange(w).reshape([w if i == j else 1 for i in range(nw)])
        comps.append(comp)
    return np.broadcast_arrays(*comps) if comps else [], ok


def _gather_reference(x, idx, *, offset_dims, collapsed_slice_dims, operand_batching_dims,
                      start_indices_batching_dims, start_index_map, index_vector_dim,
                      slice_sizes):
    sizes = _slice_sizes(x.shape, slice_sizes)
    window = _window_dims(x.ndim, collapsed_slice_dims, operand_batching_dims)
    iv = _index_vectors(idx, index_vector_dim)
    comps, _ = _operand_indices(x.shape, iv, index_vector_dim, start_index_map,
                                operand_batching_dims, start_indices_batching_dims, window,
                                [sizes[d] for d in window], clamp=True)
    nb = iv.ndim - 1
    shape = iv.shape[:-1] + tuple(sizes[d] for d in window)
    out = np.asarray(x[tuple(comps)]) if comps else np.broadcast_to(x, shape)
    rank = out.ndim
    perm = _place(rank, offset_dims, list(range(nb, rank)), list(range(nb)))
    return np.ascontiguousarray(np.transpose(out, perm))


def _gather_vjp(ctx, g, *, offset_dims, collapsed_slice_dims, operand_batching_dims,
                start_indices_batching_dims, start_index_map, index_vector_dim, slice_sizes):
    """Scatter-add the cotangent back, at the clamped starts the forward gather really used."""
    x, idx = ctx.inputs
    tx, ti = ctx.types_in
    sizes = [slice_sizes[d] for d in start_index_map]
    idx = _clamp(idx, ti, index_vector_dim, _last_starts(x, tx, start_index_map, sizes, ti,
                                                         index_vector_dim))
    zeros = A.zeros_like(tx, x)
    return (A.op("scatter", zeros, idx, g, update_window_dims=offset_dims,
                 inserted_window_dims=collapsed_slice_dims,
                 input_batching_dims=operand_batching_dims,
                 scatter_indices_batching_dims=start_indices_batching_dims,
                 scatter_dims_to_operand_dims=start_index_map,
                 index_vector_dim=index_vector_dim, mode="add"), None)


def _bounds(ti: TensorType, ivd: int, values: list) -> object:
    """Per index-vector component constants, shaped to broadcast against the indices."""
    if ivd == ti.rank:
        return A.const(values[0], ti.dtype)
    shape = [1] * ti.rank
    shape[ivd] = len(values)
    return A.op("constant", value=ConstArray(np.asarray(values, ti.dtype.np_dtype).reshape(shape)))


def _last_starts(x, tx: TensorType, dims: tuple, sizes: list, ti: TensorType, ivd: int):
    """The largest in-bounds start, dim - window size, for each indexed operand dim (a window
    size None is the whole dim), shaped to broadcast against the indices. Dims unknown at
    trace time are read with shape_of (static again once the graph is specialized)."""
    if all(tx.shape[d] is not None or s is None for d, s in zip(dims, sizes)):
        return _bounds(ti, ivd, [0 if s is None else tx.shape[d] - s for d, s in zip(dims, sizes)])
    shape = A.op("convert", A.op("shape_of", x), dtype=ti.dtype)
    parts = [A.sub(A.op("slice", shape, begin=(d,), end=(d + 1,), strides=(1,)),
                   A.const(s, ti.dtype)) if s is not None
             else A.op("constant", value=ConstArray(np.zeros(1, ti.dtype.np_dtype)))
             for d, s in zip(dims, sizes)]
    v = parts[0] if len(parts) == 1 else A.op("concatenate", *parts, axis=0)
    if ivd == ti.rank:
        return A.op("reshape", v, shape=())
    return A.op("reshape", v, shape=tuple(len(dims) if k == ivd else 1 for k in range(ti.rank)))


def _clamp(idx, ti: TensorType, ivd: int, hi):
    lo = A.op("maximum", idx, A.const(0, ti.dtype)) if not ti.dtype.is_unsigned else idx
    return A.op("minimum", lo, hi)


gather_op = register(OpDef("gather", _gather_infer, _gather_lower, _gather_reference,
                           _gather_vjp, frozenset({PURE})))


# ---------------------------------------------------------------- scatter
def _scatter_infer(x: TensorType, idx: TensorType, upd: TensorType, *, update_window_dims: tuple,
                   inserted_window_dims: tuple, input_batching_dims: tuple,
                   scatter_indices_batching_dims: tuple, scatter_dims_to_operand_dims: tuple,
                   index_vector_dim: int, mode: str) -> TensorType:
    same_dtype(x, upd)
    if mode not in SCATTER_MODES:
        raise OpTypeError(f"mode={mode!r} must be one of {SCATTER_MODES}")
    if mode != "update":  # (complex values add, but have no order for max/min)
        check_kind(x, "fiuc" if mode == "add" else "fiu", f"mode={mode!r}: ")
    batch = _index_vector(idx, index_vector_dim, len(scatter_dims_to_operand_dims),
                          "scatter_dims_to_operand_dims")
    _dims(inserted_window_dims, "inserted_window_dims", x.rank, x, sort=True)
    _dims(input_batching_dims, "input_batching_dims", x.rank, x, sort=True)
    if set(inserted_window_dims) & set(input_batching_dims):
        raise OpTypeError(f"inserted_window_dims={inserted_window_dims} and input_batching_"
                          f"dims={input_batching_dims} overlap ({x})")
    _dims(scatter_dims_to_operand_dims, "scatter_dims_to_operand_dims", x.rank, x)
    if set(scatter_dims_to_operand_dims) & set(input_batching_dims):
        raise OpTypeError(f"scatter_dims_to_operand_dims={scatter_dims_to_operand_dims} names "
                          f"batching dims ({x})")
    _batching(x, input_batching_dims, idx, scatter_indices_batching_dims, index_vector_dim,
              ("input_batching_dims", "scatter_indices_batching_dims"))
    _dims(update_window_dims, "update_window_dims", upd.rank, upd, sort=True)
    window = _window_dims(x.rank, inserted_window_dims, input_batching_dims)
    if len(update_window_dims) != len(window) or upd.rank != len(window) + len(batch):
        raise OpTypeError(f"updates {upd} must have {len(batch)} scatter dims and "
                          f"{len(window)} window dims (operand {x}, indices {idx})")
    scatter_dims = [d for d in range(upd.rank) if d not in update_window_dims]
    for d, n in zip(scatter_dims, batch):
        if not dims_compatible(upd.shape[d], n):
            raise OpTypeError(f"updates {upd} dim {d} should be {n} to match indices {idx}")
    for d, od in zip(update_window_dims, window):
        u, n = upd.shape[d], x.shape[od]
        if u is not None and n is not None and u > n:
            raise OpTypeError(f"update window dim {d} of {upd} is larger than operand {x} "
                              f"dim {od}")
    return x


_COMBINE = {"add": hlo.add, "max": hlo.maximum, "min": hlo.minimum}


def _scatter_lower(ctx, x, idx, upd, *, update_window_dims, inserted_window_dims,
                   input_batching_dims, scatter_indices_batching_dims,
                   scatter_dims_to_operand_dims, index_vector_dim, mode):
    dn = hlo.ScatterDimensionNumbers.get(
        update_window_dims=list(update_window_dims),
        inserted_window_dims=list(inserted_window_dims),
        input_batching_dims=list(input_batching_dims),
        scatter_indices_batching_dims=list(scatter_indices_batching_dims),
        scattered_dims_to_operand_dims=list(scatter_dims_to_operand_dims),
        index_vector_dim=index_vector_dim,
    )
    op = hlo.ScatterOp([H.ir_type(ctx.type_out)], [x], idx, [upd], dn,
                       indices_are_sorted=False, unique_indices=False)
    scalar = H.ir_type(TensorType(ctx.type_out.dtype, ()))
    block = op.regions[0].blocks.append(scalar, scalar)
    with ir.InsertionPoint(block):
        old, new = block.arguments
        hlo.return_([new if mode == "update" else _COMBINE[mode](old, new)])
    return op.results[0]


_NP_AT = {"add": np.add.at, "max": np.maximum.at, "min": np.minimum.at}


def _scatter_reference(x, idx, upd, *, update_window_dims, inserted_window_dims,
                       input_batching_dims, scatter_indices_batching_dims,
                       scatter_dims_to_operand_dims, index_vector_dim, mode):
    out = np.array(x, copy=True)
    scatter_dims = [d for d in range(upd.ndim) if d not in update_window_dims]
    u = np.transpose(upd, scatter_dims + list(update_window_dims))
    window = _window_dims(x.ndim, inserted_window_dims, input_batching_dims)
    iv = _index_vectors(idx, index_vector_dim)
    wsizes = list(u.shape[iv.ndim - 1:])
    comps, ok = _operand_indices(x.shape, iv, index_vector_dim, scatter_dims_to_operand_dims,
                                 input_batching_dims, scatter_indices_batching_dims, window,
                                 wsizes, clamp=False)
    keep = np.broadcast_to(ok.reshape(ok.shape + (1,) * len(wsizes)), u.shape)
    where = tuple(c[keep] for c in comps)
    if mode == "update":
        out[where] = u[keep]  # NOTE: with repeated indices the last update wins, as XLA CPU
    else:
        _NP_AT[mode](out, where, u[keep])
    return out


def _masked_gather(g, ctx, upd_t: TensorType, attrs: dict):
    """gather(g) at the update windows, zero where scatter skipped an out-of-bounds window."""
    x_t, idx_t = ctx.types_in[0], ctx.types_in[1]
    ivd = attrs["index_vector_dim"]
    uw, sdod = attrs["update_window_dims"], attrs["scatter_dims_to_operand_dims"]
    window = _window_dims(x_t.rank, attrs["inserted_window_dims"], attrs["input_batching_dims"])
    # NOTE: an update window dim unknown at trace time is taken as the operand's whole dim,
    # as in every scatter the public API makes (tensor_scatter_nd_*, scatter_nd).
    wsizes = dict(zip(window, (upd_t.shape[d] for d in uw)))
    sizes = tuple(wsizes.get(d, 1) for d in range(x_t.rank))
    gathered = A.op("gather", g, ctx.inputs[1], offset_dims=uw,
                    collapsed_slice_dims=attrs["inserted_window_dims"],
                    operand_batching_dims=attrs["input_batching_dims"],
                    start_indices_batching_dims=attrs["scatter_indices_batching_dims"],
                    start_index_map=sdod, index_vector_dim=ivd, slice_sizes=sizes)
    hi = _last_starts(ctx.inputs[0], x_t, sdod, [sizes[d] for d in sdod], idx_t, ivd)
    ok = _in_bounds(ctx.inputs[1], idx_t, ivd, hi)
    ok = A.op("expand_dims", ok, axes=tuple(uw)) if uw else ok
    return A.select(ok, gathered, A.const(0, upd_t.dtype)), ok


def _in_bounds(idx, ti: TensorType, ivd: int, hi):
    """True where the whole index vector is within [0, hi] (batch shape of the indices)."""
    ok = A.compare(idx, hi, "LE")
    if not ti.dtype.is_unsigned:
        ok = A.op("and", ok, A.compare(idx, A.const(0, ti.dtype), "GE"))
    if ivd == ti.rank:
        return ok
    return A.op("reduce_and", ok, axes=(ivd,), keepdims=False)


def _scatter_vjp(ctx, g, **attrs):
    """update: the overwritten positions get no gradient; add: the cotangent passes through;
    max/min (TF's rule): split between the operand and the updates that equal the result."""
    x, idx, upd = ctx.inputs
    tx, _, tu = ctx.types_in
    mode = attrs["mode"]
    dims = {k: v for k, v in attrs.items() if k != "mode"}
    dx = du = None
    if mode == "add":
        dx = g
        if ctx.needs[2]:
            du, _ = _masked_gather(g, ctx, tu, attrs)
    elif mode == "update":
        if ctx.needs[0]:
            dx = A.op("scatter", g, idx, A.zeros_like(tu, upd), mode="update", **dims)
        if ctx.needs[2]:
            du, _ = _masked_gather(g, ctx, tu, attrs)
    else:
        out = ctx.outputs[0]
        dt = tx.dtype
        x_ind = A.op("convert", A.compare(x, out, "EQ"), dtype=dt)
        y_out, ok = _masked_gather(out, ctx, tu, attrs)
        hit = A.op("and", A.compare(upd, y_out, "EQ"), A.op("broadcast_like", ok, upd))
        y_ind = A.op("convert", hit, dtype=dt)
        count = A.add(x_ind, A.op("scatter", A.zeros_like(tx, x), idx, y_ind, mode="add", **dims))
        share = A.div(g, count)
        dx = A.mul(share, x_ind)
        if ctx.needs[2]:
            du = A.mul(_masked_gather(share, ctx, tu, attrs)[0], y_ind)
    return dx, None, du


scatter_op = register(OpDef("scatter", _scatter_infer, _scatter_lower, _scatter_reference,
                            _scatter_vjp, frozenset({PURE})))
