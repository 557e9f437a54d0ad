"""Factories for op families (unary/binary elementwise) and shared infer helpers."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import autodiff
from ..ir.types import DType, TensorType, broadcast_shapes
from ..lowering import helpers as H
from ..registry import COMMUTATIVE, ELEMENTWISE, PURE, OpDef, OpTypeError, register

KINDS = {"f": "floating", "i": "signed integer", "u": "unsigned integer", "b": "bool",
         "c": "complex"}


def is_float_array(a: np.ndarray) -> bool:
    """A numpy array of a floating dtype, bfloat16 included (numpy's kind for it is "V")."""
    if a.dtype.kind != "V":
        return a.dtype.kind == "f"
    try:
        return DType.from_numpy(a.dtype).is_floating
    except TypeError:
        return False


def check_kind(t: TensorType, kinds: str, what: str = "") -> None:
    if t.dtype.kind not in kinds:
        allowed = ", ".join(KINDS[k] for k in kinds)
        raise OpTypeError(f"{what}expected a {allowed} tensor, got {t}")


def normalize_axis(axis: int, rank: int, t: TensorType | None = None) -> int:
    if not -rank <= axis < max(rank, 1):
        shown = f" for {t}" if t is not None else ""
        raise OpTypeError(f"axis {axis} is out of range for rank {rank}{shown}")
    return axis % rank if rank else 0


def broadcast_types(a: TensorType, b: TensorType, sep: str = "and") -> tuple:
    shape = broadcast_shapes(a.shape, b.shape)
    if shape is None:
        raise OpTypeError(f"incompatible shapes for broadcasting: {a} {sep} {b}")
    return shape


def same_dtype(*ts: TensorType) -> DType:
    d = ts[0].dtype
    for t in ts[1:]:
        if t.dtype is not d:
            shown = ", ".join(str(x) for x in ts)
            raise OpTypeError(
                f"dtypes differ: {shown} (tfx does not promote silently; use tx.cast)"
            )
    return d


def elementwise_unary(
    name: str,
    np_fn: Callable,
    hlo_fn: Callable,
    kinds: str = "f",
    out_dtype: DType | None = None,
    *,
    vjp,
    traits: frozenset = frozenset(),
) -> OpDef:
    """A shape-preserving unary op allowed on dtypes of the given kinds."""

    def infer(x: TensorType) -> TensorType:
        check_kind(x, kinds)
        return x if out_dtype is None else x.with_dtype(out_dtype)

    def lower(ctx, x):
        return hlo_fn(x)

    def reference(x):
        dt = out_dtype.np_dtype if out_dtype is not None else x.dtype
        with np.errstate(all="ignore"):
            return np.asarray(np_fn(x)).astype(dt)

    return register(
        OpDef(name, infer, lower, reference, vjp, frozenset({ELEMENTWISE, PURE}) | traits)
    )


def elementwise_binary(
    name: str,
    np_fn: Callable,
    hlo_fn: Callable,
    kinds: str = "fiub",
    commutative: bool = False,
    out_dtype: DType | None = None,
    *,
    vjp,
    traits: frozenset = frozenset(),
) -> OpDef:
    """A NumPy-broadcasting binary op; both operands must have the same dtype."""

    def infer(x: TensorType, y: TensorType) -> TensorType:
        dt = same_dtype(x, y)
        check_kind(x, kinds)
        return TensorType(out_dtype or dt, broadcast_types(x, y))

    def lower(ctx, x, y):
        tx, ty = ctx.types_in
        out = ctx.type_out
        x = H.broadcast(x, tx, out)
        y = H.broadcast(y, ty, out)
        return hlo_fn(ctx, x, y) if getattr(hlo_fn, "takes_ctx", False) else hlo_fn(x, y)

    def reference(x, y):
        dt = out_dtype.np_dtype if out_dtype is not None else x.dtype
        with np.errstate(all="ignore"):
            return np.asarray(np_fn(x, y)).astype(dt)

    traits = {ELEMENTWISE, PURE} | ({COMMUTATIVE} if commutative else set()) | traits
    if callable(vjp):
        vjp = autodiff.unbroadcast(vjp)
    return register(OpDef(name, infer, lower, reference, vjp, frozenset(traits)))
