"""segment_prod: a scatter-multiply of rows per segment id, with TF's zero-aware gradient."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from ... import autodiff as A
from ...ir.types import I64, TensorType, dims_compatible
from ...lowering import helpers as H
from ...registry import PURE, OpDef, OpTypeError, register
from ..common import check_kind
from ..sorting import segment_scatter


def _infer(data: TensorType, ids: TensorType, *, num_segments: int) -> TensorType:
    check_kind(data, "fiuc", "data: ")
    if not ids.dtype.is_integer or ids.dtype.is_unsigned or ids.dtype.bits < 32:
        raise OpTypeError(f"segment_ids must be int32 or int64, got {ids}")
    if isinstance(num_segments, bool) or not isinstance(num_segments, int) or num_segments < 0:
        raise OpTypeError(f"num_segments must be an int >= 0, got {num_segments!r}")
    if ids.rank > data.rank or not all(
            dims_compatible(a, b) for a, b in zip(ids.shape, data.shape)):
        raise OpTypeError(f"the shape of segment_ids {ids} must be a prefix of data's {data}")
    return data.with_shape((num_segments, *data.shape[ids.rank:]))


def _lower(ctx, data, ids, *, num_segments):
    td, ti = ctx.types_in
    out = ctx.type_out
    if num_segments == 0 or td.num_elements == 0:
        return H.splat(1, out)
    return segment_scatter(data, ids, td, ti, num_segments, 1, hlo.multiply)


def _reference(data, ids, *, num_segments):
    out = np.ones((num_segments, *data.shape[ids.ndim:]), data.dtype)
    flat = ids.reshape(-1).astype(np.int64)
    rows = data.reshape((flat.size, *data.shape[ids.ndim:]))
    keep = (flat >= 0) & (flat < num_segments)
    with np.errstate(all="ignore"):
        np.multiply.at(out, flat[keep], rows[keep])
    return out


def _gather_rows(x, ids, ti: TensorType, inner: tuple, n: int):
    """x[ids] row by row, 0 where an id is out of [0, n) (the rows the forward dropped)."""
    rows = A.op("gather", x, ids, offset_dims=tuple(range(ti.rank, ti.rank + len(inner))),
                collapsed_slice_dims=(0,), operand_batching_dims=(),
                start_indices_batching_dims=(), start_index_map=(0,), index_vector_dim=ti.rank,
                slice_sizes=(1, *inner))
    ok = A.op("and", A.compare(ids, A.const(0, ti.dtype), "GE"),
              A.compare(ids, A.const(n, ti.dtype), "LT"))
    if inner:
        ok = A.op("expand_dims", ok, axes=tuple(range(ti.rank, ti.rank + len(inner))))
        ok = A.op("broadcast_like", ok, rows)
    return A.select(ok, rows, A.zeros_like(A.type_of(rows), rows))


def _vjp(ctx, g, *, num_segments):
    """TF's rule: each row gets the product of the others in its segment — the segment product
    over the row when it is nonzero; the product of the nonzero rows when it is the segment's
    only zero; 0 when the segment holds two zeros or more (no division by zero anywhere)."""
    data, ids = ctx.inputs
    td, ti = ctx.types_in
    if num_segments == 0 or td.num_elements == 0:
        return A.zeros_like(td, data), None
    inner = tuple(td.shape[ti.rank:])
    is_zero = A.compare(data, A.const(0, td.dtype), "EQ")
    zeros = A.op("segment_sum", A.op("convert", is_zero, dtype=I64), ids,
                 num_segments=num_segments)
    g = A.select(A.compare(zeros, A.const(1, I64), "GT"), A.zeros_like(A.type_of(g), g), g)
    one = A.ones_like(td, data)
    nonzero_prod = A.op("segment_prod", A.select(is_zero, one, data), ids,
                        num_segments=num_segments)
    out = ctx.outputs[0]
    safe = A.select(is_zero, one, data)
    others = A.select(is_zero, _gather_rows(nonzero_prod, ids, ti, inner, num_segments),
                      A.div(_gather_rows(out, ids, ti, inner, num_segments), safe))
    return A.mul(_gather_rows(g, ids, ti, inner, num_segments), others), None


segment_prod_op = register(OpDef("segment_prod", _infer, _lower, _reference, _vjp,
                                 frozenset({PURE})))
