"""Linear algebra ops: `dot_general` (batched contraction, StableHLO's dot_general)."""
from __future__ import annotations

import numpy as np
from jaxlib.mlir.dialects import stablehlo as hlo

from .. import autodiff as A
from ..ir.types import TensorType, dims_compatible
from ..lowering import helpers as H
from ..registry import PROPAGATES_NONFINITE, PURE, OpDef, OpTypeError, register
from .common import check_kind, same_dtype


def _check_dims(t: TensorType, dims: tuple, what: str) -> None:
    if not isinstance(dims, tuple) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < t.rank for d in dims
    ):
        raise OpTypeError(f"{what} dimensions {dims!r} out of range for {t}")
    if len(set(dims)) != len(dims):
        raise OpTypeError(f"{what} dimensions {dims} repeat for {t}")


def _free_dims(rank: int, batch: tuple, contract: tuple) -> list[int]:
    return [d for d in range(rank) if d not in batch and d not in contract]


def _merge(a, b):
    return b if a is None else a


def _dot_general_infer(
    lhs: TensorType, rhs: TensorType, *, lhs_batch: tuple, rhs_batch: tuple,
    lhs_contract: tuple, rhs_contract: tuple,
) -> TensorType:
    dt = same_dtype(lhs, rhs)
    check_kind(lhs, "fiuc")
    _check_dims(lhs, lhs_batch + lhs_contract, "lhs batch/contracting")
    _check_dims(rhs, rhs_batch + rhs_contract, "rhs batch/contracting")
    if len(lhs_batch) != len(rhs_batch) or len(lhs_contract) != len(rhs_contract):
        raise OpTypeError(
            f"batch/contracting dimension counts differ: {lhs} @ {rhs} "
            f"(batch {lhs_batch} vs {rhs_batch}, contracting {lhs_contract} vs {rhs_contract})"
        )
    for what, ld, rd in (("batch", lhs_batch, rhs_batch),
                         ("contracting", lhs_contract, rhs_contract)):
        for i, j in zip(ld, rd):
            if not dims_compatible(lhs.shape[i], rhs.shape[j]):
                raise OpTypeError(
                    f"{what} dimensions differ: {lhs} @ {rhs} "
                    f"(lhs dim {i} is {lhs.shape[i]}, rhs dim {j} is {rhs.shape[j]})"
                )
    batch = [_merge(lhs.shape[i], rhs.shape[j]) for i, j in zip(lhs_batch, rhs_batch)]
    lfree = [lhs.shape[d] for d in _free_dims(lhs.rank, lhs_batch, lhs_contract)]
    rfree = [rhs.shape[d] for d in _free_dims(rhs.rank, rhs_batch, rhs_contract)]
    return TensorType(dt, tuple(batch + lfree + rfree))


def _dot_general_lower(ctx, lhs, rhs, *, lhs_batch, rhs_batch, lhs_contract, rhs_contract):
    dn = hlo.DotDimensionNumbers.get(
        lhs_batching_dimensions=list(lhs_batch),
        rhs_batching_dimensions=list(rhs_batch),
        lhs_contracting_dimensions=list(lhs_contract),
        rhs_contracting_dimensions=list(rhs_contract),
    )
    return hlo.dot_general(H.ir_type(ctx.type_out), lhs, rhs, dn)


def _to_bmk(x: np.ndarray, batch: tuple, free: list, contract: tuple, contract_last: bool):
    """Transpose and reshape to [B, F, K] (or [B, K, F] when not contract_last)."""
    order = [*batch, *free, *contract] if contract_last else [*batch, *contract, *free]
    t = np.transpose(x, order)
    b = int(np.prod([x.shape[d] for d in batch], dtype=np.int64))
    f = int(np.prod([x.shape[d] for d in free], dtype=np.int64))
    k = int(np.prod([x.shape[d] for d in contract], dtype=np.int64))
    return t.reshape((b, f, k) if contract_last else (b, k, f))


def _dot_general_reference(lhs, rhs, *, lhs_batch, rhs_batch, lhs_contract, rhs_contract):
    dt = lhs.dtype
    if dt.kind in "fc":  # exact-ish reference: accumulate in double precision, round once
        wide = np.complex128 if dt.kind == "c" else np.float64
        lhs, rhs = lhs.astype(wide), rhs.astype(wide)
    lfree = _free_dims(lhs.ndim, lhs_batch, lhs_contract)
    rfree = _free_dims(rhs.ndim, rhs_batch, rhs_contract)
    a = _to_bmk(lhs, lhs_batch, lfree, lhs_contract, True)
    b = _to_bmk(rhs, rhs_batch, rfree, rhs_contract, False)
    with np.errstate(all="ignore"):
        out = np.matmul(a, b)
    shape = ([lhs.shape[d] for d in lhs_batch] + [lhs.shape[d] for d in lfree]
             + [rhs.shape[d] for d in rfree])
    return out.reshape(shape).astype(dt)


def _dot_general_vjp(ctx, g, *, lhs_batch, rhs_batch, lhs_contract, rhs_contract):
    """Contract the cotangent with the other operand, then transpose into the operand's layout.

    The output's dims are [batch..., lhs free..., rhs free...].
    """
    lhs, rhs = ctx.inputs
    tl, tr = ctx.types_in
    lfree = _free_dims(tl.rank, lhs_batch, lhs_contract)
    rfree = _free_dims(tr.rank, rhs_batch, rhs_contract)
    nb, nl, nr = len(lhs_batch), len(lfree), len(rfree)
    batch = tuple(range(nb))
    dl = dr = None
    if ctx.needs[0]:
        # g [B, lF, rF] . rhs over rF -> [B, lF, rhs contracting dims in rhs order]
        r = A.op("dot_general", g, rhs, lhs_batch=batch, rhs_batch=tuple(rhs_batch),
                 lhs_contract=tuple(range(nb + nl, nb + nl + nr)), rhs_contract=tuple(rfree))
        order = sorted(rhs_contract)
        pos = {d: i for i, d in enumerate(lhs_batch)}
        pos.update({d: nb + i for i, d in enumerate(lfree)})
        pos.update({ld: nb + nl + order.index(rd) for ld, rd in zip(lhs_contract, rhs_contract)})
        dl = A.op("transpose", r, perm=tuple(pos[d] for d in range(tl.rank)))
    if ctx.needs[1]:
        # g [B, lF, rF] . lhs over lF -> [B, rF, lhs contracting dims in lhs order]
        r = A.op("dot_general", g, lhs, lhs_batch=batch, rhs_batch=tuple(lhs_batch),
                 lhs_contract=tuple(range(nb, nb + nl)), rhs_contract=tuple(lfree))
        order = sorted(lhs_contract)
        pos = {d: i for i, d in enumerate(rhs_batch)}
        pos.update({d: nb + i for i, d in enumerate(rfree)})
        pos.update({rd: nb + nr + order.index(ld) for ld, rd in zip(lhs_contract, rhs_contract)})
        dr = A.op("transpose", r, perm=tuple(pos[d] for d in range(tr.rank)))
    return dl, dr


dot_general_op = register(
    OpDef(
        "dot_general",
        infer=_dot_general_infer,
        lower=_dot_general_lower,
        reference=_dot_general_reference,
        vjp=_dot_general_vjp,
        traits=frozenset({PURE, PROPAGATES_NONFINITE}),  # inf * 0 = nan: every term counts
    )
)
